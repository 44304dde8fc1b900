"""makeCall, answerCall, clearConnection, clearCall and the physical inputs of a phone
(off-hook, on-hook, dial): CALL-01, CALL-03, CALL-14 (assigned phone), CALL-15 (mobility)."""

from __future__ import annotations

from cti.accounts import settings
from cti.calls import commands as cmd
from cti.calls import events as ev
from cti.calls.decision import CallDecision as Decision
from cti.calls.errors import CstaError, Refused, refuse
from cti.calls.routing import answer, leave, originate, ring_external
from cti.calls.state import Call, SwitchState
from cti.calls.values import Cause, ConnectionState
from cti.site.model import EXTERNAL_KINDS, PHONE_KINDS, DeviceKind, DialMethod

INITIATED = ConnectionState.INITIATED
ALERTING = ConnectionState.ALERTING


def _dial_tone(call: Call | None, device: str) -> bool:
    """The device is off-hook on a call of its own that has not dialled yet."""
    return (
        call is not None
        and call.pending is None
        and len(call.parties) == 1
        and call.state_of(device) is INITIATED
    )


def start_call(
    d: Decision,
    device: str,
    calling: str,
    cause: Cause,
    pending: str | None = None,
    called: str = "",
) -> int:
    call_id = d.new_call_id()
    d.emit(
        ev.ServiceInitiated(
            call=call_id,
            cause=cause,
            local=(ev.Local(device, INITIATED),),
            device=device,
            calling=calling,
            called=called,
            pending=pending,
        )
    )
    return call_id


def check_calling_free(state: SwitchState, phone: str) -> None:
    active = state.active_call(phone)
    if active is not None and not _dial_tone(active, phone):
        raise CstaError("invalidCallingDeviceState", f"{phone} is busy on call {active.id}")
    ringing = state.with_state(phone, ALERTING)
    if ringing:
        raise CstaError("invalidCallingDeviceState", f"{phone} is ringing (call {ringing[0].id})")


def make_call(d: Decision, c: cmd.MakeCall) -> None:
    dev = d.device(c.calling, "invalidCallingDeviceID")
    if dev.kind is DeviceKind.MULAP:
        phone = settings.assigned_phone(d.state.accounts, dev)  # CALL-14, USER-04
    elif dev.kind in PHONE_KINDS:
        phone = dev.number
    else:
        raise CstaError(
            "requestIncompatibleWithCallingDevice", f"{dev.number} is a {dev.kind}, not a phone"
        )
    dest = d.resolve(c.called)
    if dest in (phone, dev.number, dev.mobile):
        raise CstaError("notDifferentDevices", f"{c.calling} cannot call itself")
    method = settings.dial_method(d.state.accounts, dev)
    if dev.mobile is not None and method is DialMethod.CALLBACK_PREFERRED:
        # CALL-15: ring the user's mobile first; the destination is dialled once it answers.
        busy_on = d.switch.device(dev.mobile).calls
        if busy_on:
            raise CstaError(
                "invalidCallingDeviceState",
                f"the mobile {dev.mobile} of {dev.number} is busy on call {busy_on[0]}",
            )
        call_id = start_call(d, dev.mobile, dev.number, Cause.MAKE_CALL, pending=dest, called=dest)
        ring_external(d, call_id, dev.mobile, dev.number, dev.mobile, Cause.CALL_BACK)
        d.result = {"call": call_id, "device": dev.mobile}
        return
    check_calling_free(d.switch, phone)
    active = d.switch.active_call(phone)
    if active is not None:  # already off-hook with dial tone: dial on that call
        call_id = active.id
    elif d.site.devices[phone].kind is DeviceKind.ANALOG_PHONE:
        # An analogue phone cannot go off-hook by itself: it is prompted, the user lifts it.
        call_id = start_call(d, phone, dev.number, Cause.MAKE_CALL, pending=dest, called=dest)
        d.result = {"call": call_id, "device": phone}
        return
    else:
        call_id = start_call(d, phone, dev.number, Cause.MAKE_CALL, called=dest)
    originate(d, call_id, phone, dest, Cause.NEW_CALL)
    d.result = {"call": call_id, "device": phone}


