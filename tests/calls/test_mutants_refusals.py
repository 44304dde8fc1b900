"""Refusal messages are part of the interface: a UI shows them and an integrator logs them, so
each names the service, device, call or state it is about (specs/call-model.md, refusals).

tests/calls/test_refusals.py checks the error name of every refusal path; this checks the
exact text of the ones whose text ``make mutants`` found unchecked (TESTING.md), plus the
transfer of two ringing parties, a refusal no other test reached.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cti.calls import commands as c
from cti.calls.values import ForwardingType
from tests.office import Office

Setup = Callable[[Office], object]


def _voicemail(o: Office) -> None:
    o.do(c.MakeCall(calling="330", called="351"))  # call 1, answered by voicemail at once


def _ringing(o: Office) -> None:
    o.do(c.MakeCall(calling="330", called="331"))  # call 1, 331 alerting


def _holding_and_talking(o: Office) -> None:
    o.talking("330", "331")
    o.do(c.HoldCall(call=1, device="330"))
    o.talking("330", "332")  # call 2


def _holding_and_off_hook(o: Office) -> None:
    o.talking("330", "331")
    o.do(c.HoldCall(call=1, device="330"))
    o.do(c.OffHook(device="330"))  # call 2, 330 initiated


def _callback_prompt(o: Office) -> None:
    o.do(c.MakeCall(calling="335", called="331"))  # call 1 rings 335's mobile first (CALL-15)


def _nothing(o: Office) -> None:
    pass


def _off_hook(o: Office) -> None:
    o.do(c.OffHook(device="330"))  # call 1, 330 initiated (dial tone)


def _talking(o: Office) -> None:
    o.talking("330", "331")  # call 1


def _analogue_prompted(o: Office) -> None:
    o.do(c.MakeCall(calling="334", called="331"))  # call 1: 334 prompted, 331 still to dial


def _sip_talking(o: Office) -> None:
    o.talking("333", "331")  # call 1


def _sip_holding_and_talking(o: Office) -> None:
    o.talking("333", "331")
    o.do(c.HoldCall(call=1, device="333"))
    o.talking("333", "332")


def _two_ringing_calls(o: Office) -> None:
    o.do(c.MakeCall(calling="330", called="331"))  # 330 connected, 331 still ringing
    o.do(c.HoldCall(call=1, device="330"))
    o.do(c.MakeCall(calling="330", called="332"))  # call 2, 332 ringing


def _holding(o: Office) -> None:
    o.talking("330", "331")
    o.do(c.HoldCall(call=1, device="330"))


def _ringing_and_picked_up(o: Office) -> None:
    o.do(c.MakeCall(calling="332", called="330"))  # call 1, 330 ringing
    o.do(c.MakeCall(calling="300", called="331"))  # call 2, 331 ringing
    o.do(c.DirectedPickupCall(device="330", picked="331"))  # 330 talks in call 2, call 1 rings


CASES: list[tuple[str, Setup, c.Command, str, str]] = [
    (
        "CALL-07 no single-step transfer to a party of the call",
        _talking,
        c.SingleStepTransferCall(call=1, device="330", to="331"),
        "invalidDestination",
        "331 is already in call 1",
    ),
    (
        "CALL-09 no deflection to a party of the call",
        _ringing,
        c.DeflectCall(call=1, device="331", to="330"),
        "invalidDestination",
        "330 is already in call 1",
    ),
    (
        "CALL-03 a phone busy on a picked-up call does not answer its ringing one",
        _ringing_and_picked_up,
        c.AnswerCall(call=1, device="330"),
        "invalidDeviceState",
        "330 is busy on call 2",
    ),
    (
        "CALL-06 alternate needs an active call",
        _holding,
        c.AlternateCall(device="330"),
        "noActiveCall",
        "330 has no active call",
    ),
    (
        "CALL-06 held and active are two calls",
        _holding_and_talking,
        c.ReconnectCall(device="330", held_call=1, active_call=1),
        "invalidParameterValue",
        "held and active call are the same call",
    ),
    (
        "CALL-04 voicemail does not hold",
        _voicemail,
        c.HoldCall(call=1, device="351"),
        "requestIncompatibleWithDevice",
        "holdCall is not available on the voicemail 351",
    ),
    (
        "CALL-07 voicemail does not hand a call on",
        _voicemail,
        c.SingleStepTransferCall(call=1, device="351", to="332"),
        "requestIncompatibleWithDevice",
        "singleStepTransferCall is not available on the voicemail 351",
    ),
    (
        "CALL-04 a ringing connection cannot be held",
        _ringing,
        c.HoldCall(call=1, device="331"),
        "invalidConnectionState",
        "331 is alerting in call 1, not connected",
    ),
    (
        "CALL-04 one held call per device",
        _holding_and_talking,
        c.HoldCall(call=2, device="330"),
        "invalidDeviceState",
        "330 already holds call 1",
    ),
    (
        "CALL-07 only an answered call is handed on",
        _ringing,
        c.SingleStepTransferCall(call=1, device="330", to="332"),
        "invalidConnectionState",
        "nobody has answered call 1 yet",
    ),
    (
        "CALL-06 alternate needs a connected active call",
        _holding_and_off_hook,
        c.AlternateCall(device="330"),
        "invalidActiveConnectionState",
        "330 is initiated in call 2",
    ),
    (
        "CALL-09 CALL-15 a callback prompt is not deflected",
        _callback_prompt,
        c.DeflectCall(call=1, device="+491701234567", to="332"),
        "requestIncompatibleWithObject",
        "call 1 is a callback prompt",
    ),
    (
        "CALL-08 CALL-13 no conference for SIP phones",
        _sip_holding_and_talking,
        c.ConferenceCall(device="333"),
        "serviceNotSupported",
        "conferenceCall is not available for SIP phone 333 (CALL-13)",
    ),
    (
        "CALL-05 voicemail does not consult",
        _voicemail,
        c.ConsultationCall(call=1, device="351", consulted="332"),
        "requestIncompatibleWithDevice",
        "consultationCall is not available on the voicemail 351",
    ),
    (
        "CALL-05 CALL-13 no consultation for SIP phones",
        _sip_talking,
        c.ConsultationCall(call=1, device="333", consulted="332"),
        "serviceNotSupported",
        "consultationCall is not available for SIP phone 333 (CALL-13)",
    ),
    (
        "CALL-01 voicemail cannot dial",
        _nothing,
        c.Dial(device="351", digits="331"),
        "requestIncompatibleWithDevice",
        "351 cannot dial",
    ),
    (
        "CALL-01 a phone does not dial itself",
        _nothing,
        c.Dial(device="330", digits="330"),
        "notDifferentDevices",
        "330 cannot call itself",
    ),
    (
        "CALL-01 CALL-13 a trunk party dials into the site only",
        _nothing,
        c.Dial(device="+4930123456", digits="+4940123456"),
        "invalidDestination",
        "a trunk party can only call into the site",
    ),
    (
        "CALL-01 a ringing phone does not dial",
        _ringing,
        c.Dial(device="331", digits="332"),
        "invalidCallingDeviceState",
        "331 is ringing (call 1)",
    ),
    (
        "CALL-13 a prompted analogue phone does not dial something else",
        _analogue_prompted,
        c.Dial(device="334", digits="332"),
        "invalidDeviceState",
        "334 is busy on call 1",
    ),
    (
        "CALL-13 a prompted analogue phone makes no second call",
        _analogue_prompted,
        c.MakeCall(calling="334", called="332"),
        "invalidCallingDeviceState",
        "334 is busy on call 1",
    ),
    (
        "CALL-03 voicemail has no handset",
        _nothing,
        c.OffHook(device="351"),
        "requestIncompatibleWithDevice",
        "351 has no handset",
    ),
    (
        "CALL-03 off-hook twice",
        _off_hook,
        c.OffHook(device="330"),
        "invalidDeviceState",
        "330 is already off-hook",
    ),
    (
        "CALL-10 a busy phone does not pick up",
        _talking,
        c.DirectedPickupCall(device="330", picked="332"),
        "invalidDeviceState",
        "330 is busy on call 1",
    ),
    (
        "CALL-14 no do-not-disturb on an attendant position",
        _nothing,
        c.SetDoNotDisturb(device="300", on=True),
        "requestIncompatibleWithDevice",
        "do-not-disturb is not available on an attendant position (300, CALL-14)",
    ),
    (
        "CALL-14 no do-not-disturb on a MULAP member",
        _nothing,
        c.SetDoNotDisturb(device="337", on=True),
        "requestIncompatibleWithDevice",
        "do-not-disturb is not available on a MULAP member (337, CALL-14)",
    ),
    (
        "CALL-16 forwarding needs a destination",
        _nothing,
        c.SetForwarding(device="331", forwarding_type=ForwardingType.IMMEDIATE, on=True),
        "invalidForwardingDestination",
        "forwarding needs a destination",
    ),
    (
        "CALL-16 no-answer ring time range",
        _nothing,
        c.SetForwarding(
            device="331",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="332",
            ring_time=121,
        ),
        "invalidParameterValue",
        "ring_time must be 5..120 s",
    ),
    (
        "CALL-16 ring time only for no-answer forwarding",
        _nothing,
        c.SetForwarding(
            device="331",
            forwarding_type=ForwardingType.BUSY,
            on=True,
            destination="332",
            ring_time=20,
        ),
        "invalidParameterValue",
        "ring_time applies to forwardNoAns only",
    ),
    (
        "CALL-07 transfer would leave a call of ringing phones",
        _two_ringing_calls,
        c.TransferCall(device="330"),
        "invalidActiveConnectionState",
        "neither remaining party has answered: transfer would leave a call of ringing phones",
    ),
]


@pytest.mark.parametrize(
    ("setup", "command", "name", "message"), [x[1:] for x in CASES], ids=[x[0] for x in CASES]
)
def test_refusal_names_and_messages(
    setup: Setup, command: c.Command, name: str, message: str
) -> None:
    """CALL-01, CALL-03..10, CALL-13..16 (see the ids): the refusal name and exact message."""
    office = Office()
    setup(office)
    err = office.refuse(command)
    assert (err.name, err.message) == (name, message)


def test_call_07_transfer_of_two_ringing_calls_leaves_both_ringing(office: Office) -> None:
    """CALL-07: a transfer must not strand a call of ringing phones; refused, the two calls
    stay as they were, and each can still be answered."""
    _two_ringing_calls(office)
    assert office.refuse(c.TransferCall(device="330")).name == "invalidActiveConnectionState"
    assert office.connections("330") == [(1, "hold"), (2, "connected")]
    assert office.connections("331") == [(1, "alerting")]
    assert office.connections("332") == [(2, "alerting")]
    office.do(c.AnswerCall(call=2, device="332"))
    office.do(c.TransferCall(device="330"))  # now 332 has answered: allowed
    assert office.connections("331") == [(1, "alerting")]
    assert office.connections("332") == [(1, "connected")]
