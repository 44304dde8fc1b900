"""Call routing shared by the services: offering a call to a destination, originating,
answering and leaving.

An offer runs through an ordered list of routing rules (:data:`RULES`: trunk parties,
auto-answering devices, the status-based forwarding of an absent user (PRES-03), MULAP
groups, then a phone's immediate forwarding, do-not-disturb, busy and ringing); the first
rule that applies routes the call."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from cti.calls import events as ev
from cti.calls.decision import CallDecision as Decision
from cti.calls.errors import CstaError
from cti.calls.state import Call, Offer, Party
from cti.calls.values import Cause, ConnectionState, ForwardingType, TimerPurpose
from cti.presence import view as presence
from cti.site.model import AUTO_ANSWER_KINDS, EXTERNAL_KINDS, Device, DeviceKind
from cti.site.numbers import InvalidNumber

NULL = ConnectionState.NULL
ALERTING = ConnectionState.ALERTING
CONNECTED = ConnectionState.CONNECTED
MAX_FORWARD_HOPS = 5
MAX_PARTIES = 8  # of a call, ringing ones included (CALL-08)

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


@attrs.frozen
class Routing:
    """One offer of a call to ``dest`` being routed: what every routing rule reads."""

    d: Decision
    call_id: int
    dest: str
    device: Device
    # Whose connection fails when ``dest`` cannot take the call; None (transfer, deflect,
    # forwarding on no answer): the whole service is refused instead, not to strand the call.
    origin: str | None
    calling: str
    called: str
    cause: Cause
    redirecting: str | None
    visited: tuple[str, ...]  # devices that already forwarded this call here

    @property
    def call(self) -> Call:
        return self.d.call(self.call_id)

    def forward_target(self, kind: ForwardingType) -> str | None:
        """The device's forwarding target of ``kind``, unless it would loop back to a device
        that already forwarded this call (or to ``dest`` itself, also through a MULAP group
        of them) or reach a party of this call: then ``dest`` keeps the call."""
        fwd = self.d.switch.device(self.dest).forwarding.get(kind)
        return None if fwd is None else self.usable(fwd.destination)

    def usable(self, target: str) -> str | None:
        """``target`` if this call may be forwarded there from ``dest`` (no loop, within the
        hop limit, not a party already, still a device of the site), else None."""
        if self.dest in self.visited or len(self.visited) >= MAX_FORWARD_HOPS:
            return None
        loop = {*self.visited, self.dest}
        target_dev = self.d.site.device(target)
        if target_dev is None:  # set before the site file dropped it: ``dest`` keeps the call
            return None
        if target in loop or (
            target_dev.kind is DeviceKind.MULAP and set(target_dev.members) <= loop
        ):
            return None
        return target if self.call.state_of(target) is NULL else None

    def divert(self, kind: ForwardingType, target: str) -> None:
        divert(
            self.d,
            self.call_id,
            self.dest,
            target,
            kind,
            origin=self.origin,
            calling=self.calling,
            called=self.called,
            visited=self.visited,
        )

    def fail(self, cause: Cause) -> None:
        _fail(
            self.d,
            self.call,
            self.dest,
            self.origin,
            self.calling,
            self.called,
            cause,
        )

    def deliver(self, device: str | None = None, group: str | None = None) -> None:
        _deliver(
            self.d,
            self.call_id,
            device or self.dest,
            self.calling,
            self.called,
            self.cause,
            self.redirecting,
            group,
        )


# A rule routes the offer (emits its events, returns True) or passes it on (returns False).
Rule = Callable[[Routing], bool]


def trunk_party(r: Routing) -> bool:
    """An external party is reached through the trunk; one with a connection (talking,
    ringing, off-hook) is busy: the network reports busy (CALL-13, CALL-15)."""
    if r.device.kind not in EXTERNAL_KINDS:
        return False
    if r.d.switch.is_busy(r.dest):
        _network_reached(r.d, r.call_id, r.dest, r.calling, r.cause)
        r.fail(Cause.BUSY)
    else:
        ring_external(r.d, r.call_id, r.dest, r.calling, r.called, r.cause, r.redirecting)
    return True


def auto_answer(r: Routing) -> bool:
    """Voicemail and conference bridges answer at once."""
    if r.device.kind not in AUTO_ANSWER_KINDS:
        return False
    r.deliver()
    r.d.emit(
        ev.Established(
            call=r.call_id,
            cause=r.cause,
            local=r.d.local(r.call, {r.dest: CONNECTED}),
            answering=r.dest,
            calling=r.calling,
            called=r.called,
            redirecting=r.redirecting,
        )
    )
    return True


def status_forwarding(r: Routing) -> bool:
    """A user whose presence is absent (PRES-03) has calls diverted to the status's target,
    before anything of their phones (specs/presence.md, "Precedence"). doNotDisturb has no
    target: the phone's own rules below handle it. A target that has no number now, or would
    loop, leaves the call to the normal routing."""
    if r.dest not in r.d.state.presence.users:
        return False  # no entry: in the office (or DND), the common case on the hot path
    # The rules before routed trunk parties and auto-answering devices: dest is a phone or a
    # MULAP number, a presence user (cti.presence.view.user_device).
    status = presence.shown(r.d.state, r.dest).status
    number = presence.target_number(r.d.site, r.d.state, r.dest, status)
    if number is None:
        return False
    try:
        target = r.usable(r.d.site.plan.resolve(number).number)
    except InvalidNumber:
        return False
    if target is None:
        return False
    r.divert(ForwardingType.IMMEDIATE, target)
    return True


def mulap_group(r: Routing) -> bool:
    """A MULAP number rings every free member (CALL-14); members that forwarded this call
    here are not rung again (no forwarding loop). No free member: busy."""
    if r.device.kind is not DeviceKind.MULAP:
        return False
    free = [m for m in r.device.members if not r.d.switch.is_busy(m) and m not in r.visited]
    if not free:
        r.fail(Cause.BUSY)
        return True
    size = len(r.call.parties) + len(free)
    if size > MAX_PARTIES:  # a call handed on to the group would outgrow the limit (CALL-08)
        raise CstaError(
            "conferenceMemberLimitExceeded",
            f"a call has at most {MAX_PARTIES} parties, ringing {r.dest} would give {size}",
        )
    for member in free:
        r.deliver(member, group=r.dest)
    return True


def forward_immediate(r: Routing) -> bool:
    """Immediate forwarding of the phone (CALL-16) wins over everything it has."""
    target = r.forward_target(ForwardingType.IMMEDIATE)
    if target is None:
        return False
    r.divert(ForwardingType.IMMEDIATE, target)
    return True


def do_not_disturb(r: Routing) -> bool:
    if not r.d.switch.device(r.dest).dnd:
        return False
    r.fail(Cause.DO_NOT_DISTURB)
    return True


def busy(r: Routing) -> bool:
    """A busy phone forwards on busy if it can, else the caller hears busy."""
    if not r.d.switch.is_busy(r.dest):
        return False
    target = r.forward_target(ForwardingType.BUSY)
    if target is not None:
        r.divert(ForwardingType.BUSY, target)
    else:
        r.fail(Cause.BUSY)
    return True


def ring(r: Routing) -> bool:
    """The phone rings; with no-answer forwarding a timer starts (fired by the scheduler)."""
    r.deliver()
    no_answer = r.d.switch.device(r.dest).forwarding.get(ForwardingType.NO_ANSWER)
    if no_answer is not None and r.forward_target(ForwardingType.NO_ANSWER) is not None:
        r.d.emit(
            ev.TimerSet(
                call=r.call_id,
                device=r.dest,
                purpose=TimerPurpose.NO_ANSWER,
                due_ms=r.d.now_ms + no_answer.ring_time * 1000,
            )
        )
    return True


# The order in which the rules see an offer (specs/call-model.md, "Routing"; the presence rule:
# specs/presence.md, "Precedence"): the first that routes it wins.
RULES: tuple[Rule, ...] = (
    trunk_party,
    auto_answer,
    status_forwarding,
    mulap_group,
    forward_immediate,
    do_not_disturb,
    busy,
    ring,
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
    visited: tuple[str, ...] = (),
) -> None:
    """Offer the call to ``dest``: the first of :data:`RULES` that applies routes it. If
    ``dest`` cannot take the call, ``origin``'s connection fails; without an origin
    (transfers, deflections) the whole service is refused: they must not strand a call."""
    dev = d.device(dest, "invalidDestination")
    if d.call(call_id).state_of(dest) is not NULL:
        raise CstaError("invalidDestination", f"{dest} is already in call {call_id}")
    routing = Routing(d, call_id, dest, dev, origin, calling, called, cause, redirecting, visited)
    for rule in RULES:
        if rule(routing):
            return
    raise AssertionError("the last routing rule routes every offer")  # pragma: no cover


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
) -> None:
    if origin is None:  # a transfer or deflection: refused rather than strand the call
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
                leave(d, call_id, party.device, answered_by=device)
    call = d.call(call_id)
    if call.pending is not None:
        # Mobility callback / analogue prompt (CALL-15): now dial the real destination.
        originate(d, call_id, device, call.pending, Cause.NEW_CALL)


def leave(d: Decision, call_id: int, device: str, answered_by: str | None = None) -> None:
    """``device``'s connection clears; a call that can no longer go on is cleared whole."""
    call = d.call(call_id)
    remaining = call.others(device)
    if remaining:
        d.emit(
            ev.ConnectionCleared(
                call=call_id,
                cause=Cause.NORMAL_CLEARING,
                local=d.local(call, {device: NULL}),
                device=device,
                answered_by=answered_by,
            )
        )
        call = d.call(call_id)
        if viable(call.parties):
            return
    clear_call(d, call)


def clear_call(d: Decision, call: Call) -> None:
    """The whole call clears (clearCall, or nobody left to talk to)."""
    d.emit(
        ev.CallCleared(
            call=call.id,
            cause=Cause.NORMAL_CLEARING,
            local=d.local(call, {p.device: NULL for p in call.parties}),
        )
    )
