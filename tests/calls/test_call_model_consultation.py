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


def test_call_14_a_member_consulting_on_the_groups_line_presents_the_group(
    office: Office,
) -> None:
    """330 calls the group 340 and the member 337 answers: the held call is the group's, so
    the consultation is on the group's line and presents 340; ``originated`` names the phone
    that dials."""
    call = office.call_of(c.MakeCall(calling="330", called="340"))
    office.do(c.AnswerCall(call=call, device="337"))
    assert office.do(c.ConsultationCall(call=call, device="337", consulted="332")) == [
        "held(consultation) call=1 device=337 | 330:connected 337:hold",
        "serviceInitiated(consultation) call=2 device=337 calling=340 called=332 | 337:initiated",
        "originated(consultation) call=2 calling=337 called=332 | 337:connected",
        "delivered(consultation) call=2 alerting=332 calling=340 called=332"
        " | 337:connected 332:alerting",
    ]
    assert office.do(c.AnswerCall(call=2, device="332")) == [
        "established(consultation) call=2 answering=332 calling=340 called=332"
        " | 337:connected 332:connected",
    ]
    office.assert_replays()


def test_call_14_a_member_consulting_on_a_call_made_as_the_group_presents_the_group(
    office: Office,
) -> None:
    """340 calls 331 from its assigned phone 337 (the group's line): 337's consultation
    presents 340 too."""
    call = office.talking("340", "331")
    assert office.do(c.ConsultationCall(call=call, device="337", consulted="332"))[1:] == [
        "serviceInitiated(consultation) call=2 device=337 calling=340 called=332 | 337:initiated",
        "originated(consultation) call=2 calling=337 called=332 | 337:connected",
        "delivered(consultation) call=2 alerting=332 calling=340 called=332"
        " | 337:connected 332:alerting",
    ]


def test_call_14_a_member_consulting_on_its_own_line_presents_its_own_number(
    office: Office,
) -> None:
    """337 (a member of 340) calls 332 on its own line and consults 333: the consultation is on
    the phone's own line and presents 337, as makeCall from 337 does, not the group."""
    call = office.talking("337", "332")
    assert office.do(c.ConsultationCall(call=call, device="337", consulted="333")) == [
        "held(consultation) call=1 device=337 | 337:hold 332:connected",
        "serviceInitiated(consultation) call=2 device=337 calling=337 called=333 | 337:initiated",
        "originated(consultation) call=2 calling=337 called=333 | 337:connected",
        "delivered(consultation) call=2 alerting=333 calling=337 called=333"
        " | 337:connected 333:alerting",
    ]
    assert office.do(c.AnswerCall(call=2, device="333")) == [
        "established(consultation) call=2 answering=333 calling=337 called=333"
        " | 337:connected 333:connected",
    ]
    office.assert_replays()


def test_call_14_a_member_called_on_its_own_number_consults_on_its_own_line(
    office: Office,
) -> None:
    """331 dials 337 itself (not the group): the call is the phone's, so is the consultation."""
    call = office.talking("331", "337")
    assert office.do(c.ConsultationCall(call=call, device="337", consulted="332"))[1:] == [
        "serviceInitiated(consultation) call=2 device=337 calling=337 called=332 | 337:initiated",
        "originated(consultation) call=2 calling=337 called=332 | 337:connected",
        "delivered(consultation) call=2 alerting=332 calling=337 called=332"
        " | 337:connected 332:alerting",
    ]
