"""Services that move a call to another device: single-step transfer (CALL-07), deflect
(CALL-09) and directed / group pickup (CALL-10)."""

from __future__ import annotations

from cti.calls import commands as cmd
from cti.calls import events as ev
from cti.calls.decision import CallDecision as Decision
from cti.calls.errors import CstaError, Refused, refuse
from cti.calls.routing import answer, offer
from cti.calls.services.holding import controllable_refusal
from cti.calls.state import Call, Offer, SwitchState
from cti.calls.values import Cause, ConnectionState
from cti.site.model import EXTERNAL_KINDS, PHONE_KINDS, Site

NULL = ConnectionState.NULL
ALERTING = ConnectionState.ALERTING
CONNECTED = ConnectionState.CONNECTED


def single_step_refusal(site: Site, call: Call, device: str) -> Refused | None:
    """Why singleStepTransferCall would be refused on (call, device); None if it would not."""
    refusal = controllable_refusal(site, device, "singleStepTransferCall")
    if refusal is not None:
        return refusal
    if call.state_of(device) is not CONNECTED:
        return ("invalidConnectionState", f"{device} is not connected in call {call.id}")
    if not any(p.state in (CONNECTED, ConnectionState.HOLD) for p in call.others(device)):
        # Only an answered party can be handed on; a ringing one would be left alone.
        return ("invalidConnectionState", f"nobody has answered call {call.id} yet")
    return None


def check_single_step(site: Site, call: Call, device: str) -> None:
    refuse(single_step_refusal(site, call, device))


def single_step_transfer(d: Decision, c: cmd.SingleStepTransferCall) -> None:
    call, _ = d.connection(c.call, c.device)
    check_single_step(d.site, call, c.device)
    dest = d.resolve(c.to)
    if dest == c.device:  # any other party of the call: the offer below refuses it alike
        raise CstaError("invalidDestination", f"{dest} is already in call {call.id}")
    others = call.others(c.device)
    # The new party sees the real remaining peer, not the device that transferred (CALL-07):
    # the caller while it is still in the call (as a phone, a MULAP member or a mobility
    # user's mobile: presented as the group or user, CALL-14, CALL-15), else the first
    # remaining party.
    caller_stays = any(
        call.calling in (p.device, d.site.mulap_of(p.device), d.site.owner_of(p.device))
        for p in others
    )
    peer = call.calling if caller_stays else others[0].device
    d.emit(
        ev.Transferred(
            call=call.id,
            cause=Cause.SINGLE_STEP_TRANSFER,
            local=d.local(call, {c.device: NULL}),
            secondary_call=None,
            transferring=c.device,
            transferred_to=dest,
        )
    )
    offer(
        d,
        call.id,
        dest,
        origin=None,
        calling=peer,
        called=dest,
        cause=Cause.SINGLE_STEP_TRANSFER,
        redirecting=c.device,
    )
    d.result = {"call": call.id, "device": dest}


def deflect_refusal(call: Call, device: str) -> Refused | None:
    """Why deflectCall would be refused on (call, device); None if it would not."""
    if call.state_of(device) is not ALERTING:
        return ("invalidConnectionState", f"call {call.id} is not alerting at {device}")
    if call.pending is not None:
        return ("requestIncompatibleWithObject", f"call {call.id} is a callback prompt")
    return None


def check_deflect(call: Call, device: str) -> None:
    refuse(deflect_refusal(call, device))


def deflect_call(d: Decision, c: cmd.DeflectCall) -> None:
    call, _ = d.connection(c.call, c.device)
    check_deflect(call, c.device)
    dest = d.resolve(c.to)
    if dest == c.device:  # any other party of the call: the offer below refuses it alike
        raise CstaError("invalidDestination", f"{dest} is already in call {call.id}")
    offered = call.offer_to(c.device)
    d.emit(
        ev.Diverted(
            call=call.id,
            cause=Cause.REDIRECTED,
            local=d.local(call, {c.device: NULL}),
            diverting=c.device,
            new_destination=dest,
        )
    )
    if call.group is not None and d.site.mulap_of(c.device) == call.group:
        # A member deflects the group call: it leaves the whole group (CALL-14).
        for party in d.call(call.id).parties:
            if party.state is ALERTING and d.site.mulap_of(party.device) == call.group:
                d.emit(
                    ev.ConnectionCleared(
                        call=call.id,
                        cause=Cause.REDIRECTED,
                        local=d.local(d.call(call.id), {party.device: NULL}),
                        device=party.device,
                    )
                )
    offer(
        d,
        call.id,
        dest,
        origin=None,
        calling=offered.calling,
        called=offered.called,
        cause=Cause.REDIRECTED,
        redirecting=c.device,
    )
    d.result = {"call": call.id, "device": dest}


def check_picker(d: Decision, device: str) -> None:
    dev = d.device(device)
    if dev.kind not in PHONE_KINDS:
        raise CstaError("requestIncompatibleWithDevice", f"{device} is not a phone")
    active = d.switch.active_call(device)
    if active is not None:
        raise CstaError("invalidDeviceState", f"{device} is busy on call {active.id}")


def pickable(state: SwitchState, picked: str, picker: str) -> list[Call]:
    return [
        call
        for call in state.with_state(picked, ALERTING)
        if call.pending is None and call.state_of(picker) is NULL
    ]


def _pick_up(d: Decision, call: Call, picked: str, picker: str) -> None:
    offered = call.offer_to(picked)
    d.emit(
        ev.Diverted(
            call=call.id,
            cause=Cause.CALL_PICKUP,
            local=d.local(call, {picked: NULL}),
            diverting=picked,
            new_destination=picker,
        )
    )
    answer(d, call.id, picker, Offer(offered.calling, offered.called, Cause.CALL_PICKUP, picked))
    d.result = {"call": call.id, "device": picker}


def directed_pickup(d: Decision, c: cmd.DirectedPickupCall) -> None:
    check_picker(d, c.device)
    picked_dev = d.device(c.picked, "invalidPickUpDeviceID")
    picked = picked_dev.number
    if picked_dev.kind in EXTERNAL_KINDS:
        # Only the site's own phones can be picked from; a trunk party rings outside (CALL-10).
        raise CstaError(
            "invalidPickUpDeviceID",
            f"{picked} is an external party: only calls ringing at phones of the site can be"
            " picked up",
        )
    if picked == c.device:
        raise CstaError("notDifferentDevices", f"{picked} cannot pick up its own call")
    calls = pickable(d.switch, picked, c.device)
    if c.call is not None:
        calls = [call for call in calls if call.id == c.call]
    if not calls:
        raise CstaError("noCallToAnswer", f"no call to pick up at {picked}")
    _pick_up(d, calls[0], picked, c.device)


def group_pickup(d: Decision, c: cmd.GroupPickupCall) -> None:
    check_picker(d, c.device)
    group = d.site.pickup_group_of(c.device)
    if group is None:
        raise CstaError("requestIncompatibleWithDevice", f"{c.device} is in no pickup group")
    best: tuple[Call, str] | None = None
    for member in group:
        if member == c.device:
            continue
        for call in pickable(d.switch, member, c.device):
            if best is None or call.id < best[0].id:
                best = (call, member)
    if best is None:
        raise CstaError("noCallToAnswer", f"no call is ringing in the pickup group of {c.device}")
    _pick_up(d, best[0], best[1], c.device)
