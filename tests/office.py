"""Test harness: the example office on an in-memory store with a manual clock.

``Office.do`` runs a command that must be accepted and returns its events rendered as short
strings, ``Office.refuse`` runs one that must be refused and checks that nothing changed.
"""

from __future__ import annotations

import attrs

from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.node import Accepted, Committed, Node, Refused, decode, replay
from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.state import SwitchState
from cti.domain import NodeState
from cti.kernel.refusal import Refusal
from cti.site.model import Site
from cti.store import MemoryStore

HIDDEN = {"call", "cause", "local", "secondary_call"}


def fmt(event: ev.Event) -> str:
    """``kind(cause) call=N key=value ... | dev:state ...`` with None/empty fields left out."""
    parts = [event.KIND]
    if isinstance(event, ev.CallEvent):
        parts[0] += f"({event.cause}) call={event.call}"
        if isinstance(event, ev.Transferred | ev.Conferenced) and event.secondary_call is not None:
            parts.append(f"secondary={event.secondary_call}")
    for field in attrs.fields(type(event)):
        key, value = field.name, getattr(event, field.name)
        if (
            (key in HIDDEN and isinstance(event, ev.CallEvent))
            or value is None
            or value == ()
            or value == ""
        ):
            continue
        if isinstance(value, tuple):
            value = ",".join(map(str, value))
        parts.append(f"{key}={value}")
    text = " ".join(parts)
    if isinstance(event, ev.CallEvent):
        text += " | " + " ".join(f"{x.device}:{x.state}" for x in event.local)
    return text


class Office:
    def __init__(self, site: Site | None = None) -> None:
        self.site = site or load_site()
        self.store = MemoryStore()
        self.clock = ManualClock()
        self.node = Node(self.site, self.store, self.clock)
        self.last_result: dict[str, object] = {}

    @property
    def state(self) -> NodeState:
        return self.node.state

    @property
    def switch(self) -> SwitchState:
        """The call-control part of the state."""
        return self.node.state.calls

    def committed(self) -> list[Committed]:
        """Every event of the log so far, in order."""
        return [decode(r) for r in self.store.read(1)]

    def do(self, command: c.Command) -> list[str]:
        outcome = self.node.execute(command)
        assert isinstance(outcome, Accepted), f"{command!r} refused: {outcome}"
        self.last_result = dict(outcome.result)
        return [fmt(x.event) for x in outcome.events]

    def call_of(self, command: c.Command) -> int:
        """Run a command that must succeed and return the call id of its result."""
        self.do(command)
        call = self.last_result["call"]
        assert isinstance(call, int)
        return call

    def refuse(self, command: c.Command) -> Refusal:
        before, seq = self.node.state, self.store.last_seq()
        outcome = self.node.execute(command)
        assert isinstance(outcome, Refused), f"{command!r} was accepted"
        assert self.node.state is before and self.store.last_seq() == seq
        return outcome.error

    def connections(self, device: str) -> list[tuple[int, str]]:
        return [(call.id, str(st)) for call, st in self.node.state.calls.connections(device)]

    def assert_replays(self) -> None:
        assert replay(self.store, use_snapshot=False) == self.node.state

    def talking(self, a: str, b: str) -> int:
        """a calls b and b answers; returns the call id."""
        call = self.call_of(c.MakeCall(calling=a, called=b))
        self.do(c.AnswerCall(call=call, device=b))
        return call
