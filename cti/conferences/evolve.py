"""Where a conference event changes state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cti.conferences import events as ev
from cti.conferences.model import (
    CALLER_LOCK_MS,
    WITHHELD,
    Alone,
    Conference,
    DialIn,
    Participant,
    Strikes,
)
from cti.conferences.state import ConferencesState


def _conf(state: ConferencesState, cid: int) -> Conference:
    return state.conferences[cid]


def _with_participant(
    state: ConferencesState, cid: int, pid: int, change: Callable[[Participant], Participant]
) -> ConferencesState:
    conf = _conf(state, cid)
    parts = tuple(change(p) if p.id == pid else p for p in conf.participants)
    return state.with_conference(attrs.evolve(conf, participants=parts))


def _created(state: ConferencesState, e: ev.ConferenceCreated) -> ConferencesState:
    conf = Conference(id=e.conference, name=e.name, owner=e.owner)
    state = state.with_conference(conf)
    return attrs.evolve(state, next_id=max(state.next_id, e.conference + 1))


def _renamed(state: ConferencesState, e: ev.ConferenceRenamed) -> ConferencesState:
    return state.with_conference(attrs.evolve(_conf(state, e.conference), name=e.name))


def _deleted(state: ConferencesState, e: ev.ConferenceDeleted) -> ConferencesState:
    return state.without_conference(e.conference)


def _added(state: ConferencesState, e: ev.ParticipantAdded) -> ConferencesState:
    conf = _conf(state, e.conference)
    p = Participant(
        id=e.participant,
        name=e.name,
        number=e.number,
        user=e.user,
        moderator=e.moderator,
        guest=e.guest,
        pin_round=e.pin_round,
    )
    return state.with_conference(
        attrs.evolve(
            conf,
            participants=(*conf.participants, p),
            next_participant=max(conf.next_participant, e.participant + 1),
        )
    )


def _removed(state: ConferencesState, e: ev.ParticipantRemoved) -> ConferencesState:
    conf = _conf(state, e.conference)
    parts = tuple(p for p in conf.participants if p.id != e.participant)
    return state.with_conference(attrs.evolve(conf, participants=parts))


def _moderator(state: ConferencesState, e: ev.ModeratorSet) -> ConferencesState:
    return _with_participant(
        state, e.conference, e.participant, lambda p: attrs.evolve(p, moderator=e.moderator)
    )


def _pin(state: ConferencesState, e: ev.PinRenewed) -> ConferencesState:
    return _with_participant(
        state, e.conference, e.participant, lambda p: attrs.evolve(p, pin_round=e.pin_round)
    )


def _guest(state: ConferencesState, e: ev.GuestPinSet) -> ConferencesState:
    return state.with_conference(attrs.evolve(_conf(state, e.conference), guest_round=e.pin_round))


def _dial_in(state: ConferencesState, e: ev.DialInStarted) -> ConferencesState:
    return attrs.evolve(state, dial_ins=state.dial_ins.set(e.call, DialIn(e.call, e.caller)))


def _rejected(state: ConferencesState, e: ev.PinRejected) -> ConferencesState:
    entry = state.dial_ins[e.call]
    entry = attrs.evolve(entry, failed=entry.failed + 1)
    # Strikes of callers whose lock has passed are forgotten here (the map stays small).
    strikes = state.strikes
    for caller, s in list(strikes.items()):
        if e.at - s.last_ms >= CALLER_LOCK_MS:
            strikes = strikes.delete(caller)
    for key in (e.strikes, WITHHELD) if e.strikes.startswith("call/") else (e.strikes,):
        before = strikes.get(key)
        strikes = strikes.set(key, Strikes(1 + (before.count if before else 0), e.at))
    return attrs.evolve(state, dial_ins=state.dial_ins.set(e.call, entry), strikes=strikes)


def _dial_in_ended(state: ConferencesState, e: ev.DialInEnded) -> ConferencesState:
    return attrs.evolve(state, dial_ins=state.dial_ins.delete(e.call))


def _moved(state: ConferencesState, e: ev.BridgeCallMoved) -> ConferencesState:
    dial_ins = state.dial_ins
    if e.call in dial_ins:
        dial_ins = dial_ins.delete(e.call).set(e.into, attrs.evolve(dial_ins[e.call], call=e.into))
    state = attrs.evolve(state, dial_ins=dial_ins)
    for cid in sorted({cid for cid, _ in state.by_call.get(e.call, ())}):
        conf = _conf(state, cid)
        parts = tuple(
            attrs.evolve(p, call=e.into) if p.call == e.call else p for p in conf.participants
        )
        state = state.with_conference(attrs.evolve(conf, participants=parts))
    return state


def _calling(state: ConferencesState, e: ev.ParticipantCalling) -> ConferencesState:
    return _with_participant(
        state, e.conference, e.participant, lambda p: attrs.evolve(p, call=e.call)
    )


def _joined(state: ConferencesState, e: ev.ParticipantJoined) -> ConferencesState:
    order = state.next_join
    state = _with_participant(
        state,
        e.conference,
        e.participant,
        lambda p: attrs.evolve(p, call=e.call, joined=True, joined_seq=order),
    )
    dial_ins = state.dial_ins.delete(e.call) if e.call in state.dial_ins else state.dial_ins
    return attrs.evolve(state, dial_ins=dial_ins, next_join=order + 1)


def _left(state: ConferencesState, e: ev.ParticipantLeft) -> ConferencesState:
    state = _with_participant(
        state,
        e.conference,
        e.participant,
        lambda p: attrs.evolve(p, call=None, joined=False, joined_seq=0),
    )
    conf = _conf(state, e.conference)
    if conf.alone is not None and conf.alone.participant == e.participant:
        state = state.with_conference(attrs.evolve(conf, alone=None))  # no one waits alone
    return state


def _alone(state: ConferencesState, e: ev.AloneTimeoutSet) -> ConferencesState:
    conf = attrs.evolve(_conf(state, e.conference), alone=Alone(e.participant, e.disconnects_at))
    return state.with_conference(conf)


def _not_alone(state: ConferencesState, e: ev.AloneTimeoutCancelled) -> ConferencesState:
    return state.with_conference(attrs.evolve(_conf(state, e.conference), alone=None))


def _end_scheduled(state: ConferencesState, e: ev.EndScheduled) -> ConferencesState:
    return state.with_conference(attrs.evolve(_conf(state, e.conference), ends_at=e.ends_at))


def _end_off(
    state: ConferencesState, e: ev.EndCancelledEvent | ev.ConferenceEnded
) -> ConferencesState:
    return state.with_conference(attrs.evolve(_conf(state, e.conference), ends_at=None))


HANDLERS: dict[type[Any], Callable[[ConferencesState, Any], ConferencesState]] = {
    ev.ConferenceCreated: _created,
    ev.ConferenceRenamed: _renamed,
    ev.ConferenceDeleted: _deleted,
    ev.ParticipantAdded: _added,
    ev.ParticipantRemoved: _removed,
    ev.ModeratorSet: _moderator,
    ev.PinRenewed: _pin,
    ev.GuestPinSet: _guest,
    ev.DialInStarted: _dial_in,
    ev.PinRejected: _rejected,
    ev.DialInEnded: _dial_in_ended,
    ev.BridgeCallMoved: _moved,
    ev.ParticipantCalling: _calling,
    ev.ParticipantJoined: _joined,
    ev.ParticipantLeft: _left,
    ev.EndScheduled: _end_scheduled,
    ev.EndCancelledEvent: _end_off,
    ev.ConferenceEnded: _end_off,
    ev.AloneTimeoutSet: _alone,
    ev.AloneTimeoutCancelled: _not_alone,
}
