"""Every refusal path: the CSTA error name, and (via Office.refuse) that nothing changed."""

from __future__ import annotations

import pytest

from cti.calls import commands as c
from cti.calls.values import ForwardingType, TimerPurpose
from tests.office import Office

FWD = ForwardingType


def _talking(o: Office) -> None:
    o.talking("330", "331")  # call 1


def _consulting(o: Office) -> None:
    o.talking("330", "331")  # call 1 held by 330 after the consultation
    o.do(c.ConsultationCall(call=1, device="330", consulted="332"))  # call 2, 332 ringing


def _ringing(o: Office) -> None:
    o.do(c.MakeCall(calling="330", called="331"))  # call 1, 331 alerting


def _nothing(o: Office) -> None:
    pass


def _voicemail(o: Office) -> None:
    o.do(c.MakeCall(calling="330", called="351"))  # call 1, answered by voicemail at once


CASES = [
    # makeCall (CALL-01, CALL-13)
    (_nothing, c.MakeCall(calling="999", called="331"), "invalidCallingDeviceID"),
    (_nothing, c.MakeCall(calling="351", called="331"), "requestIncompatibleWithCallingDevice"),
    (_nothing, c.MakeCall(calling="330", called="999"), "invalidDestination"),
    (_nothing, c.MakeCall(calling="330", called="33x"), "invalidDestination"),
    (_nothing, c.MakeCall(calling="330", called="330"), "notDifferentDevices"),
    (_talking, c.MakeCall(calling="330", called="332"), "invalidCallingDeviceState"),
    (_ringing, c.MakeCall(calling="331", called="332"), "invalidCallingDeviceState"),
    # answer / clear (CALL-03)
    (_nothing, c.AnswerCall(call=7, device="331"), "invalidCallID"),
    (_ringing, c.AnswerCall(call=1, device="332"), "invalidConnectionID"),
    (_ringing, c.AnswerCall(call=1, device="330"), "noCallToAnswer"),
    (_ringing, c.ClearConnection(call=1, device="332"), "invalidConnectionID"),
    (_nothing, c.ClearCall(call=1), "invalidCallID"),
    # voicemail takes calls; it does not hold or hand them on (CALL-13)
    (_voicemail, c.HoldCall(call=1, device="351"), "requestIncompatibleWithDevice"),
    (
        _voicemail,
        c.ConsultationCall(call=1, device="351", consulted="331"),
        "requestIncompatibleWithDevice",
    ),
    (
        _voicemail,
        c.SingleStepTransferCall(call=1, device="351", to="331"),
        "requestIncompatibleWithDevice",
    ),
    # hold / retrieve (CALL-04)
    (_ringing, c.HoldCall(call=1, device="331"), "invalidConnectionState"),
    (_talking, c.RetrieveCall(call=1, device="330"), "noHeldCall"),
    (_consulting, c.RetrieveCall(call=1, device="330"), "connectedCallExists"),
    # consultation (CALL-05, CALL-13)
    (_ringing, c.ConsultationCall(call=1, device="331", consulted="332"), "invalidConnectionState"),
    (_consulting, c.ConsultationCall(call=2, device="330", consulted="333"), "invalidDeviceState"),
    (_talking, c.ConsultationCall(call=1, device="330", consulted="999"), "invalidDestination"),
    (_talking, c.ConsultationCall(call=1, device="330", consulted="331"), "invalidDestination"),
    # two-call services (CALL-06, CALL-07, CALL-08)
    (_talking, c.AlternateCall(device="330"), "noHeldCall"),
    (
        _consulting,
        c.AlternateCall(device="330", held_call=2, active_call=1),
        "invalidHeldConnectionState",
    ),
    (_consulting, c.TransferCall(device="330", held_call=1, active_call=9), "invalidCallID"),
    (_consulting, c.TransferCall(device="331", held_call=1, active_call=2), "invalidConnectionID"),
    (_consulting, c.ConferenceCall(device="330"), "invalidActiveConnectionState"),
    (
        _consulting,
        c.ReconnectCall(device="330", held_call=1, active_call=1),
        "invalidParameterValue",
    ),
    # single-step transfer, deflect (CALL-07, CALL-09)
    (_ringing, c.SingleStepTransferCall(call=1, device="331", to="332"), "invalidConnectionState"),
    (_talking, c.SingleStepTransferCall(call=1, device="330", to="331"), "invalidDestination"),
    (_talking, c.SingleStepTransferCall(call=1, device="330", to="999"), "invalidDestination"),
    (_talking, c.SingleStepTransferCall(call=1, device="330", to="330"), "invalidDestination"),
    (_talking, c.DeflectCall(call=1, device="331", to="332"), "invalidConnectionState"),
    (_ringing, c.DeflectCall(call=1, device="331", to="330"), "invalidDestination"),
    (_ringing, c.DeflectCall(call=1, device="331", to="331"), "invalidDestination"),
    # pickup (CALL-10)
    (_nothing, c.DirectedPickupCall(picked="331", device="332"), "noCallToAnswer"),
    (_ringing, c.DirectedPickupCall(picked="331", device="331"), "notDifferentDevices"),
    (_ringing, c.DirectedPickupCall(picked="999", device="332"), "invalidPickUpDeviceID"),
    (_ringing, c.DirectedPickupCall(picked="331", device="351"), "requestIncompatibleWithDevice"),
    (_nothing, c.GroupPickupCall(device="330"), "noCallToAnswer"),
    (_ringing, c.GroupPickupCall(device="333"), "requestIncompatibleWithDevice"),
    # forwarding and DND (CALL-16, CALL-14)
    (
        _nothing,
        c.SetForwarding(device="331", forwarding_type=FWD.IMMEDIATE, on=True),
        "invalidForwardingDestination",
    ),
    (
        _nothing,
        c.SetForwarding(device="331", forwarding_type=FWD.IMMEDIATE, on=True, destination="331"),
        "invalidForwardingDestination",
    ),
    (
        _nothing,
        c.SetForwarding(device="331", forwarding_type=FWD.IMMEDIATE, on=True, destination="9x"),
        "invalidForwardingDestination",
    ),
    (
        _nothing,
        c.SetForwarding(
            device="331", forwarding_type=FWD.NO_ANSWER, on=True, destination="332", ring_time=2
        ),
        "invalidParameterValue",
    ),
    (
        _nothing,
        c.SetForwarding(
            device="331", forwarding_type=FWD.BUSY, on=True, destination="332", ring_time=20
        ),
        "invalidParameterValue",
    ),
    (
        _nothing,
        c.SetForwarding(device="351", forwarding_type=FWD.BUSY, on=True, destination="332"),
        "requestIncompatibleWithDevice",
    ),
    (_nothing, c.SetDoNotDisturb(device="337", on=True), "requestIncompatibleWithDevice"),
    (_nothing, c.SetDoNotDisturb(device="300", on=True), "requestIncompatibleWithDevice"),
    (_nothing, c.SetDoNotDisturb(device="777", on=True), "invalidDeviceID"),
    # phone inputs
    (_talking, c.OffHook(device="330"), "invalidDeviceState"),
    (_nothing, c.OnHook(device="330"), "noConnectionToClear"),
    (_nothing, c.Dial(device="334", digits="331"), "invalidDeviceState"),
    (_talking, c.Dial(device="330", digits="332"), "invalidDeviceState"),
    (_nothing, c.Dial(device="+4930123456", digits="+4940123456"), "invalidDestination"),
    (
        _nothing,
        c.FireTimer(call=1, device="331", purpose=TimerPurpose.NO_ANSWER),
        "invalidParameterValue",
    ),
]


