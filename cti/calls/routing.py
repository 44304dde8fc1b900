"""Call routing shared by the services: offering a call to a destination (forwarding, DND,
busy, MULAP groups, auto-answering devices, trunks), originating, answering and leaving."""

from __future__ import annotations

from cti.calls import events as ev
from cti.calls.decision import CallDecision as Decision
from cti.calls.errors import CstaError
from cti.calls.state import Call, Offer, Party
from cti.calls.values import Cause, ConnectionState, ForwardingType, TimerPurpose
from cti.site.model import AUTO_ANSWER_KINDS, EXTERNAL_KINDS, DeviceKind

NULL = ConnectionState.NULL
ALERTING = ConnectionState.ALERTING
CONNECTED = ConnectionState.CONNECTED
MAX_FORWARD_HOPS = 5

_FORWARD_CAUSE = {
    ForwardingType.IMMEDIATE: Cause.CALL_FORWARD_IMMEDIATE,
    ForwardingType.BUSY: Cause.CALL_FORWARD_BUSY,
    ForwardingType.NO_ANSWER: Cause.CALL_FORWARD_NO_ANSWER,
}


def viable(parties: tuple[Party, ...]) -> bool:
    """A call goes on while two parties remain and one of them has answered (or holds)."""
    return len(parties) >= 2 and any(
        p.state in (ConnectionState.CONNECTED, ConnectionState.HOLD) for p in parties
    )


def offer(
    d: Decision,
    call_id: int,
    dest: str,
    *,
    origin: str | None,
    calling: str,
    called: str,
    cause: Cause = Cause.NEW_CALL,
    redirecting: str | None = None,
    refuse: bool = False,
    visited: tuple[str, ...] = (),
) -> None:
    """Offer the call to ``dest``. If it cannot take it, ``origin``'s connection fails, or with
    ``refuse`` the whole service is refused (transfers and deflections must not strand a call)."""
    dev = d.device(dest, "invalidDestination")
    call = d.call(call_id)
    if call.state_of(dest) is not NULL:
        raise CstaError("invalidDestination", f"{dest} is already in call {call_id}")
    if dev.kind in EXTERNAL_KINDS:
        if d.switch.is_busy(dest):
            # A trunk party with a connection (talking, ringing, off-hook) is busy: the call
            # reaches the network, which reports busy (CALL-13, CALL-15).
            _network_reached(d, call_id, dest, calling, cause)
            _fail(d, d.call(call_id), dest, origin, calling, called, Cause.BUSY, refuse)
            return
        ring_external(d, call_id, dest, calling, called, cause, redirecting)
        return
    if dev.kind in AUTO_ANSWER_KINDS:
        _deliver(d, call_id, dest, calling, called, cause, redirecting)
        call = d.call(call_id)
        d.emit(
            ev.Established(
                call=call_id,
                cause=cause,
                local=d.local(call, {dest: CONNECTED}),
                answering=dest,
                calling=calling,
                called=called,
                redirecting=redirecting,
            )
        )
        return
    if dev.kind is DeviceKind.MULAP:
        # Members that forwarded this call here are not rung again (no forwarding loop).
        free = [m for m in dev.members if not d.switch.is_busy(m) and m not in visited]
        if not free:
            _fail(d, call, dest, origin, calling, called, Cause.BUSY, refuse)
            return
        for member in free:
            _deliver(d, call_id, member, calling, called, cause, redirecting, group=dest)
        return
    runtime = d.switch.device(dest)

    def forward_to(kind: ForwardingType) -> str | None:
        """The forwarding target, unless it would loop back to a device that already
        forwarded this call (or to ``dest`` itself, also through a MULAP group of them) or
        reach a party of this call: then ``dest`` keeps the call."""
        fwd = runtime.forwarding.get(kind)
        if fwd is None or dest in visited or len(visited) >= MAX_FORWARD_HOPS:
            return None
        target = fwd.destination
        loop = {*visited, dest}
        target_dev = d.site.device(target)
        if target in loop or (
            target_dev is not None
            and target_dev.kind is DeviceKind.MULAP
            and set(target_dev.members) <= loop
        ):
            return None
        return target if call.state_of(target) is NULL else None

    def forward(kind: ForwardingType, target: str) -> None:
        divert(
            d,
            call_id,
            dest,
            target,
            kind,
            origin=origin,
            calling=calling,
            called=called,
            refuse=refuse,
            visited=visited,
        )

    target = forward_to(ForwardingType.IMMEDIATE)
    if target is not None:
        forward(ForwardingType.IMMEDIATE, target)
        return
    if runtime.dnd:
        _fail(d, call, dest, origin, calling, called, Cause.DO_NOT_DISTURB, refuse)
        return
    if d.switch.is_busy(dest):
        target = forward_to(ForwardingType.BUSY)
        if target is not None:
            forward(ForwardingType.BUSY, target)
        else:
            _fail(d, call, dest, origin, calling, called, Cause.BUSY, refuse)
        return
    _deliver(d, call_id, dest, calling, called, cause, redirecting)
    no_answer = runtime.forwarding.get(ForwardingType.NO_ANSWER)
    if no_answer is not None and forward_to(ForwardingType.NO_ANSWER) is not None:
        d.emit(
            ev.TimerSet(
                call=call_id,
                device=dest,
                purpose=TimerPurpose.NO_ANSWER,
                due_ms=d.now_ms + no_answer.ring_time * 1000,
            )
        )


