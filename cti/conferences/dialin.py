"""The dial-in (MeetMe) number and call-outs: how calls become members of a room (CONF-03,
CONF-04). Called from the reactions to call events (cti.conferences.reactions), so what a
call event means for a room is recorded in the same decision as the call event.

Admission is decided inside the node's one writer, one call at a time against the state the
previous admission left: 17 callers keying PINs at once never put 17 into 16 places
(UC-LESSONS rule 6). Nothing here raises a refusal: a call event is a fact, and a caller who
cannot be admitted is told so by the call being cleared with a ``dialInEnded`` reason.
"""

from __future__ import annotations

from cti.calls.decision import CallDecision
from cti.conferences import events as ev
from cti.conferences import pins
from cti.conferences.model import (
    CALLER_LOCK_MS,
    CALLER_STRIKES,
    MAX_PARTICIPANTS,
    PIN_ATTEMPTS,
    WITHHELD,
    WITHHELD_STRIKES,
    Conference,
    DialInEnd,
    EndCancelled,
    LeftReason,
    Participant,
)
from cti.conferences.services import _leave, alone_check, hang_up_call
from cti.conferences.state import ConferencesState

GUEST_NAME = "Gast"  # a guest has no name; the UI shows their number beside it


def withheld(caller: str) -> bool:
    """No number presented: nothing (or a word such as ``anonymous``) where a number goes."""
    return not caller.removeprefix("+").isdigit()


def strikes_key(d: CallDecision, call: int, caller: str) -> str:
    """Whose wrong PINs a dial-in counts (UC-LESSONS rule 6), by who is on the call with the
    dial-in now: a phone of the site by itself (a MULAP member's phone, not the group number
    every member presents; also when it withholds its number); an outside caller by its
    number, also one a phone of the site transferred to the dial-in (``caller`` is then
    that phone's number, which the guesser would lock out instead of itself); a withheld
    number is no one's, so its call alone (else one guesser with a withheld number would
    lock out every withheld caller at the first limit), and every withheld call together
    against WITHHELD_STRIKES (``locked``; else redialling would make guessing unlimited)."""
    plan = d.site.conferences
    found = d.state.calls.calls.get(call)
    others = []
    if plan is not None and found is not None:
        others = [p.device for p in found.parties if p.device != plan.dial_in]
    for device in others:
        if device in d.site.devices:
            return device
    if caller in d.site.devices and others:  # that phone left: it transferred the call here
        caller = others[0]
    if withheld(caller):
        return f"call/{call}"
    return caller


def started(d: CallDecision, call: int, caller: str) -> None:
    """A call reached the dial-in number and was answered: the caller keys a PIN, unless
    the caller keyed too many wrong ones lately (UC-LESSONS rule 6: temporary only)."""
    rooms = d.state.conferences
    if call in rooms.dial_ins or rooms.on_call(call) is not None:
        return
    d.emit(ev.DialInStarted(call=call, caller=caller))
    if locked(rooms, strikes_key(d, call, caller), d.now_ms):
        _refuse(d, call, DialInEnd.CALLER_LOCKED)


def locked(rooms: ConferencesState, key: str, now_ms: int) -> bool:
    """Whether a dial-in counted under ``key`` is refused now: its own strikes, or for a
    withheld number (``call/<id>``) those of all withheld calls together."""
    limits = [(key, CALLER_STRIKES)]
    if key.startswith("call/"):
        limits.append((WITHHELD, WITHHELD_STRIKES))
    for bucket, limit in limits:
        strikes = rooms.strikes.get(bucket)
        if (
            strikes is not None
            and strikes.count >= limit
            and now_ms - strikes.last_ms < CALLER_LOCK_MS
        ):
            return True
    return False


def moved(d: CallDecision, call: int) -> None:
    """A dial-in keying a PIN moved onto ``call`` (a phone of the site transferred its
    caller to the dial-in): the dial-in was let in for that phone, so whoever is on it now
    is checked as at a start; a locked-out guesser would else get three more tries with
    every transfer."""
    entry = d.state.conferences.dial_ins.get(call)
    if entry is not None and locked(
        d.state.conferences, strikes_key(d, call, entry.caller), d.now_ms
    ):
        _refuse(d, call, DialInEnd.CALLER_LOCKED)


