"""Hold, retrieve and the two-call services at one device: consultation (CALL-05), alternate
(CALL-06), reconnect, transfer (CALL-07) and conference (CALL-08, at most 8 parties)."""

from __future__ import annotations

from cti.calls import commands as cmd
from cti.calls import events as ev
from cti.calls.decision import CallDecision as Decision
from cti.calls.errors import CstaError, Refused, refuse
from cti.calls.routing import MAX_PARTIES, leave, originate, viable
from cti.calls.state import Call, SwitchState
from cti.calls.values import Cause, ConnectionState, TimerPurpose
from cti.site.model import AUTO_ANSWER_KINDS, DeviceKind, Site

HOLD = ConnectionState.HOLD
CONNECTED = ConnectionState.CONNECTED
ALERTING = ConnectionState.ALERTING
MAX_CONFERENCE = MAX_PARTIES


# Each check is written once, as the refusal it gives (None: the service may run): the
# service raises it (``refuse``), CALL-12's allowed_services only looks at it.


def _sip_refusal(site: Site, device: str, service: str) -> Refused | None:
    dev = site.device(device)
    if dev is not None and dev.kind is DeviceKind.SIP_PHONE:
        return (
            "serviceNotSupported",
            f"{service} is not available for SIP phone {device} (CALL-13)",
        )
    return None


def _held(d: Decision, call: Call, device: str, cause: Cause) -> None:
    d.emit(ev.Held(call=call.id, cause=cause, local=d.local(call, {device: HOLD}), device=device))


def _retrieved(d: Decision, call: Call, device: str, cause: Cause) -> None:
    d.emit(
        ev.Retrieved(
            call=call.id, cause=cause, local=d.local(call, {device: CONNECTED}), device=device
        )
    )


def controllable_refusal(site: Site, device: str, service: str) -> Refused | None:
    """Voicemail and conference bridges take calls; they do not hold or hand them on."""
    dev = site.device(device)
    if dev is not None and dev.kind in AUTO_ANSWER_KINDS:
        return (
            "requestIncompatibleWithDevice",
            f"{service} is not available on the {dev.kind} {device}",
        )
    return None


def hold_refusal(site: Site, state: SwitchState, call: Call, device: str) -> Refused | None:
    """Why holdCall would be refused on (call, device); None if it would not."""
    refusal = controllable_refusal(site, device, "holdCall")
    if refusal is not None:
        return refusal
    if call.state_of(device) is not CONNECTED:
        return (
            "invalidConnectionState",
            f"{device} is {call.state_of(device)} in call {call.id}, not connected",
        )
    held = [c.id for c in state.with_state(device, HOLD)]
    if held:
        return ("invalidDeviceState", f"{device} already holds call {held[0]}")
    return None


def check_hold(site: Site, state: SwitchState, call: Call, device: str) -> None:
    refuse(hold_refusal(site, state, call, device))


def hold_call(d: Decision, c: cmd.HoldCall) -> None:
    call, _ = d.connection(c.call, c.device)
    check_hold(d.site, d.switch, call, c.device)
    _held(d, call, c.device, Cause.NORMAL)


def retrieve_refusal(state: SwitchState, call: Call, device: str) -> Refused | None:
    """Why retrieveCall would be refused on (call, device); None if it would not."""
    if call.state_of(device) is not HOLD:
        return ("noHeldCall", f"call {call.id} is not held at {device}")
    active = state.active_call(device)
    if active is not None:
        return ("connectedCallExists", f"{device} is busy on call {active.id}")
    return None


def check_retrieve(state: SwitchState, call: Call, device: str) -> None:
    refuse(retrieve_refusal(state, call, device))


def retrieve_call(d: Decision, c: cmd.RetrieveCall) -> None:
    call, _ = d.connection(c.call, c.device)
    check_retrieve(d.switch, call, c.device)
    _retrieved(d, call, c.device, Cause.NORMAL)


