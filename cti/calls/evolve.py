"""Where an event changes state: ``evolve(state, event) -> state``, pure and total.

Call events set the call's connections from the event's ``local`` list (null entries leave), keep
the per-device call index in step, and drop a call once it has no connection left. Events are
facts already decided, so evolve never refuses one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import immutables

from cti.calls import events as ev
from cti.calls.state import (
    DEFAULT_DEVICE,
    REDIAL_SIZE,
    Call,
    DeviceRuntime,
    Forward,
    Offer,
    Party,
    SwitchState,
)
from cti.calls.values import Cause, ConnectionState

_NULL = ConnectionState.NULL
_ALERTING = ConnectionState.ALERTING


def evolve(state: SwitchState, event: ev.Event) -> SwitchState:
    handler = HANDLERS[type(event)]
    return handler(state, event)


def _set_device(
    devices: immutables.Map[str, DeviceRuntime], number: str, runtime: DeviceRuntime
) -> immutables.Map[str, DeviceRuntime]:
    # Idle devices have no entry, so 10,000 configured phones cost nothing until used.
    if runtime.is_default():
        return devices.delete(number) if number in devices else devices
    return devices.set(number, runtime)


def _apply_call_event(
    state: SwitchState, event: ev.CallEvent, base: Call, drop_call: int | None = None
) -> SwitchState:
    """Set ``base``'s parties from ``event.local`` and update the device index."""
    new_states = {e.device: e.state for e in event.local}
    parties: list[Party] = []
    for p in base.parties:  # existing parties keep their order
        st = new_states.pop(p.device, p.state)
        if st is not _NULL:
            parties.append(p if st is p.state else Party(p.device, st))
    parties.extend(Party(d, st) for d, st in new_states.items() if st is not _NULL)
    alive = bool(parties) and not isinstance(event, ev.CallCleared)
    cid = base.id
    calls = state.calls
    if drop_call is not None and drop_call in calls:
        calls = calls.delete(drop_call)
    if alive:
        # Only devices still ringing keep how the call was offered to them.
        offers = base.offers
        if offers:
            ringing = {p.device for p in parties if p.state is _ALERTING}
            offers = tuple(o for o in offers if o[0] in ringing)
        calls = calls.set(
            cid,
            Call(
                cid,
                tuple(parties),
                base.calling,
                base.called,
                base.pending,
                base.group,
                base.answered_by,
                offers,
            ),
        )
    elif cid in calls:
        calls = calls.delete(cid)
    present = {p.device for p in parties} if alive else set()
    devices = state.devices
    for entry in event.local:
        device = entry.device
        rt = devices.get(device, DEFAULT_DEVICE)
        member = device in present
        if (cid in rt.calls) is member and (drop_call is None or drop_call not in rt.calls):
            continue  # the common case: membership unchanged
        ids = [c for c in rt.calls if c != drop_call and c != cid]
        if member:
            ids.append(cid)
        devices = _set_device(
            devices, device, DeviceRuntime(tuple(ids), rt.dnd, rt.forwarding, rt.redial)
        )
    return SwitchState(
        calls=calls,
        devices=devices,
        timers=state.timers,
        next_call_id=max(state.next_call_id, event.call + 1),
    )


_KEEP: Any = object()  # a field _changed leaves as it is


def _changed(
    call: Call,
    *,
    called: str = _KEEP,
    pending: str | None = _KEEP,
    group: str | None = _KEEP,
    answered_by: str | None = _KEEP,
    offers: tuple[tuple[str, Offer], ...] = _KEEP,
) -> Call:
    """``attrs.evolve(call, ...)`` for the fields events change, as a plain constructor
    call: evolve runs for every event, and attrs.evolve looks the class's fields up each time
    (several times slower)."""
    return Call(
        call.id,
        call.parties,
        call.calling,
        call.called if called is _KEEP else called,
        call.pending if pending is _KEEP else pending,
        call.group if group is _KEEP else group,
        call.answered_by if answered_by is _KEEP else answered_by,
        call.offers if offers is _KEEP else offers,
    )


def _existing(state: SwitchState, event: ev.CallEvent) -> Call:
    call = state.calls.get(event.call)
    if call is None:
        # Events are decided against state; an unknown call here means a corrupt log.
        raise ValueError(f"{event.KIND} for unknown call {event.call}")
    return call


def _generic(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.CallEvent)
    return _apply_call_event(state, event, _existing(state, event))


def _service_initiated(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.ServiceInitiated)
    base = Call(event.call, (), event.calling, event.called, pending=event.pending)
    return _apply_call_event(state, event, base)


def _originated(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.Originated)
    call = _existing(state, event)
    base = _changed(call, called=event.called, pending=None, answered_by=None)
    return _redial(_apply_call_event(state, event, base), call.calling, event.called)


