"""A call-control decision: the kernel's decision plus the lookups every service needs.

Services emit events one by one and read the scratch state back (``switch``), so multi-step
services (transfer, pickup, forwarding chains) are written as plain sequences. A refusal raises
:class:`CstaError`; the caller drops the scratch state, so nothing of a refused command survives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from cti.calls import events as ev
from cti.calls.errors import CstaError
from cti.calls.state import Call, SwitchState
from cti.calls.values import ConnectionState, TimerPurpose
from cti.kernel.decision import Decision
from cti.site.model import Device
from cti.site.numbers import InvalidNumber

if TYPE_CHECKING:  # the composition imports this context: only the type checker looks back
    from cti.domain.state import NodeState


def clear_stale_timers(d: Decision[NodeState], event: ev.CallEvent) -> None:
    """A reaction to every call event: a no-answer timer only matters while its device still
    rings in that call (whichever context's decision recorded the event)."""
    timers = d.state.calls.timers
    for entry in event.local:
        key = (event.call, entry.device, TimerPurpose.NO_ANSWER)
        if entry.state is not ConnectionState.ALERTING and key in timers:
            d.emit(ev.TimerCleared(call=key[0], device=key[1], purpose=key[2]))


class CallDecision(Decision["NodeState"]):
    @property
    def switch(self) -> SwitchState:
        """The call-control part of the scratch state."""
        return self.state.calls

    # -- emitting ---------------------------------------------------------------------------
    @classmethod
    def view(cls, d: Decision[NodeState]) -> CallDecision:
        """``d`` (another context's decision under way) with call control's lookups: the same
        object underneath, so what the view emits is ``d``'s (a voicemail placing a call)."""
        if isinstance(d, CallDecision):
            return d
        # The view emits through Decision.emit: an override of d's class would be skipped.
        assert type(d).emit is Decision.emit, f"{type(d).__name__} overrides emit"
        view = cls.__new__(cls)
        view.__dict__ = d.__dict__
        return view

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
        return self.switch.next_call_id

    def call(self, call_id: int) -> Call:
        call = self.switch.call(call_id)
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