def answer_refusal(state: SwitchState, call: Call, device: str) -> Refused | None:
    """Why answerCall would be refused on (call, device); None if it would not."""
    if call.state_of(device) is not ALERTING:
        return ("noCallToAnswer", f"call {call.id} is not alerting at {device}")
    active = state.active_call(device)
    if active is not None:
        return ("invalidDeviceState", f"{device} is busy on call {active.id}")
    return None


def check_answer(state: SwitchState, call: Call, device: str) -> None:
    refuse(answer_refusal(state, call, device))


def answer_call(d: Decision, c: cmd.AnswerCall) -> None:
    call, _ = d.connection(c.call, c.device)
    check_answer(d.switch, call, c.device)
    answer(d, c.call, c.device)
    d.result = {"call": c.call, "device": c.device}


def clear_connection(d: Decision, c: cmd.ClearConnection) -> None:
    d.connection(c.call, c.device)
    leave(d, c.call, c.device)


def clear_call_service(d: Decision, c: cmd.ClearCall) -> None:
    """Every connection clears, in the call's order, as if each party hung up in turn: a
    connectionCleared each while the call goes on, then callCleared for the rest (CTI
    applications take "my connection cleared" from connectionCleared; specs/call-model.md)."""
    for party in d.call(c.call).parties:
        if d.switch.call(c.call) is None:
            break
        leave(d, c.call, party.device)


def off_hook(d: Decision, c: cmd.OffHook) -> None:
    dev = d.device(c.device)
    if dev.kind not in PHONE_KINDS and dev.kind not in EXTERNAL_KINDS:
        raise CstaError("requestIncompatibleWithDevice", f"{dev.number} has no handset")
    active = d.switch.active_call(c.device)
    if active is not None:
        if active.pending is not None and active.state_of(c.device) is INITIATED:
            originate(d, active.id, c.device, active.pending, Cause.NEW_CALL)  # prompted: lifted
            d.result = {"call": active.id, "device": c.device}
            return
        raise CstaError("invalidDeviceState", f"{c.device} is already off-hook")
    ringing = d.switch.with_state(c.device, ALERTING)
    if ringing:
        answer(d, ringing[0].id, c.device)
        d.result = {"call": ringing[0].id, "device": c.device}
        return
    call_id = start_call(d, c.device, c.device, Cause.NEW_CALL)
    d.result = {"call": call_id, "device": c.device}


def on_hook(d: Decision, c: cmd.OnHook) -> None:
    d.device(c.device)
    active = d.switch.active_call(c.device)
    if active is None:
        raise CstaError("noConnectionToClear", f"{c.device} is already on-hook")
    leave(d, active.id, c.device)


def dial(d: Decision, c: cmd.Dial) -> None:
    dev = d.device(c.device)
    if dev.kind not in PHONE_KINDS and dev.kind not in EXTERNAL_KINDS:
        raise CstaError("requestIncompatibleWithDevice", f"{dev.number} cannot dial")
    dest = d.resolve(c.digits)
    if dest == c.device:
        raise CstaError("notDifferentDevices", f"{c.device} cannot call itself")
    if dev.kind in EXTERNAL_KINDS and d.site.is_external(dest):
        raise CstaError("invalidDestination", "a trunk party can only call into the site")
    active = d.switch.active_call(c.device)
    if active is not None:
        if not _dial_tone(active, c.device):
            raise CstaError("invalidDeviceState", f"{c.device} is busy on call {active.id}")
        call_id = active.id
    elif dev.kind is DeviceKind.ANALOG_PHONE:
        raise CstaError("invalidDeviceState", f"{c.device} is on-hook: lift the handset first")
    else:
        check_calling_free(d.switch, c.device)
        call_id = start_call(d, c.device, c.device, Cause.NEW_CALL)
    originate(d, call_id, c.device, dest, Cause.NEW_CALL)
    d.result = {"call": call_id, "device": c.device}