@pytest.mark.parametrize(
    ("setup", "command", "error"), CASES, ids=lambda v: getattr(v, "SERVICE", None)
)
def test_refused_and_nothing_changed(setup, command, error) -> None:  # type: ignore[no-untyped-def]
    office = Office()
    setup(office)
    err = office.refuse(command)
    assert err.name == error, err.message
    assert err.message


def test_sip_phone_has_no_consultation_or_conference() -> None:  # CALL-13
    office = Office()
    office.talking("333", "331")
    err = office.refuse(c.ConsultationCall(call=1, device="333", consulted="332"))
    assert err.name == "serviceNotSupported"
    office.do(c.HoldCall(call=1, device="333"))
    office.do(c.MakeCall(calling="333", called="332"))
    office.do(c.AnswerCall(call=2, device="332"))
    assert office.refuse(c.ConferenceCall(device="333")).name == "serviceNotSupported"
    office.do(c.TransferCall(device="333"))  # transfer itself stays available


def test_busy_transfer_target_refuses_single_step_transfer() -> None:
    office = Office()
    office.talking("330", "331")
    office.talking("332", "+4930123456")
    assert (
        office.refuse(c.SingleStepTransferCall(call=1, device="330", to="332")).name
        == "invalidDestinationDeviceState"
    )


def test_store_failure_refuses_the_batch_and_keeps_state() -> None:
    from cti.store import StoreError

    office = Office()
    office.talking("330", "331")
    before = office.state
    office.store.fail_next_append = StoreError("disk full")
    outcome = office.node.execute(c.HoldCall(call=1, device="330"))
    assert not outcome.ok and outcome.error.name == "resourceOutOfService"  # type: ignore[union-attr]
    assert office.state is before
    office.do(c.HoldCall(call=1, device="330"))  # the next command works again
    office.assert_replays()
