"""Which services a device may use on each of its connections right now (CALL-12).

Built from the same pre-condition checks the services run, so a UI is never offered a button
that the engine would refuse for the connection's state: each check is written once as the
refusal it gives (``*_refusal``, None when the service may run), which the service raises and
this only looks at. No exception is raised and caught per refused service: every retained
device state publishes these buttons for each of the device's connections.
"""

from __future__ import annotations

from cti.calls.services.basic import answer_refusal
from cti.calls.services.holding import (
    consultation_refusal,
    hold_refusal,
    retrieve_refusal,
    two_call_refusal,
)
from cti.calls.services.redirect import deflect_refusal, single_step_refusal
from cti.calls.state import Call, SwitchState
from cti.calls.values import ConnectionState
from cti.site.model import Site

TWO_CALL_SERVICES = ("alternateCall", "transferCall", "conferenceCall", "reconnectCall")
NULL = ConnectionState.NULL
HOLD = ConnectionState.HOLD


def allowed_services(site: Site, state: SwitchState, device: str, call: Call) -> tuple[str, ...]:
    """Service names allowed on connection (call, device), in a stable order."""
    st = call.state_of(device)
    if st is NULL:
        return ()
    out: list[str] = []
    if answer_refusal(state, call, device) is None:
        out.append("answerCall")
    if hold_refusal(site, state, call, device) is None:
        out.append("holdCall")
    if retrieve_refusal(state, call, device) is None:
        out.append("retrieveCall")
    if consultation_refusal(site, state, call, device) is None:
        out.append("consultationCall")
    if single_step_refusal(site, call, device) is None:
        out.append("singleStepTransferCall")
    if deflect_refusal(call, device) is None:
        out.append("deflectCall")
    out.append("clearConnection")
    # Two-call services pair this connection with the device's other (held or active) call.
    held: Call | None = call
    active: Call | None = call
    if st is HOLD:
        active = state.active_call(device)
    else:
        held = next(iter(state.with_state(device, HOLD)), None)
    if held is not None and active is not None and held.id != active.id:
        for service in TWO_CALL_SERVICES:
            if two_call_refusal(site, service, held, active, device) is None:
                out.append(service)
    return tuple(out)
