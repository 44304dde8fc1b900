"""Events: the only things that change state. Names and fields follow ECMA-269.

Every call event carries ``local``: each device that receives the event (all parties of the call
before and after it) with its connection state after the event, i.e. the localConnectionInfo that
device's monitor sees. ``evolve`` sets the call's connections from ``local``, so each event holds
the whole resulting connection list of its call and a consumer that missed one can still render
the call correctly.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.calls.state import TimerKey
from cti.calls.values import Cause, ConnectionState, ForwardingType, TimerPurpose
from cti.kernel.messages import Event as Event  # re-exported: ev.Event


@attrs.frozen
class Local:
    device: str
    state: ConnectionState


@attrs.frozen(kw_only=True)
class CallEvent(Event):
    call: int
    cause: Cause
    local: tuple[Local, ...]

    def state_of(self, device: str) -> ConnectionState:
        for entry in self.local:
            if entry.device == device:
                return entry.state
        return ConnectionState.NULL

    def devices(self) -> tuple[str, ...]:
        return tuple([entry.device for entry in self.local])  # a list first: quicker


@attrs.frozen(kw_only=True)
class ServiceInitiated(CallEvent):
    """A new call starts at ``device`` (makeCall, off-hook, consultation, mobility callback)."""

    KIND: ClassVar[str] = "serviceInitiated"
    device: str
    calling: str  # presented calling number
    called: str = ""  # destination if already known
    pending: str | None = None  # destination dialled once ``device`` answers/lifts (CALL-15)


@attrs.frozen(kw_only=True)
class Originated(CallEvent):
    KIND: ClassVar[str] = "originated"
    calling: str  # the originating device
    called: str


@attrs.frozen(kw_only=True)
class NetworkReached(CallEvent):
    KIND: ClassVar[str] = "networkReached"
    calling: str
    called: str  # the external party (E.164)
    trunk: str


@attrs.frozen(kw_only=True)
class Delivered(CallEvent):
    KIND: ClassVar[str] = "delivered"
    alerting: str
    calling: str
    called: str
    redirecting: str | None = None  # last device that redirected the call here
    group: str | None = None  # MULAP number when the call alerts a group (CALL-14)


@attrs.frozen(kw_only=True)
class Established(CallEvent):
    KIND: ClassVar[str] = "established"
    answering: str
    calling: str
    called: str
    redirecting: str | None = None


@attrs.frozen(kw_only=True)
class Held(CallEvent):
    KIND: ClassVar[str] = "held"
    device: str


@attrs.frozen(kw_only=True)
class Retrieved(CallEvent):
    KIND: ClassVar[str] = "retrieved"
    device: str


@attrs.frozen(kw_only=True)
class ConnectionCleared(CallEvent):
    KIND: ClassVar[str] = "connectionCleared"
    device: str
    answered_by: str | None = None  # set when a group call was answered at another phone


@attrs.frozen(kw_only=True)
class CallCleared(CallEvent):
    KIND: ClassVar[str] = "callCleared"


@attrs.frozen(kw_only=True)
class Failed(CallEvent):
    KIND: ClassVar[str] = "failed"
    failing: str  # the device that could not be reached
    calling: str
    called: str


@attrs.frozen(kw_only=True)
class Diverted(CallEvent):
    KIND: ClassVar[str] = "diverted"
    diverting: str
    new_destination: str


@attrs.frozen(kw_only=True)
class Transferred(CallEvent):
    """``call`` is the resulting call (the held call keeps its identity, CALL-07)."""

    KIND: ClassVar[str] = "transferred"
    secondary_call: int | None  # the consultation call that merged into ``call``; None for SST
    transferring: str
    transferred_to: str
    moved: tuple[str, ...] = ()  # devices whose connection moved from secondary_call to call


@attrs.frozen(kw_only=True)
class Conferenced(CallEvent):
    KIND: ClassVar[str] = "conferenced"
    secondary_call: int
    conferencing: str
    added: tuple[str, ...]


@attrs.frozen(kw_only=True)
class DigitsGenerated(CallEvent):
    """``device`` keyed ``count`` DTMF digits on ``call`` (ECMA-269 Digits Generated). The
    digits themselves only while every other party is a phone of the site: towards an outside
    party (a bank's menu) they may be a PIN, so the log and its topics keep only the count.
    Not recorded at all towards a device a context serves (Context.digit_receivers)."""

    KIND: ClassVar[str] = "digitsGenerated"
    device: str
    count: int
    digits: str = ""  # empty when withheld


@attrs.frozen(kw_only=True)
class Forwarding(Event):
    KIND: ClassVar[str] = "forwarding"
    device: str
    forwarding_type: ForwardingType
    on: bool
    destination: str | None = None
    ring_time: int = 0

    def devices(self) -> tuple[str, ...]:
        return (self.device,)


@attrs.frozen(kw_only=True)
class DoNotDisturb(Event):
    KIND: ClassVar[str] = "doNotDisturb"
    device: str
    on: bool

    def devices(self) -> tuple[str, ...]:
        return (self.device,)


@attrs.frozen(kw_only=True)
class DeviceForgotten(Event):
    """What the switch kept of ``device`` (do-not-disturb, forwarding, its redial list) is
    gone: an administrator forgot a device the site no longer configures (forgetDevices)."""

    KIND: ClassVar[str] = "deviceForgotten"
    device: str

    def devices(self) -> tuple[str, ...]:
        return (self.device,)


@attrs.frozen(kw_only=True)
class TimerSet(Event):
    """A switch timer; the scheduler fires it as a command, so replay needs no clock."""

    KIND: ClassVar[str] = "timerSet"
    INTERNAL: ClassVar[bool] = True
    call: int
    device: str
    purpose: TimerPurpose
    due_ms: int

    @property
    def key(self) -> TimerKey:
        return (self.call, self.device, self.purpose)


@attrs.frozen(kw_only=True)
class TimerCleared(Event):
    KIND: ClassVar[str] = "timerCleared"
    INTERNAL: ClassVar[bool] = True
    call: int
    device: str
    purpose: TimerPurpose

    @property
    def key(self) -> TimerKey:
        return (self.call, self.device, self.purpose)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        ServiceInitiated,
        Originated,
        NetworkReached,
        Delivered,
        Established,
        Held,
        Retrieved,
        ConnectionCleared,
        CallCleared,
        Failed,
        Diverted,
        Transferred,
        Conferenced,
        DigitsGenerated,
        Forwarding,
        DoNotDisturb,
        DeviceForgotten,
        TimerSet,
        TimerCleared,
    )
}
# Internal bookkeeping events, never shown to monitors.
INTERNAL_KINDS = frozenset(kind for kind, cls in EVENT_TYPES.items() if cls.INTERNAL)
