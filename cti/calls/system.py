"""Calls the node itself places from a device it serves (a voicemail playing a message on the
user's phone, VM-04; a conference bridge calling a participant out, CONF-04).

For contexts' handlers and reactions: the serving device is connected at once (there is no one
to lift a handset), the destination is offered the call as if a phone had dialled it. To hang
the served side up, use :func:`cti.calls.routing.leave`."""

from __future__ import annotations

from typing import Any

from cti.calls.decision import CallDecision
from cti.calls.errors import CstaError
from cti.calls.routing import originate
from cti.calls.services.basic import start_call
from cti.calls.values import Cause
from cti.kernel.decision import Decision
from cti.site.model import AUTO_ANSWER_KINDS


def place_call(d: Decision[Any], device: str, dest: str, cause: Cause = Cause.MAKE_CALL) -> int:
    """Place a call from ``device`` (voicemail or bridge) to ``dest`` (a dialled number, as in
    makeCall); returns the call id. Refuses like makeCall would (invalidDestination, ...)."""
    cd = CallDecision.view(d)
    served = cd.device(device, "invalidCallingDeviceID")
    if served.kind not in AUTO_ANSWER_KINDS:
        raise CstaError(
            "requestIncompatibleWithCallingDevice", f"{device} is a {served.kind}, not served"
        )
    target = cd.resolve(dest)
    if target == device:
        raise CstaError("notDifferentDevices", f"{device} cannot call itself")
    call_id = start_call(cd, device, device, cause, called=target)
    originate(cd, call_id, device, target, Cause.NEW_CALL)
    return call_id
