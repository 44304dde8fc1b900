"""Commands: CSTA services and physical-device inputs, as requested by adapters.

``SERVICE`` is the ECMA-269 service name; adapters look commands up by it (``COMMAND_TYPES``).
Calls are identified by ``call`` (the callID) and connections by (``call``, ``device``).
"""

from __future__ import annotations

from typing import ClassVar, TypedDict

import attrs

from cti.calls.values import ForwardingType, TimerPurpose
from cti.kernel.messages import Command as Command  # re-exported: cmd.Command


class ConnectionResult(TypedDict):
    """The connection the service made, answered or moved the call to: (call, device)."""

    call: int
    device: str


class CallResult(TypedDict):
    """The call the parties are in now (the held call keeps its id, CALL-07/08)."""

    call: int


@attrs.frozen(kw_only=True)
class MakeCall(Command):
    SERVICE: ClassVar[str] = "makeCall"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("calling",)
    RESULT: ClassVar[type] = ConnectionResult
    calling: str  # a phone, a MULAP number (its assigned phone calls) or a mobility user
    called: str  # internal, dialable or canonical number (CALL-01)


@attrs.frozen(kw_only=True)
class AnswerCall(Command):
    SERVICE: ClassVar[str] = "answerCall"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[type] = ConnectionResult
    call: int
    device: str


@attrs.frozen(kw_only=True)
class ClearConnection(Command):
    SERVICE: ClassVar[str] = "clearConnection"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    call: int
    device: str


@attrs.frozen(kw_only=True)
class ClearCall(Command):
    SERVICE: ClassVar[str] = "clearCall"
    ON_CALL: ClassVar[str | None] = "call"
    call: int


@attrs.frozen(kw_only=True)
class HoldCall(Command):
    SERVICE: ClassVar[str] = "holdCall"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    call: int
    device: str


@attrs.frozen(kw_only=True)
class RetrieveCall(Command):
    SERVICE: ClassVar[str] = "retrieveCall"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    call: int
    device: str


@attrs.frozen(kw_only=True)
class ConsultationCall(Command):
    SERVICE: ClassVar[str] = "consultationCall"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[type] = ConnectionResult
    call: int  # the active call that is put on hold
    device: str
    consulted: str


@attrs.frozen(kw_only=True)
class TwoCallCommand(Command):
    """A service on a device's held and active call; omitted ids are taken from the device."""

    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)

    device: str
    held_call: int | None = None
    active_call: int | None = None


@attrs.frozen(kw_only=True)
class AlternateCall(TwoCallCommand):
    SERVICE: ClassVar[str] = "alternateCall"


@attrs.frozen(kw_only=True)
class ReconnectCall(TwoCallCommand):
    SERVICE: ClassVar[str] = "reconnectCall"


@attrs.frozen(kw_only=True)
class TransferCall(TwoCallCommand):
    SERVICE: ClassVar[str] = "transferCall"
    RESULT: ClassVar[type] = CallResult


@attrs.frozen(kw_only=True)
class ConferenceCall(TwoCallCommand):
    SERVICE: ClassVar[str] = "conferenceCall"
    RESULT: ClassVar[type] = CallResult


@attrs.frozen(kw_only=True)
class SingleStepTransferCall(Command):
    SERVICE: ClassVar[str] = "singleStepTransferCall"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[type] = ConnectionResult
    call: int
    device: str
    to: str


@attrs.frozen(kw_only=True)
class DeflectCall(Command):
    SERVICE: ClassVar[str] = "deflectCall"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[type] = ConnectionResult
    call: int
    device: str  # the alerting device
    to: str


@attrs.frozen(kw_only=True)
class DirectedPickupCall(Command):
    SERVICE: ClassVar[str] = "directedPickupCall"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[type] = ConnectionResult
    picked: str  # the alerting device whose call is taken
    device: str  # the device that picks up
    call: int | None = None  # which call, when several alert at ``picked``


@attrs.frozen(kw_only=True)
class GroupPickupCall(Command):
    SERVICE: ClassVar[str] = "groupPickupCall"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[type] = ConnectionResult
    device: str


@attrs.frozen(kw_only=True)
class SetForwarding(Command):
    SERVICE: ClassVar[str] = "setForwarding"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    device: str
    forwarding_type: ForwardingType
    on: bool
    destination: str | None = None
    ring_time: int | None = None  # seconds, no-answer forwarding only (default 15)


@attrs.frozen(kw_only=True)
class SetDoNotDisturb(Command):
    SERVICE: ClassVar[str] = "setDoNotDisturb"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    device: str
    on: bool


@attrs.frozen(kw_only=True)
class GenerateDigits(Command):
    """DTMF keyed by ``device`` on its connected connection (ECMA-269 Generate Digits)."""

    SERVICE: ClassVar[str] = "generateDigits"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    call: int
    device: str
    # 0-9, *, #, A-D; at most 32. Kept out of repr: they may be a PIN, and a crashed
    # decision logs the command.
    digits: str = attrs.field(repr=False)


# Physical-device inputs, used by simulated phones and trunk parties.
@attrs.frozen(kw_only=True)
class OffHook(Command):
    SERVICE: ClassVar[str] = "offHook"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[type] = ConnectionResult
    device: str


@attrs.frozen(kw_only=True)
class OnHook(Command):
    SERVICE: ClassVar[str] = "onHook"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    device: str


@attrs.frozen(kw_only=True)
class Dial(Command):
    SERVICE: ClassVar[str] = "dial"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[type] = ConnectionResult
    device: str
    digits: str


@attrs.frozen(kw_only=True)
class FireTimer(Command):
    """Sent by the scheduler when a timer is due; never by clients."""

    SERVICE: ClassVar[str] = "fireTimer"
    INTERNAL: ClassVar[bool] = True
    call: int
    device: str
    purpose: TimerPurpose


class ForgottenDevices(TypedDict):
    """The devices whose settings were forgotten (those that had none are left out)."""

    forgotten: list[str]


@attrs.frozen(kw_only=True)
class ForgetDevices(Command):
    """An administrator forgets what the switch keeps of devices the site no longer
    configures (do-not-disturb, forwarding, a redial list): phones removed from the site file
    keep them in the log otherwise (specs/operations.md). Names ``devices``, or with
    ``unconfigured`` every device the site does not configure that has any. Administration of
    the switch state, not an ECMA-269 service: not in COMMAND_TYPES below (CSTA adapters)."""

    SERVICE: ClassVar[str] = "forgetDevices"
    ADMIN: ClassVar[bool] = True
    RESULT: ClassVar[type] = ForgottenDevices
    devices: tuple[str, ...] = ()
    unconfigured: bool = False


# The ECMA-269 services and phone inputs (what CSTA adapters offer).
COMMAND_TYPES: dict[str, type[Command]] = {
    cls.SERVICE: cls
    for cls in (
        MakeCall,
        AnswerCall,
        ClearConnection,
        ClearCall,
        HoldCall,
        RetrieveCall,
        ConsultationCall,
        AlternateCall,
        ReconnectCall,
        TransferCall,
        ConferenceCall,
        SingleStepTransferCall,
        DeflectCall,
        DirectedPickupCall,
        GroupPickupCall,
        SetForwarding,
        SetDoNotDisturb,
        GenerateDigits,
        OffHook,
        OnHook,
        Dial,
        FireTimer,
    )
}
