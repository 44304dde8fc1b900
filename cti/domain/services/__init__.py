"""Where a service is decided: ``decide(site, state, command, now_ms) -> Decision``.

One module per family of services; this one only dispatches. ``decide`` is pure: it reads the
state, returns the events to record and the service result, or raises :class:`CstaError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cti.domain import commands as cmd
from cti.domain.services import basic, features, holding, redirect
from cti.domain.services.context import Decision, Result
from cti.domain.site import Site
from cti.domain.state import SwitchState

__all__ = ["Decision", "Result", "decide"]

_SERVICES: dict[type[cmd.Command], Callable[[Decision, Any], None]] = {
    cmd.MakeCall: basic.make_call,
    cmd.AnswerCall: basic.answer_call,
    cmd.ClearConnection: basic.clear_connection,
    cmd.ClearCall: basic.clear_call_service,
    cmd.OffHook: basic.off_hook,
    cmd.OnHook: basic.on_hook,
    cmd.Dial: basic.dial,
    cmd.HoldCall: holding.hold_call,
    cmd.RetrieveCall: holding.retrieve_call,
    cmd.ConsultationCall: holding.consultation_call,
    cmd.AlternateCall: holding.alternate_call,
    cmd.ReconnectCall: holding.reconnect_call,
    cmd.TransferCall: holding.transfer_call,
    cmd.ConferenceCall: holding.conference_call,
    cmd.SingleStepTransferCall: redirect.single_step_transfer,
    cmd.DeflectCall: redirect.deflect_call,
    cmd.DirectedPickupCall: redirect.directed_pickup,
    cmd.GroupPickupCall: redirect.group_pickup,
    cmd.SetForwarding: features.set_forwarding,
    cmd.SetDoNotDisturb: features.set_do_not_disturb,
    cmd.FireTimer: features.fire_timer,
}


def decide(site: Site, state: SwitchState, command: cmd.Command, now_ms: int) -> Decision:
    """Decide ``command`` against ``state``; raises CstaError when the service is refused."""
    decision = Decision(site, state, now_ms)
    _SERVICES[type(command)](decision, command)
    return decision
