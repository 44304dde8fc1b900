"""Scenario tests of consultationCall causes and presentation (CALL-05, CALL-14)."""

from __future__ import annotations

from cti.calls import commands as c
from tests.office import Office


def test_call_05_consultation_offer_events_carry_cause_consultation(office: Office) -> None:
    call = office.talking("330", "331")
    assert office.do(c.ConsultationCall(call=call, device="330", consulted="332")) == [
        "held(consultation) call=1 device=330 | 330:hold 331:connected",
        "serviceInitiated(consultation) call=2 device=330 calling=330 called=332 | 330:initiated",
        "originated(consultation) call=2 calling=330 called=332 | 330:connected",
        "delivered(consultation) call=2 alerting=332 calling=330 called=332"
        " | 330:connected 332:alerting",
    ]
    assert office.do(c.AnswerCall(call=2, device="332")) == [
        "established(consultation) call=2 answering=332 calling=330 called=332"
        " | 330:connected 332:connected",
    ]


def test_call_05_consultation_to_an_external_number_reaches_the_network_as_consultation(
    office: Office,
) -> None:
    call = office.talking("330", "331")
    assert office.do(c.ConsultationCall(call=call, device="330", consulted="+4930111111"))[3:] == [
        "networkReached(consultation) call=2 calling=330 called=+4930111111 trunk=trunk1"
        " | 330:connected",
        "delivered(consultation) call=2 alerting=+4930111111 calling=330 called=+4930111111"
        " | 330:connected +4930111111:alerting",
    ]


def test_call_14_mulap_member_consultation_presents_the_group_number(office: Office) -> None:
    call = office.talking("331", "337")  # 337 is a member of MULAP 340
    assert office.do(c.ConsultationCall(call=call, device="337", consulted="332")) == [
        "held(consultation) call=1 device=337 | 331:connected 337:hold",
        "serviceInitiated(consultation) call=2 device=337 calling=340 called=332 | 337:initiated",
        "originated(consultation) call=2 calling=337 called=332 | 337:connected",
        "delivered(consultation) call=2 alerting=332 calling=340 called=332"
        " | 337:connected 332:alerting",
    ]
    assert office.do(c.AnswerCall(call=2, device="332"))[0] == (
        "established(consultation) call=2 answering=332 calling=340 called=332"
        " | 337:connected 332:connected"
    )
    office.assert_replays()