def consultation_refusal(site: Site, state: SwitchState, call: Call, device: str) -> Refused | None:
    """Why consultationCall would be refused on (call, device); None if it would not."""
    refusal = controllable_refusal(site, device, "consultationCall")
    if refusal is None:
        refusal = _sip_refusal(site, device, "consultationCall")
    if refusal is not None:
        return refusal
    if call.state_of(device) is not CONNECTED:
        return ("invalidConnectionState", f"{device} is not connected in call {call.id}")
    others = [cid for cid in state.device(device).calls if cid != call.id]
    if others:
        return ("invalidDeviceState", f"{device} already has call {others[0]}")
    return None


def check_consultation(site: Site, state: SwitchState, call: Call, device: str) -> None:
    refuse(consultation_refusal(site, state, call, device))


def line_of(site: Site, call: Call, device: str) -> str:
    """The number ``device`` is on in ``call``: its MULAP group's when the call is the group's
    (offered to the group or made as it, as the group's view and CSTA monitor count it), else
    the device's own (CALL-14). A member phone keeps its own line besides the group's."""
    group = site.mulap_of(device)
    if group is not None and call.is_groups(group):
        return group
    return device


def consultation_call(d: Decision, c: cmd.ConsultationCall) -> None:
    call, _ = d.connection(c.call, c.device)
    check_consultation(d.site, d.switch, call, c.device)
    dest = d.resolve(c.consulted)
    if dest == c.device or call.state_of(dest) is not ConnectionState.NULL:
        raise CstaError("invalidDestination", f"{dest} is already in call {call.id}")
    _held(d, call, c.device, Cause.CONSULTATION)
    new_id = d.new_call_id()
    d.emit(
        ev.ServiceInitiated(
            call=new_id,
            cause=Cause.CONSULTATION,
            local=(ev.Local(c.device, ConnectionState.INITIATED),),
            device=c.device,
            # The consultation is on the held call's line, as on a real MULAP phone: the
            # group's number only when the held call is the group's.
            calling=line_of(d.site, call, c.device),
            called=dest,
        )
    )
    originate(d, new_id, c.device, dest, Cause.CONSULTATION)
    d.result = {"call": new_id, "device": c.device}


def pick_two(state: SwitchState, c: cmd.TwoCallCommand) -> tuple[Call, Call]:
    """The held and the active call of ``c.device``, as named or as found at the device."""
    device = c.device

    def named(call_id: int) -> Call:
        call = state.call(call_id)
        if call is None:
            raise CstaError("invalidCallID", f"no call {call_id}")
        if call.state_of(device) is ConnectionState.NULL:
            raise CstaError("invalidConnectionID", f"device {device} is not in call {call_id}")
        return call

    if c.held_call is not None:
        held = named(c.held_call)
    else:
        candidates = state.with_state(device, HOLD)
        if not candidates:
            raise CstaError("noHeldCall", f"{device} has no held call")
        held = candidates[0]
    if c.active_call is not None:
        active = named(c.active_call)
    else:
        found = state.active_call(device)
        if found is None:
            raise CstaError("noActiveCall", f"{device} has no active call")
        active = found
    if held.id == active.id:
        raise CstaError("invalidParameterValue", "held and active call are the same call")
    return held, active


