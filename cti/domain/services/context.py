"""The decision under way: a scratch state that evolves with each emitted event.

Services emit events one by one and read the scratch state back, so multi-step services
(transfer, pickup, forwarding chains) are written as plain sequences. A refusal raises
:class:`CstaError`; the caller drops the scratch state, so nothing of a refused command survives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from cti.domain import events as ev
from cti.domain.errors import CstaError
from cti.domain.evolve import evolve
from cti.domain.numbers import InvalidNumber
from cti.domain.site import Device, Site
from cti.domain.state import Call, SwitchState
from cti.domain.values import ConnectionState, TimerPurpose

Result = Mapping[str, object]


class Decision:
    def __init__(self, site: Site, state: SwitchState, now_ms: int) -> None:
        self.site = site
        self.state = state
        self.now_ms = now_ms
        self.events: list[ev.Event] = []
        self.result: Result = {}

    # -- emitting ---------------------------------------------------------------------------
    def emit(self, event: ev.Event) -> None:
        self.events.append(event)
        self.state = evolve(self.state, event)
        if isinstance(event, ev.CallEvent):
            # A no-answer timer only matters while its device still rings in that call.
            for entry in event.local:
                key = (event.call, entry.device, TimerPurpose.NO_ANSWER)
                if entry.state is not ConnectionState.ALERTING and key in self.state.timers:
                    self.emit(ev.TimerCleared(call=key[0], device=key[1], purpose=key[2]))

    def attempt(self, step: Callable[[], None]) -> bool:
        """Run ``step``; if it refuses, undo what it emitted and report False."""
        state, count = self.state, len(self.events)
        try:
            step()
        except CstaError:
            self.state = state
            del self.events[count:]
            return False
        return True

    def local(
        self,
        call: Call,
        changes: Mapping[str, ConnectionState] | None = None,
        merge: Iterable[Call] = (),
    ) -> tuple[ev.Local, ...]:
        """localConnectionInfo after an event: ``call``'s parties (plus ``merge``d calls'),
        with ``changes`` applied; devices that leave are listed with state null."""
        changes = changes or {}
        out: dict[str, ConnectionState] = {}
        for c in (call, *merge):
            for p in c.parties:
                out.setdefault(p.device, p.state)
        out.update(changes)
        return tuple(ev.Local(d, s) for d, s in out.items())

    # -- lookups ----------------------------------------------------------------------------
    def new_call_id(self) -> int:
        return self.state.next_call_id

    def call(self, call_id: int) -> Call:
        call = self.state.call(call_id)
        if call is None:
            raise CstaError("invalidCallID", f"no call {call_id}")
        return call

    def device(self, number: str, error: str = "invalidDeviceID") -> Device:
        dev = self.site.device(number)
        if dev is None:
            raise CstaError(error, f"unknown device {number!r}")
        return dev

    def connection(self, call_id: int, device: str) -> tuple[Call, ConnectionState]:
        call = self.call(call_id)
        state = call.state_of(device)
        if state is ConnectionState.NULL:
            raise CstaError("invalidConnectionID", f"device {device} is not in call {call_id}")
        return call, state

    def resolve(self, text: str, error: str = "invalidDestination") -> str:
        """A dialled number (CALL-01) as a device id: extension or E.164."""
        try:
            return self.site.plan.resolve(text).number
        except InvalidNumber as exc:
            raise CstaError(error, str(exc)) from exc
