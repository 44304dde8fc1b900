"""How simulated phones reach the engine: in the same process, or over MQTT."""

from phone_sim.link.base import EventsListener, Link, Refusal, StateListener

__all__ = ["EventsListener", "Link", "Refusal", "StateListener"]
