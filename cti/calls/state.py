"""The call-control part of the node state: calls with their connections, per-device features
(forwarding, do-not-disturb, redial lists) and pending switch timers.

Everything is immutable (frozen attrs, HAMT maps): ``evolve`` returns a new state, so a decision
can be tried on a scratch copy and dropped, and a failed commit rolls back by keeping the old one.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import immutables

from cti.calls.values import ACTIVE_STATES, Cause, ConnectionState, ForwardingType, TimerPurpose


@attrs.frozen
class Party:
    """One non-null connection (call, device) of a call."""

    device: str
    state: ConnectionState


@attrs.frozen
class Offer:
    """How the call was presented to a device it alerts (its last ``delivered``): the
    callingDevice, calledDevice, cause and lastRedirectionDevice its ``established`` repeats."""

    calling: str
    called: str
    cause: Cause = Cause.NEW_CALL
    redirecting: str | None = None


@attrs.frozen
class Call:
    id: int
    parties: tuple[Party, ...]
    calling: str  # the number presented as caller (MULAP / mobility number, not the phone)
    called: str  # the number the caller asked for
    pending: str | None = None  # destination still to dial once the prompted leg answers
    group: str | None = None  # MULAP number the call was offered to
    answered_by: str | None = None
    offers: tuple[tuple[str, Offer], ...] = ()  # (alerting device, how it was offered the call)

    def offer_to(self, device: str) -> Offer:
        """How the call was offered to ``device`` (a plain new call if it never alerted)."""
        for dev, offer in self.offers:
            if dev == device:
                return offer
        return Offer(self.calling, self.called)

    def state_of(self, device: str) -> ConnectionState:
        for p in self.parties:
            if p.device == device:
                return p.state
        return ConnectionState.NULL

    def others(self, device: str) -> tuple[Party, ...]:
        return tuple(p for p in self.parties if p.device != device)

    def is_groups(self, group: str) -> bool:
        """Is this the MULAP ``group``'s call (offered to it or made as it), not a member
        phone's own (CALL-14)? What the group's view, its CSTA monitor and a member's
        consultation go by."""
        return self.group == group or self.calling == group


@attrs.frozen
class Forward:
    destination: str
    ring_time: int = 0  # seconds; only for no-answer forwarding


@attrs.frozen
class DeviceRuntime:
    """Per-device state; devices in the default (idle, nothing set) state have no entry."""

    calls: tuple[int, ...] = ()  # calls with a non-null connection of this device, oldest first
    dnd: bool = False
    forwarding: immutables.Map[ForwardingType, Forward] = attrs.field(factory=immutables.Map)
    redial: tuple[str, ...] = ()  # CALL-02: the last numbers this user dialled, newest first

    def is_default(self) -> bool:
        return not self.calls and not self.dnd and not self.forwarding and not self.redial


DEFAULT_DEVICE = DeviceRuntime()
REDIAL_SIZE = 10

TimerKey = tuple[int, str, TimerPurpose]  # (call, device, purpose)


@attrs.frozen
class SwitchState:
    calls: immutables.Map[int, Call] = attrs.field(factory=immutables.Map)
    devices: immutables.Map[str, DeviceRuntime] = attrs.field(factory=immutables.Map)
    timers: immutables.Map[TimerKey, int] = attrs.field(factory=immutables.Map)  # -> due ms
    next_call_id: int = 1

    def device(self, number: str) -> DeviceRuntime:
        return self.devices.get(number, DEFAULT_DEVICE)

    def call(self, call_id: int) -> Call | None:
        return self.calls.get(call_id)

    def connections(self, device: str) -> Iterator[tuple[Call, ConnectionState]]:
        for cid in self.device(device).calls:
            call = self.calls[cid]
            yield call, call.state_of(device)

    def with_state(self, device: str, *states: ConnectionState) -> list[Call]:
        return [c for c, s in self.connections(device) if s in states]

    def active_call(self, device: str) -> Call | None:
        """The call occupying the device's handset (initiated, connected or failed), if any."""
        for call, st in self.connections(device):
            if st in ACTIVE_STATES:
                return call
        return None

    def is_busy(self, device: str) -> bool:
        return bool(self.device(device).calls)
