"""Which services a device may use on each of its connections right now (CALL-12).

Built from the same pre-condition checks the services run, so a UI is never offered a button
that the engine would refuse for the connection's state.
"""

from __future__ import annotations

from collections.abc import Callable

from cti.calls.errors import CstaError
from cti.calls.services import basic, holding, redirect
from cti.calls.state import Call, SwitchState
from cti.calls.values import ConnectionState
from cti.site.model import Site

TWO_CALL_SERVICES = ("alternateCall", "transferCall", "conferenceCall", "reconnectCall")


def _ok(check: Callable[[], None]) -> bool:
    try:
        check()
    except CstaError:
        return False
    return True


def allowed_services(site: Site, state: SwitchState, device: str, call: Call) -> tuple[str, ...]:
    """Service names allowed on connection (call, device), in a stable order."""
    st = call.state_of(device)
    if st is ConnectionState.NULL:
        return ()
    out: list[str] = []
    single: list[tuple[str, Callable[[], None]]] = [
        ("answerCall", lambda: basic.check_answer(state, call, device)),
        ("holdCall", lambda: holding.check_hold(site, state, call, device)),
        ("retrieveCall", lambda: holding.check_retrieve(state, call, device)),
        ("consultationCall", lambda: holding.check_consultation(site, state, call, device)),
        ("singleStepTransferCall", lambda: redirect.check_single_step(site, call, device)),
        ("deflectCall", lambda: redirect.check_deflect(call, device)),
    ]
    out.extend(name for name, check in single if _ok(check))
    out.append("clearConnection")
    # Two-call services pair this connection with the device's other (held or active) call.
    held: Call | None = call
    active: Call | None = call
    if st is ConnectionState.HOLD:
        active = state.active_call(device)
    else:
        held = next(iter(state.with_state(device, ConnectionState.HOLD)), None)
    if held is not None and active is not None and held.id != active.id:
        for service in TWO_CALL_SERVICES:
            if _ok(lambda s=service: holding.check_two(site, s, held, active, device)):  # type: ignore[misc]
                out.append(service)
    return tuple(out)