def ring_external(
    d: Decision,
    call_id: int,
    dest: str,
    calling: str,
    called: str,
    cause: Cause,
    redirecting: str | None = None,
) -> None:
    """The call leaves through the trunk (networkReached) and rings the party there."""
    _network_reached(d, call_id, dest, calling, cause)
    _deliver(d, call_id, dest, calling, called, cause, redirecting)


def _network_reached(d: Decision, call_id: int, dest: str, calling: str, cause: Cause) -> None:
    d.emit(
        ev.NetworkReached(
            call=call_id,
            cause=cause,
            local=d.local(d.call(call_id)),
            calling=calling,
            called=dest,
            trunk=d.site.trunk,
        )
    )


def divert(
    d: Decision,
    call_id: int,
    source: str,
    dest: str,
    kind: ForwardingType,
    *,
    origin: str | None,
    calling: str,
    called: str,
    refuse: bool,
    visited: tuple[str, ...],
) -> None:
    """Forward the call from ``source`` to ``dest`` (CALL-16)."""
    cause = _FORWARD_CAUSE[kind]
    call = d.call(call_id)
    d.emit(
        ev.Diverted(
            call=call_id,
            cause=cause,
            local=d.local(call, {source: NULL}),
            diverting=source,
            new_destination=dest,
        )
    )
    offer(
        d,
        call_id,
        dest,
        origin=origin,
        calling=calling,
        called=called,
        cause=cause,
        redirecting=source,
        refuse=refuse,
        visited=(*visited, source),
    )


def _deliver(
    d: Decision,
    call_id: int,
    dest: str,
    calling: str,
    called: str,
    cause: Cause,
    redirecting: str | None,
    group: str | None = None,
) -> None:
    call = d.call(call_id)
    d.emit(
        ev.Delivered(
            call=call_id,
            cause=cause,
            local=d.local(call, {dest: ALERTING}),
            alerting=dest,
            calling=calling,
            called=called,
            redirecting=redirecting,
            group=group,
        )
    )


def _fail(
    d: Decision,
    call: Call,
    dest: str,
    origin: str | None,
    calling: str,
    called: str,
    cause: Cause,
    refuse: bool,
) -> None:
    if refuse or origin is None:
        reason = "is busy" if cause is Cause.BUSY else "has do-not-disturb on"
        raise CstaError("invalidDestinationDeviceState", f"{dest} {reason}")
    changes = {origin: ConnectionState.FAIL}
    if d.site.devices.get(dest) is not None:
        changes[dest] = NULL  # the unreachable device's monitor learns of the attempt
    d.emit(
        ev.Failed(
            call=call.id,
            cause=cause,
            local=d.local(call, changes),
            failing=dest,
            calling=calling,
            called=called,
        )
    )


def originate(d: Decision, call_id: int, device: str, dest: str, cause: Cause) -> None:
    """``device`` (initiated) dials ``dest``: originated, then the offer."""
    call = d.call(call_id)
    d.emit(
        ev.Originated(
            call=call_id,
            cause=cause,
            local=d.local(call, {device: CONNECTED}),
            calling=device,
            called=dest,
        )
    )
    # The offer keeps the origination's cause: a consultation rings as ``consultation``.
    offer_cause = Cause.CONSULTATION if cause is Cause.CONSULTATION else Cause.NEW_CALL
    offer(d, call_id, dest, origin=device, calling=call.calling, called=dest, cause=offer_cause)


def answer(d: Decision, call_id: int, device: str, offered: Offer | None = None) -> None:
    """``device`` answers (or picks up) the call; the rest of a ringing group stops.

    ``established`` repeats how the call was offered to ``device`` (its last ``delivered``):
    after a transfer, forwarding or deflection it names the party actually connected, the
    redirection cause and the last redirecting device. A pickup passes its own ``offered``."""
    call = d.call(call_id)
    if offered is None:
        offered = call.offer_to(device)
    d.emit(
        ev.Established(
            call=call_id,
            cause=offered.cause,
            local=d.local(call, {device: CONNECTED}),
            answering=device,
            calling=offered.calling,
            called=offered.called,
            redirecting=offered.redirecting,
        )
    )
    if call.group is not None:
        for party in call.parties:
            if party.device != device and party.state is ALERTING:
                leave(d, call_id, party.device, Cause.NORMAL_CLEARING, answered_by=device)
    call = d.call(call_id)
    if call.pending is not None:
        # Mobility callback / analogue prompt (CALL-15): now dial the real destination.
        originate(d, call_id, device, call.pending, Cause.NEW_CALL)


def leave(
    d: Decision,
    call_id: int,
    device: str,
    cause: Cause = Cause.NORMAL_CLEARING,
    answered_by: str | None = None,
) -> None:
    """``device``'s connection clears; a call that can no longer go on is cleared whole."""
    call = d.call(call_id)
    remaining = call.others(device)
    if remaining:
        d.emit(
            ev.ConnectionCleared(
                call=call_id,
                cause=cause,
                local=d.local(call, {device: NULL}),
                device=device,
                answered_by=answered_by,
            )
        )
        call = d.call(call_id)
        if viable(call.parties):
            return
    clear_call(d, call, cause)


def clear_call(d: Decision, call: Call, cause: Cause = Cause.NORMAL_CLEARING) -> None:
    d.emit(
        ev.CallCleared(
            call=call.id,
            cause=cause,
            local=d.local(call, {p.device: NULL for p in call.parties}),
        )
    )
