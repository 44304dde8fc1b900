"""What call events mean for the rooms (CONF-03, CONF-04): the context's reactions, run in
the same decision right after the switch records the event, and its receiver of the DTMF
keyed towards the dial-in number (the PIN, which call control never records).

A reaction never refuses: the call event is decided. It only records the room's events,
and clears a call only when the switch is not clearing it already.
"""

from __future__ import annotations

from typing import Any

from cti.calls import events as calls_events
from cti.calls.decision import CallDecision
from cti.calls.services.digits import record_heard
from cti.conferences import dialin
from cti.conferences import events as ev
from cti.kernel.decision import Decision


def _calls(d: Decision[Any]) -> CallDecision:
    return d if isinstance(d, CallDecision) else CallDecision.view(d)


def established(d: Decision[Any], e: calls_events.Established) -> None:
    """Someone reached the dial-in number (it answers at once): they key a PIN next. Or a
    participant the system called out answered: they join."""
    plan = d.site.conferences
    if plan is None:
        return
    if e.answering == plan.dial_in:
        dialin.started(_calls(d), e.call, e.calling)
    elif d.state.conferences.on_call(e.call) is not None:
        dialin.answered(_calls(d), e.call)


def cleared(d: Decision[Any], e: calls_events.ConnectionCleared | calls_events.CallCleared) -> None:
    """A call of a room ended at the switch, or the dial-in's connection in it cleared. A
    phone leaving a call that goes on with the dial-in (a phone conference, a transfer)
    leaves the seat to whoever stays: that is no exit."""
    plan = d.site.conferences
    if plan is None:
        return
    if isinstance(e, calls_events.ConnectionCleared) and e.device != plan.dial_in:
        return
    if e.call in d.state.conferences.dial_ins or d.state.conferences.on_call(e.call):
        dialin.cleared(_calls(d), e.call)


def merged(d: Decision[Any], e: calls_events.Transferred | calls_events.Conferenced) -> None:
    """A call of a room merged into another (a transfer or a phone conference of the
    participant's phone): the room follows it, so its clearing still ends the seat."""
    if d.site.conferences is None or e.secondary_call is None:
        return
    rooms = d.state.conferences
    if e.secondary_call in rooms.dial_ins or rooms.on_call(e.secondary_call) is not None:
        d.emit(ev.BridgeCallMoved(call=e.secondary_call, into=e.call))
        if e.secondary_call in rooms.dial_ins:  # still keying a PIN: who is it now?
            dialin.moved(_calls(d), e.call)


def failed(d: Decision[Any], e: calls_events.Failed) -> None:
    """A call-out could not reach the participant (busy, do-not-disturb, unknown): they
    leave (``callOutFailed``) and the bridge hangs up its side."""
    if d.site.conferences is None:
        return
    found = d.state.conferences.on_call(e.call)
    if found is not None and not found[1].joined:
        dialin.call_out_failed(_calls(d), e.call)


def digits(d: Decision[Any], call: int, device: str, served: str, keyed: str) -> None:
    """DTMF keyed towards a conference bridge: a PIN attempt on the dial-in number. The
    site's other bridges (``[[conference_bridges]]``) serve no PINs: there the digits are
    heard like any, recorded as call control records them (``digitsGenerated``, without the
    digits: a bridge is no phone)."""
    plan = d.site.conferences
    if plan is not None and served == plan.dial_in:
        dialin.digits(_calls(d), call, keyed)
        return
    record_heard(_calls(d), call, device, keyed)


REACTIONS: dict[type[Any], Any] = {
    calls_events.Established: established,
    calls_events.ConnectionCleared: cleared,
    calls_events.CallCleared: cleared,
    calls_events.Failed: failed,
    calls_events.Transferred: merged,
    calls_events.Conferenced: merged,
}