def two_call_refusal(
    site: Site, service: str, held: Call, active: Call, device: str
) -> Refused | None:
    """Why alternate/reconnect/transfer/conference would be refused on (held, active)."""
    if held.state_of(device) is not HOLD:
        return ("invalidHeldConnectionState", f"call {held.id} is not held at {device}")
    act = active.state_of(device)
    if service == "reconnectCall":
        if act is HOLD:
            return ("invalidActiveConnectionState", f"call {active.id} is held too")
        return None
    if act is not CONNECTED:
        return ("invalidActiveConnectionState", f"{device} is {act} in call {active.id}")
    if service == "alternateCall":
        # Alternating only swaps which call is on hold: a party in both calls is fine (ECMA-269).
        return None
    others = active.others(device)
    shared = {p.device for p in others} & {p.device for p in held.others(device)}
    if shared:  # e.g. voicemail in both calls: merging would fold two connections into one
        return (
            "requestIncompatibleWithObject",
            f"{min(shared)} is a party of both call {held.id} and call {active.id}",
        )
    if service == "transferCall":
        if not others or not held.others(device):
            return ("invalidActiveConnectionState", "nobody to transfer to")
        if not viable((*held.others(device), *others)):
            return (
                "invalidActiveConnectionState",
                "neither remaining party has answered: transfer would leave a "
                "call of ringing phones",
            )
        if any(p.state not in (CONNECTED, ALERTING, HOLD) for p in others):
            return ("invalidActiveConnectionState", f"call {active.id} has failed")
        size = len(held.parties) - 1 + len(others)  # the transferring device drops out
        if size > MAX_CONFERENCE:
            return (
                "conferenceMemberLimitExceeded",
                f"a call has at most {MAX_CONFERENCE} parties, the transfer would give {size}",
            )
    elif service == "conferenceCall":
        refusal = _sip_refusal(site, device, "conferenceCall")
        if refusal is not None:
            return refusal
        if not others or any(p.state is not CONNECTED for p in others):
            return (
                "invalidActiveConnectionState",
                f"the consulted party of call {active.id} has not answered",
            )
        size = len(held.parties) + len(others)
        if size > MAX_CONFERENCE:
            return (
                "conferenceMemberLimitExceeded",
                f"a conference has at most {MAX_CONFERENCE} parties, this would have {size}",
            )
    return None


def check_two(site: Site, service: str, held: Call, active: Call, device: str) -> None:
    """Pre-conditions of alternate/reconnect/transfer/conference on (held, active)."""
    refuse(two_call_refusal(site, service, held, active, device))


def alternate_call(d: Decision, c: cmd.AlternateCall) -> None:
    held, active = pick_two(d.switch, c)
    check_two(d.site, c.SERVICE, held, active, c.device)
    _held(d, active, c.device, Cause.ALTERNATE)
    _retrieved(d, held, c.device, Cause.ALTERNATE)


def reconnect_call(d: Decision, c: cmd.ReconnectCall) -> None:
    held, active = pick_two(d.switch, c)
    check_two(d.site, c.SERVICE, held, active, c.device)
    leave(d, active.id, c.device)
    held = d.call(held.id)
    _retrieved(d, held, c.device, Cause.NORMAL)


def transfer_call(d: Decision, c: cmd.TransferCall) -> None:
    held, active = pick_two(d.switch, c)
    check_two(d.site, c.SERVICE, held, active, c.device)
    moved = tuple(p.device for p in active.others(c.device))
    # Ringing no-answer timers follow their connection into the resulting call.
    for dev in moved:
        key = (active.id, dev, TimerPurpose.NO_ANSWER)
        due = d.switch.timers.get(key)
        if due is not None:
            d.emit(ev.TimerCleared(call=active.id, device=dev, purpose=key[2]))
            d.emit(ev.TimerSet(call=held.id, device=dev, purpose=key[2], due_ms=due))
    d.emit(
        ev.Transferred(
            call=held.id,
            cause=Cause.TRANSFER,
            local=d.local(held, {c.device: ConnectionState.NULL}, merge=(active,)),
            secondary_call=active.id,
            transferring=c.device,
            transferred_to=moved[0],
            moved=moved,
        )
    )
    d.result = {"call": held.id}


def conference_call(d: Decision, c: cmd.ConferenceCall) -> None:
    held, active = pick_two(d.switch, c)
    check_two(d.site, c.SERVICE, held, active, c.device)
    added = tuple(p.device for p in active.others(c.device))
    d.emit(
        ev.Conferenced(
            call=held.id,
            cause=Cause.CONFERENCE,
            local=d.local(held, {c.device: CONNECTED}, merge=(active,)),
            secondary_call=active.id,
            conferencing=c.device,
            added=added,
        )
    )
    d.result = {"call": held.id}
