"""Where a service is decided: one module per family of services; this one lists them.

Each handler reads the decision's scratch state, emits the events to record and sets the
service result, or raises :class:`~cti.calls.errors.CstaError`. Handlers are pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cti.calls import commands as cmd
from cti.calls.services import basic, devices, digits, features, holding, redirect

SERVICES: dict[type[cmd.Command], Callable[[Any, Any], None]] = {
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
    cmd.GenerateDigits: digits.generate_digits,
    cmd.ForgetDevices: devices.forget_devices,
}
