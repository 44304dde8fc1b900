"""How simulated phones reach the engine: in the same process, or over MQTT."""

from phone_sim.link.base import (
    EventsListener,
    Interrupted,
    Link,
    NoStatus,
    Refusal,
    StateListener,
    Unreachable,
)

__all__ = [
    "EventsListener",
    "Interrupted",
    "Link",
    "NoStatus",
    "Refusal",
    "StateListener",
    "Unreachable",
]
