"""Scenario tests of redirected calls: who an answering party is told it talks to.

After a single-step transfer, a transfer, a deflection, a pickup or forwarding, the
``established`` event repeats how the call was offered to the answering device (its last
``delivered``): the callingDevice actually connected, the calledDevice, the redirection cause
and the lastRedirectionDevice (ECMA-269 established event; CALL-07, CALL-09, CALL-10, CALL-16).
"""

from __future__ import annotations

from cti.calls import commands as c
from cti.calls.values import ForwardingType
from tests.office import Office


def _forward(office: Office, device: str, kind: ForwardingType, dest: str) -> None:
    office.do(c.SetForwarding(device=device, forwarding_type=kind, on=True, destination=dest))


def test_call_07_single_step_transfer_by_caller_established_names_remaining_party(
    office: Office,
) -> None:
    call = office.talking("330", "331")
    assert office.do(c.SingleStepTransferCall(call=call, device="330", to="332")) == [
        "transferred(singleStepTransfer) call=1 transferring=330 transferred_to=332"
        " | 330:null 331:connected",
        "delivered(singleStepTransfer) call=1 alerting=332 calling=331 called=332"
        " redirecting=330 | 331:connected 332:alerting",
    ]
    assert office.do(c.AnswerCall(call=call, device="332")) == [
        "established(singleStepTransfer) call=1 answering=332 calling=331 called=332"
        " redirecting=330 | 331:connected 332:connected",
    ]
    office.assert_replays()


def test_call_07_transfer_to_ringing_party_established_names_transferred_party(
    office: Office,
) -> None:
    call = office.talking("330", "331")
    office.do(c.ConsultationCall(call=call, device="330", consulted="332"))
    office.do(c.TransferCall(device="330"))
    assert office.do(c.AnswerCall(call=1, device="332")) == [
        "established(transfer) call=1 answering=332 calling=331 called=332 redirecting=330"
        " | 331:connected 332:connected",
    ]
    office.assert_replays()


def test_call_16_no_answer_forwarding_established_carries_redirection(office: Office) -> None:
    _forward(office, "331", ForwardingType.NO_ANSWER, "332")
    office.do(c.MakeCall(calling="330", called="331"))
    office.clock.advance(15)
    [outcome] = office.node.fire_due_timers()
    assert outcome.ok
    assert office.do(c.AnswerCall(call=1, device="332")) == [
        "established(callForwardNoAnswer) call=1 answering=332 calling=330 called=331"
        " redirecting=331 | 330:connected 332:connected",
    ]


def test_call_16_no_answer_forwarding_after_single_step_transfer_keeps_the_real_caller(
    office: Office,
) -> None:
    _forward(office, "332", ForwardingType.NO_ANSWER, "333")
    call = office.talking("330", "331")
    office.do(c.SingleStepTransferCall(call=call, device="330", to="332"))
    office.clock.advance(15)
    [outcome] = office.node.fire_due_timers()
    assert outcome.ok
    assert office.do(c.AnswerCall(call=1, device="333")) == [
        "established(callForwardNoAnswer) call=1 answering=333 calling=331 called=332"
        " redirecting=332 | 331:connected 333:connected",
    ]


def test_call_09_deflected_call_answered_carries_the_deflecting_device(office: Office) -> None:
    office.do(c.MakeCall(calling="330", called="331"))
    office.do(c.DeflectCall(call=1, device="331", to="332"))
    assert office.do(c.AnswerCall(call=1, device="332")) == [
        "established(redirected) call=1 answering=332 calling=330 called=331 redirecting=331"
        " | 330:connected 332:connected",
    ]


def test_call_09_deflect_after_single_step_transfer_presents_the_real_caller(
    office: Office,
) -> None:
    call = office.talking("330", "331")
    office.do(c.SingleStepTransferCall(call=call, device="330", to="332"))
    assert office.do(c.DeflectCall(call=1, device="332", to="333"))[1] == (
        "delivered(redirected) call=1 alerting=333 calling=331 called=332 redirecting=332"
        " | 331:connected 333:alerting"
    )


def test_call_10_pickup_of_a_transferred_call_presents_the_real_caller(office: Office) -> None:
    call = office.talking("330", "331")
    office.do(c.SingleStepTransferCall(call=call, device="330", to="332"))
    assert office.do(c.DirectedPickupCall(picked="332", device="330")) == [
        "diverted(callPickup) call=1 diverting=332 new_destination=330 | 331:connected 332:null",
        "established(callPickup) call=1 answering=330 calling=331 called=332 redirecting=332"
        " | 331:connected 330:connected",
    ]


def test_call_09_call_14_deflect_by_a_mulap_member_stops_every_member(office: Office) -> None:
    office.do(c.MakeCall(calling="330", called="340"))  # 337 and 338 ring
    assert office.do(c.DeflectCall(call=1, device="337", to="332")) == [
        "diverted(redirected) call=1 diverting=337 new_destination=332"
        " | 330:connected 337:null 338:alerting",
        "connectionCleared(redirected) call=1 device=338 | 330:connected 338:null",
        "delivered(redirected) call=1 alerting=332 calling=330 called=340 redirecting=337"
        " | 330:connected 332:alerting",
    ]
    assert office.connections("338") == [] and office.connections("337") == []
    assert office.do(c.AnswerCall(call=1, device="332")) == [
        "established(redirected) call=1 answering=332 calling=330 called=340 redirecting=337"
        " | 330:connected 332:connected",
    ]
    office.assert_replays()


def test_call_09_call_14_refused_group_deflect_leaves_every_member_ringing(
    office: Office,
) -> None:
    office.talking("331", "332")
    office.do(c.MakeCall(calling="330", called="340"))  # call 2: 337 and 338 ring
    err = office.refuse(c.DeflectCall(call=2, device="337", to="332"))
    assert err.name == "invalidDestinationDeviceState"
    assert office.connections("338") == [(2, "alerting")]


def test_call_07_transfer_of_a_held_ringing_call_presents_the_consulted_party(
    office: Office,
) -> None:
    office.do(c.MakeCall(calling="330", called="331"))  # 331 rings
    office.do(c.HoldCall(call=1, device="330"))
    office.do(c.MakeCall(calling="330", called="332"))
    office.do(c.AnswerCall(call=2, device="332"))
    office.do(c.TransferCall(device="330"))
    assert office.do(c.AnswerCall(call=1, device="331")) == [
        "established(transfer) call=1 answering=331 calling=332 called=331 redirecting=330"
        " | 331:connected 332:connected",
    ]
    office.assert_replays()
