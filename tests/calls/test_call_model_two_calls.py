"""Scenario tests of the two-call services at their edges: a party in both calls (CALL-06),
the 8-party limit of transfer and conference (CALL-07, CALL-08), and pickup of a call that
rings outside the site (CALL-10)."""

from __future__ import annotations

from cti.calls import commands as c
from cti.calls.services.allowed import allowed_services
from tests.office import Office


def _voicemail_twice(office: Office) -> None:
    """330 talks to voicemail in call 1 (held) and again in call 2 (active)."""
    office.do(c.MakeCall(calling="330", called="351"))
    office.do(c.HoldCall(call=1, device="330"))
    office.do(c.MakeCall(calling="330", called="351"))


def test_call_06_alternate_with_the_same_party_in_both_calls(office: Office) -> None:
    _voicemail_twice(office)
    assert office.do(c.AlternateCall(device="330")) == [
        "held(alternate) call=2 device=330 | 330:hold 351:connected",
        "retrieved(alternate) call=1 device=330 | 330:connected 351:connected",
    ]
    office.assert_replays()


def test_call_06_alternate_is_offered_with_the_same_party_in_both_calls(office: Office) -> None:
    _voicemail_twice(office)
    call = office.switch.calls[2]
    assert "alternateCall" in allowed_services(office.site, office.switch, "330", call)
    assert "transferCall" not in allowed_services(office.site, office.switch, "330", call)


def test_call_07_call_08_merging_a_party_of_both_calls_is_still_refused(office: Office) -> None:
    _voicemail_twice(office)
    for command in (c.TransferCall(device="330"), c.ConferenceCall(device="330")):
        err = office.refuse(command)
        assert (err.name, err.message) == (
            "requestIncompatibleWithObject",
            "351 is a party of both call 1 and call 2",
        )


EXTERNALS = [f"+49301{n}0000" for n in range(10)]


def _conference(office: Office, controller: str, parties: list[str]) -> int:
    """``controller`` builds a conference with ``parties``; returns its call id."""
    call = office.talking(controller, parties[0])
    for number in parties[1:]:
        office.do(c.ConsultationCall(call=call, device=controller, consulted=number))
        consult = office.last_result["call"]
        assert isinstance(consult, int)
        office.do(c.AnswerCall(call=consult, device=number))
        office.do(c.ConferenceCall(device=controller))
    return call


def test_call_07_transfer_beyond_eight_parties_is_refused(office: Office) -> None:
    big = _conference(office, "330", EXTERNALS[:7])  # 330 + 7 others = 8 parties, held
    office.do(c.HoldCall(call=big, device="330"))
    second = office.talking("330", "331")
    # 331 adds 332 to the second call
    office.do(c.ConsultationCall(call=second, device="331", consulted="332"))
    office.do(c.AnswerCall(call=office.last_result["call"], device="332"))  # type: ignore[arg-type]
    office.do(c.ConferenceCall(device="331"))
    assert len(office.switch.calls[second].parties) == 3
    err = office.refuse(c.TransferCall(device="330"))
    assert (err.name, err.message) == (
        "conferenceMemberLimitExceeded",
        "a call has at most 8 parties, the transfer would give 9",
    )


def test_call_07_transfer_up_to_eight_parties_is_accepted(office: Office) -> None:
    big = _conference(office, "330", EXTERNALS[:7])  # 8 parties
    office.do(c.ConsultationCall(call=big, device="330", consulted="331"))
    office.do(c.AnswerCall(call=office.last_result["call"], device="331"))  # type: ignore[arg-type]
    office.do(c.TransferCall(device="330"))
    assert len(office.switch.calls[big].parties) == 8


def test_call_08_conference_of_nine_is_refused_and_nothing_changes(office: Office) -> None:
    call = _conference(office, "330", EXTERNALS[:7])  # 8 parties
    office.do(c.ConsultationCall(call=call, device="330", consulted=EXTERNALS[7]))
    office.do(c.AnswerCall(call=office.last_result["call"], device=EXTERNALS[7]))  # type: ignore[arg-type]
    err = office.refuse(c.ConferenceCall(device="330"))
    assert (err.name, err.message) == (
        "conferenceMemberLimitExceeded",
        "a conference has at most 8 parties, this would have 9",
    )


def test_call_10_directed_pickup_of_a_call_ringing_at_an_external_party_is_refused(
    office: Office,
) -> None:
    office.do(c.MakeCall(calling="331", called="+4930111111"))
    err = office.refuse(c.DirectedPickupCall(picked="+4930111111", device="330"))
    assert (err.name, err.message) == (
        "invalidPickUpDeviceID",
        "+4930111111 is an external party: only calls ringing at phones of the site can be"
        " picked up",
    )


def test_call_10_directed_pickup_of_a_ringing_mobile_is_refused(office: Office) -> None:
    office.do(c.MakeCall(calling="331", called="+491707654321"))
    err = office.refuse(c.DirectedPickupCall(picked="+491707654321", device="330"))
    assert err.name == "invalidPickUpDeviceID"