def _refuse(d: CallDecision, call: int, reason: DialInEnd) -> None:
    d.emit(ev.DialInEnded(call=call, reason=reason))
    hang_up_call(d, call)


def _no_room(d: CallDecision, conf: Conference, guest: bool) -> DialInEnd | None:
    """Why a caller cannot join ``conf`` now: the site's channels (joined participants of all
    rooms, in dial-in order, CONF-01), or the 16 of the list a guest would need (CONF-04)."""
    plan = d.site.conferences
    assert plan is not None
    if d.state.conferences.joined_count() >= plan.channels:
        return DialInEnd.NO_CHANNEL
    if guest and len(conf.participants) >= MAX_PARTICIPANTS:
        return DialInEnd.CONFERENCE_FULL
    return None


def digits(d: CallDecision, call: int, keyed: str) -> None:
    """A PIN keyed on a dial-in call (DTMF from the caller): join, or count a wrong one; the
    last wrong one clears the call (CONF-03). ``#`` ends a PIN and is not part of it."""
    plan = d.site.conferences
    entry = d.state.conferences.dial_ins.get(call)
    if plan is None or entry is None:
        return
    found = pins.find(plan.pin_key, d.state.conferences, keyed.rstrip("#"))
    if found is None:
        remaining = PIN_ATTEMPTS - entry.failed - 1
        key = strikes_key(d, call, entry.caller)
        d.emit(
            ev.PinRejected(
                call=call, remaining=remaining, caller=entry.caller, at=d.now_ms, strikes=key
            )
        )
        if remaining <= 0:
            _refuse(d, call, DialInEnd.TOO_MANY_ATTEMPTS)
        return
    conf, pid = found
    problem = _no_room(d, conf, pid is None)
    if problem is not None:
        _refuse(d, call, problem)
        return
    if pid is None:
        pid = conf.next_participant
        d.emit(
            ev.ParticipantAdded(
                conference=conf.id,
                participant=pid,
                name=GUEST_NAME,
                number=entry.caller,
                guest=True,
            )
        )
    else:
        p = conf.participant(pid)
        assert p is not None
        if p.call is not None:
            _refuse(d, call, DialInEnd.ALREADY_JOINED)
            return
    _join(d, conf.id, pid, call)


def _join(d: CallDecision, cid: int, pid: int, call: int) -> None:
    d.emit(ev.ParticipantJoined(conference=cid, participant=pid, call=call))
    conf = d.state.conferences.conference(cid)
    assert conf is not None
    p = conf.participant(pid)
    if p is not None and p.moderator and conf.ends_at is not None:
        d.emit(ev.EndCancelledEvent(conference=cid, reason=EndCancelled.MODERATOR_REJOINED))
    alone_check(d, cid)


def answered(d: CallDecision, call: int) -> None:
    """A participant answered the system's call-out (CONF-04): they join without a PIN, if
    a channel is free now (dial-ins may have taken the last one meanwhile)."""
    found = d.state.conferences.on_call(call)
    if found is None or found[1].joined:
        return
    conf, p = found
    plan = d.site.conferences
    assert plan is not None
    if d.state.conferences.joined_count() >= plan.channels:
        _leave(d, conf.id, p, LeftReason.NO_CHANNEL)
        return
    _join(d, conf.id, p.id, call)


def cleared(d: CallDecision, call: int) -> None:
    """A call of the room ended at the switch: a caller hung up while keying a PIN, a joined
    participant hung up, or a call-out was not answered."""
    if call in d.state.conferences.dial_ins:
        d.emit(ev.DialInEnded(call=call, reason=DialInEnd.HUNG_UP))
        return
    # Every participant on it (two, if one phone merged two calls with the dial-in).
    while (found := d.state.conferences.on_call(call)) is not None:
        conf, p = found
        _leave(d, conf.id, p, _why(p), hang_up=False)


def _why(p: Participant) -> LeftReason:
    return LeftReason.HUNG_UP if p.joined else LeftReason.CALL_OUT_FAILED


def call_out_failed(d: CallDecision, call: int) -> None:
    found = d.state.conferences.on_call(call)
    if found is not None:
        conf, p = found
        _leave(d, conf.id, p, LeftReason.CALL_OUT_FAILED)