def _redial(state: SwitchState, user: str, number: str) -> SwitchState:
    """CALL-02: ``number`` goes to the top of the user's redial list, once. The user is the
    number the call was presented from (a MULAP or mobility user, not the phone behind it);
    trunk parties keep no list."""
    if user.startswith("+"):
        return state
    runtime = state.device(user)
    numbers = (number, *(n for n in runtime.redial if n != number))[:REDIAL_SIZE]
    runtime = DeviceRuntime(runtime.calls, runtime.dnd, runtime.forwarding, numbers)
    devices = _set_device(state.devices, user, runtime)
    return SwitchState(state.calls, devices, state.timers, state.next_call_id)


def _delivered(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.Delivered)
    call = _existing(state, event)
    offer = Offer(event.calling, event.called, event.cause, event.redirecting)
    offers = (*(o for o in call.offers if o[0] != event.alerting), (event.alerting, offer))
    group = call.group if event.group is None else event.group
    return _apply_call_event(state, event, _changed(call, group=group, offers=offers))


def _established(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.Established)
    call = _existing(state, event)
    return _apply_call_event(state, event, _changed(call, answered_by=event.answering))


def _merged(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.Transferred | ev.Conferenced)
    call = _existing(state, event)
    if isinstance(event, ev.Transferred) and event.moved:
        # A party still ringing when the call is transferred is now offered the call by the
        # party on the other side of the transfer, redirected by the transferring device
        # (CALL-07): the consulted party sees the transferred party and vice versa.
        ringing = {e.device for e in event.local if e.state is _ALERTING}
        stay = [p for p in call.parties if p.device != event.transferring]
        moved = [e for e in event.local if e.device in event.moved]
        offers = dict(call.offers)
        for dev in ringing:
            side = stay if dev in event.moved else moved
            answered = [p.device for p in side if p.state is not _ALERTING]
            if answered:
                offers[dev] = Offer(answered[0], dev, Cause.TRANSFER, event.transferring)
        call = _changed(call, offers=tuple(offers.items()))
    merged = state.calls.get(event.secondary_call) if event.secondary_call else None
    if call.group is None and merged is not None and merged.group is not None:
        # The consultation call was offered to a MULAP group (its phones may still ring for
        # it): the call it merged into is the group's now (CALL-14; the group's monitor and
        # view follow it).
        call = _changed(call, group=merged.group)
    return _apply_call_event(state, event, call, drop_call=event.secondary_call)


def _forwarding(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.Forwarding)
    rt = state.device(event.device)
    if event.on and event.destination is not None:
        fwd = rt.forwarding.set(event.forwarding_type, Forward(event.destination, event.ring_time))
    else:
        fwd = (
            rt.forwarding.delete(event.forwarding_type)
            if event.forwarding_type in rt.forwarding
            else rt.forwarding
        )
    devices = _set_device(
        state.devices, event.device, DeviceRuntime(rt.calls, rt.dnd, fwd, rt.redial)
    )
    return SwitchState(state.calls, devices, state.timers, state.next_call_id)


def _dnd(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.DoNotDisturb)
    rt = state.device(event.device)
    runtime = DeviceRuntime(rt.calls, event.on, rt.forwarding, rt.redial)
    devices = _set_device(state.devices, event.device, runtime)
    return SwitchState(state.calls, devices, state.timers, state.next_call_id)


def _forgotten(state: SwitchState, event: ev.Event) -> SwitchState:
    """The device's settings go, and with them its entry (forgetDevices refuses a device in a
    call, so it has none; were there one, it would stay)."""
    assert isinstance(event, ev.DeviceForgotten)
    rt = state.device(event.device)
    runtime = DeviceRuntime(rt.calls, False, immutables.Map(), ())
    devices = _set_device(state.devices, event.device, runtime)
    return SwitchState(state.calls, devices, state.timers, state.next_call_id)


def _timer_set(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.TimerSet)
    timers = state.timers.set(event.key, event.due_ms)
    return SwitchState(state.calls, state.devices, timers, state.next_call_id)


def _timer_cleared(state: SwitchState, event: ev.Event) -> SwitchState:
    assert isinstance(event, ev.TimerCleared)
    timers = state.timers.delete(event.key) if event.key in state.timers else state.timers
    return SwitchState(state.calls, state.devices, timers, state.next_call_id)


HANDLERS: dict[type[ev.Event], Callable[[SwitchState, Any], SwitchState]] = {
    ev.ServiceInitiated: _service_initiated,
    ev.Originated: _originated,
    ev.NetworkReached: _generic,
    ev.Delivered: _delivered,
    ev.Established: _established,
    ev.Held: _generic,
    ev.Retrieved: _generic,
    ev.ConnectionCleared: _generic,
    ev.CallCleared: _generic,
    ev.Failed: _generic,
    ev.Diverted: _generic,
    ev.Transferred: _merged,
    ev.Conferenced: _merged,
    ev.DigitsGenerated: _generic,  # the connections stay as they are
    ev.Forwarding: _forwarding,
    ev.DoNotDisturb: _dnd,
    ev.DeviceForgotten: _forgotten,
    ev.TimerSet: _timer_set,
    ev.TimerCleared: _timer_cleared,
}
