"""Switch features of a device: forwarding and do-not-disturb (CALL-16, CALL-14), and the
no-answer timer that makes forwarding-on-no-answer happen."""

from __future__ import annotations

from cti.calls import commands as cmd
from cti.calls import events as ev
from cti.calls.decision import CallDecision as Decision
from cti.calls.errors import CstaError
from cti.calls.routing import divert
from cti.calls.values import ConnectionState, ForwardingType
from cti.presence.events import PresenceChanged
from cti.presence.model import Status
from cti.site.model import PHONE_KINDS, Device

DEFAULT_RING_TIME = 15
RING_TIME_RANGE = range(5, 121)


def _phone(d: Decision, number: str) -> Device:
    dev = d.device(number)
    if dev.kind not in PHONE_KINDS:
        raise CstaError("requestIncompatibleWithDevice", f"{number} is a {dev.kind}, not a phone")
    return dev


def set_forwarding(d: Decision, c: cmd.SetForwarding) -> None:
    _phone(d, c.device)
    current = d.switch.device(c.device).forwarding.get(c.forwarding_type)
    if not c.on:
        if current is not None:
            d.emit(ev.Forwarding(device=c.device, forwarding_type=c.forwarding_type, on=False))
        return
    if not c.destination:
        raise CstaError("invalidForwardingDestination", "forwarding needs a destination")
    dest = d.resolve(c.destination, "invalidForwardingDestination")
    if dest == c.device:
        raise CstaError("invalidForwardingDestination", f"{c.device} cannot forward to itself")
    group = d.site.mulap_of(c.device)
    if dest == group:
        # The group would ring the forwarding phone itself (CALL-14).
        raise CstaError(
            "invalidForwardingDestination",
            f"{c.device} cannot forward to its own MULAP group {group}",
        )
    ring_time = 0
    if c.forwarding_type == ForwardingType.NO_ANSWER:
        ring_time = DEFAULT_RING_TIME if c.ring_time is None else c.ring_time
        if ring_time not in RING_TIME_RANGE:
            raise CstaError(
                "invalidParameterValue",
                f"ring_time must be {RING_TIME_RANGE.start}..{RING_TIME_RANGE.stop - 1} s",
            )
    elif c.ring_time is not None:
        raise CstaError("invalidParameterValue", "ring_time applies to forwardNoAns only")
    if current is not None and (current.destination, current.ring_time) == (dest, ring_time):
        return  # already so: nothing to record
    d.emit(
        ev.Forwarding(
            device=c.device,
            forwarding_type=c.forwarding_type,
            on=True,
            destination=dest,
            ring_time=ring_time,
        )
    )


def set_do_not_disturb(d: Decision, c: cmd.SetDoNotDisturb) -> None:
    dev = _phone(d, c.device)
    if c.on and (dev.attendant or d.site.mulap_of(c.device) is not None):
        where = "an attendant position" if dev.attendant else "a MULAP member"
        raise CstaError(
            "requestIncompatibleWithDevice",
            f"do-not-disturb is not available on {where} ({c.device}, CALL-14)",
        )
    if d.switch.device(c.device).dnd != c.on:
        d.emit(ev.DoNotDisturb(device=c.device, on=c.on))
    if not c.on and d.state.presence.of(c.device).status is Status.DO_NOT_DISTURB:
        # A DND the user set through presence, switched off at the phone: the user is back
        # in the office, and the DND's return time and info go with it (specs/presence.md).
        d.emit(PresenceChanged(user=c.device, status=Status.OFFICE))


def fire_timer(d: Decision, c: cmd.FireTimer) -> None:
    key = (c.call, c.device, c.purpose)
    due = d.switch.timers.get(key)
    if due is None:
        raise CstaError("invalidParameterValue", f"no timer {key}")
    if due > d.now_ms:
        raise CstaError("invalidParameterValue", f"timer {key} is not due")
    d.emit(ev.TimerCleared(call=c.call, device=c.device, purpose=c.purpose))
    call = d.switch.call(c.call)
    fwd = d.switch.device(c.device).forwarding.get(ForwardingType.NO_ANSWER)
    if call is None or fwd is None or call.state_of(c.device) is not ConnectionState.ALERTING:
        return
    offered = call.offer_to(c.device)  # the caller actually connected, e.g. after a transfer
    # If the target cannot take the call it keeps ringing here: nothing but the timer changes.
    d.attempt(
        lambda: divert(
            d,
            call.id,
            c.device,
            fwd.destination,
            ForwardingType.NO_ANSWER,
            origin=None,
            calling=offered.calling,
            called=offered.called,
            visited=(),
        )
    )
