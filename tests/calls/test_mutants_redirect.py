"""Single-step transfer (CALL-07) and directed pickup (CALL-10) at their edges: the service
results, a transferred conference, a pickup that names its call, and a group member that
tries to pick up the group call from the other member.

Written to kill surviving mutants of ``make mutants`` (TESTING.md) in
``cti/calls/services/redirect.py``.
"""

from __future__ import annotations

from cti.calls import commands as c
from tests.office import Office


def _conference(office: Office, calling: str, device: str) -> None:
    """``calling`` calls 331, ``device`` consults 332 and conferences: call 1 has three
    parties, ``device`` first."""
    office.do(c.MakeCall(calling=calling, called="331"))
    office.do(c.AnswerCall(call=1, device="331"))
    office.do(c.ConsultationCall(call=1, device=device, consulted="332"))
    office.do(c.AnswerCall(call=2, device="332"))
    office.do(c.ConferenceCall(device=device))
    assert [p.device for p in office.switch.call(1).parties] == [device, "331", "332"]  # type: ignore[union-attr]


def _ringing_at_331_and_332(office: Office) -> None:
    """Call 1 rings at both 331 and 332, 333 talking, after two transfers out of a
    conference (330 and 336 have left)."""
    office.talking("330", "333")
    office.do(c.ConsultationCall(call=1, device="330", consulted="336"))
    office.do(c.AnswerCall(call=2, device="336"))
    office.do(c.ConferenceCall(device="330"))
    office.do(c.ConsultationCall(call=1, device="330", consulted="331"))
    office.do(c.TransferCall(device="330"))
    office.do(c.ConsultationCall(call=1, device="336", consulted="332"))
    office.do(c.TransferCall(device="336"))


def test_call_07_single_step_transfer_result_names_call_and_new_destination(
    office: Office,
) -> None:
    """CALL-07: the result of singleStepTransferCall is the call and the new destination
    (specs/call-model.md, singleStepTransferCall: result ``{'call': 1, 'device': '332'}``)."""
    office.talking("330", "331")
    office.do(c.SingleStepTransferCall(call=1, device="331", to="0030 111111"))
    assert office.last_result == {"call": 1, "device": "+4930111111"}


def test_call_07_a_conference_handed_on_by_its_caller_presents_a_remaining_party(
    office: Office,
) -> None:
    """CALL-07: the new party's ``delivered`` names a remaining peer as ``calling``, never the
    device that transferred, also when the caller hands on a conference of three."""
    _conference(office, "330", "330")
    assert office.do(c.SingleStepTransferCall(call=1, device="330", to="336")) == [
        "transferred(singleStepTransfer) call=1 transferring=330 transferred_to=336"
        " | 330:null 331:connected 332:connected",
        "delivered(singleStepTransfer) call=1 alerting=336 calling=331 called=336"
        " redirecting=330 | 331:connected 332:connected 336:alerting",
    ]
    assert office.do(c.AnswerCall(call=1, device="336"))[0] == (
        "established(singleStepTransfer) call=1 answering=336 calling=331 called=336"
        " redirecting=330 | 331:connected 332:connected 336:connected"
    )


def test_call_07_call_14_a_conference_handed_on_by_a_mulap_caller_presents_a_remaining_party(
    office: Office,
) -> None:
    """CALL-07, CALL-14: a MULAP member's call presents the group number; when the member
    hands its conference on, the new party sees a remaining peer, not the member's group."""
    _conference(office, "340", "337")
    assert office.switch.call(1).calling == "340"  # type: ignore[union-attr]
    assert office.do(c.SingleStepTransferCall(call=1, device="337", to="336"))[1] == (
        "delivered(singleStepTransfer) call=1 alerting=336 calling=331 called=336"
        " redirecting=337 | 331:connected 332:connected 336:alerting"
    )


def test_call_07_call_15_a_conference_handed_on_by_a_mobile_presents_a_remaining_party(
    office: Office,
) -> None:
    """CALL-07, CALL-15: a callback call presents the mobility user 335; when the mobile
    hands its conference on, the new party sees a remaining peer, not the mobility user."""
    mobile = "+491701234567"
    office.do(c.MakeCall(calling="335", called="331"))
    office.do(c.AnswerCall(call=1, device=mobile))
    office.do(c.AnswerCall(call=1, device="331"))
    office.do(c.ConsultationCall(call=1, device=mobile, consulted="332"))
    office.do(c.AnswerCall(call=2, device="332"))
    office.do(c.ConferenceCall(device=mobile))
    assert office.switch.call(1).calling == "335"  # type: ignore[union-attr]
    assert office.do(c.SingleStepTransferCall(call=1, device=mobile, to="336"))[1] == (
        "delivered(singleStepTransfer) call=1 alerting=336 calling=331 called=336"
        f" redirecting={mobile} | 331:connected 332:connected 336:alerting"
    )


def test_call_07_a_conference_handed_on_by_another_party_presents_the_caller(
    office: Office,
) -> None:
    """CALL-07: when a party other than the caller hands a conference on, the caller of the
    call is the one presented (of several remaining peers)."""
    _conference(office, "330", "330")
    assert office.do(c.SingleStepTransferCall(call=1, device="332", to="336"))[1] == (
        "delivered(singleStepTransfer) call=1 alerting=336 calling=330 called=336"
        " redirecting=332 | 330:connected 331:connected 336:alerting"
    )


def test_call_07_a_conference_its_caller_left_presents_a_remaining_party(
    office: Office,
) -> None:
    """CALL-07: the caller has left the conference; when another party hands it on, the new
    party is presented the first remaining party, not the caller who is gone."""
    _conference(office, "330", "330")
    office.do(c.ConsultationCall(call=1, device="330", consulted="333"))
    office.do(c.AnswerCall(call=3, device="333"))
    office.do(c.ConferenceCall(device="330"))
    office.do(c.ClearConnection(call=1, device="330"))
    assert [p.device for p in office.switch.call(1).parties] == ["331", "332", "333"]  # type: ignore[union-attr]
    assert office.do(c.SingleStepTransferCall(call=1, device="332", to="336"))[1] == (
        "delivered(singleStepTransfer) call=1 alerting=336 calling=331 called=336"
        " redirecting=332 | 331:connected 333:connected 336:alerting"
    )


def test_call_10_directed_pickup_of_a_named_call(office: Office) -> None:
    """CALL-10: directedPickupCall may name the call to pick up; the result is the call and
    the device that picked it up."""
    office.do(c.MakeCall(calling="330", called="331"))
    assert office.refuse(c.DirectedPickupCall(device="332", picked="331", call=2)).name == (
        "noCallToAnswer"
    )
    assert office.do(c.DirectedPickupCall(device="332", picked="331", call=1)) == [
        "diverted(callPickup) call=1 diverting=331 new_destination=332 | 330:connected 331:null",
        "established(callPickup) call=1 answering=332 calling=330 called=331 redirecting=331"
        " | 330:connected 332:connected",
    ]
    assert office.last_result == {"call": 1, "device": "332"}


def test_call_10_group_pickup_result_names_the_picker(office: Office) -> None:
    """CALL-10: groupPickupCall answers like directed pickup; the result names the picker."""
    office.do(c.MakeCall(calling="300", called="331"))
    office.do(c.GroupPickupCall(device="330"))
    assert office.last_result == {"call": 1, "device": "330"}


def test_call_10_call_14_a_ringing_member_cannot_pick_up_its_own_group_call(
    office: Office,
) -> None:
    """CALL-10, CALL-14: a call ringing at both MULAP members is not picked up by one member
    from the other (the member answers it instead): there is no call to pick up."""
    office.do(c.MakeCall(calling="330", called="340"))
    assert office.connections("337") == [(1, "alerting")]
    err = office.refuse(c.DirectedPickupCall(device="337", picked="338"))
    assert (err.name, err.message) == ("noCallToAnswer", "no call to pick up at 338")


def test_call_10_a_call_held_by_the_picker_is_not_picked_up_but_retrieved(
    office: Office,
) -> None:
    """CALL-10, CALL-04: 330 holds call 1, whose other side is transferred to the ringing
    331 (same pickup group). 330 cannot pick that call up, neither from the group nor from
    331: it is its own held call, which it retrieves."""
    office.talking("330", "336")
    office.do(c.HoldCall(call=1, device="330"))
    office.do(c.ConsultationCall(call=1, device="336", consulted="331"))
    office.do(c.TransferCall(device="336"))
    assert office.connections("330") == [(1, "hold")]
    assert office.connections("331") == [(1, "alerting")]
    err = office.refuse(c.GroupPickupCall(device="330"))
    assert (err.name, err.message) == (
        "noCallToAnswer",
        "no call is ringing in the pickup group of 330",
    )
    assert office.refuse(c.DirectedPickupCall(device="330", picked="331")).name == (
        "noCallToAnswer"
    )
    assert office.do(c.RetrieveCall(call=1, device="330")) == [
        "retrieved(normal) call=1 device=330 | 330:connected 331:alerting"
    ]


def test_call_09_deflect_result_names_call_and_new_destination(office: Office) -> None:
    """CALL-09: the result of deflectCall is the call and where it now rings."""
    office.do(c.MakeCall(calling="330", called="331"))
    office.do(c.DeflectCall(call=1, device="331", to="351"))
    assert office.last_result == {"call": 1, "device": "351"}


def test_call_09_deflecting_one_of_two_ringing_parties_keeps_the_other_ringing(
    office: Office,
) -> None:
    """CALL-09: in a call that is no group call, only the deflecting device leaves. Two
    parties ring in call 1 after two transfers out of a conference; 331 deflects to 334,
    332 goes on ringing."""
    _ringing_at_331_and_332(office)
    assert office.connections("331") == [(1, "alerting")]
    assert office.connections("332") == [(1, "alerting")]
    assert office.do(c.DeflectCall(call=1, device="331", to="334")) == [
        "diverted(redirected) call=1 diverting=331 new_destination=334"
        " | 333:connected 331:null 332:alerting",
        "delivered(redirected) call=1 alerting=334 calling=333 called=331 redirecting=331"
        " | 333:connected 332:alerting 334:alerting",
    ]


def test_call_09_call_14_a_member_deflecting_a_call_from_its_own_group_keeps_the_caller(
    office: Office,
) -> None:
    """CALL-09, CALL-14: 337 calls its own group 340, which rings the other member 338.
    When 338 deflects, the group's ringing members leave, not the caller who is a member
    too."""
    office.do(c.MakeCall(calling="337", called="340"))
    assert office.do(c.DeflectCall(call=1, device="338", to="331")) == [
        "diverted(redirected) call=1 diverting=338 new_destination=331 | 337:connected 338:null",
        "delivered(redirected) call=1 alerting=331 calling=337 called=340 redirecting=338"
        " | 337:connected 331:alerting",
    ]


def test_call_07_call_14_another_party_hands_on_a_mulap_callers_conference(
    office: Office,
) -> None:
    """CALL-07, CALL-14: the MULAP group (340, through its member 337) called and stays in
    the conference; when another party hands it on, the new party is presented the group's
    number, the caller, not the member phone that happens to be first."""
    _conference(office, "340", "337")
    assert office.do(c.SingleStepTransferCall(call=1, device="332", to="336"))[1] == (
        "delivered(singleStepTransfer) call=1 alerting=336 calling=340 called=336"
        " redirecting=332 | 337:connected 331:connected 336:alerting"
    )


def test_call_07_call_14_a_mulap_callers_peer_hands_on_the_call_presenting_the_group(
    office: Office,
) -> None:
    """CALL-07, CALL-14: the MULAP user 340 calls 330 from its member 337; when 330 hands the
    call on, 332 is presented the group number, as 330 was, not the member phone behind it
    (the two-party case used to present 337)."""
    office.talking("340", "330")
    assert office.do(c.SingleStepTransferCall(call=1, device="330", to="332")) == [
        "transferred(singleStepTransfer) call=1 transferring=330 transferred_to=332"
        " | 337:connected 330:null",
        "delivered(singleStepTransfer) call=1 alerting=332 calling=340 called=332"
        " redirecting=330 | 337:connected 332:alerting",
    ]
    assert office.do(c.AnswerCall(call=1, device="332"))[0] == (
        "established(singleStepTransfer) call=1 answering=332 calling=340 called=332"
        " redirecting=330 | 337:connected 332:connected"
    )


def test_call_07_call_15_a_mobility_callers_peer_hands_on_the_call_presenting_the_user(
    office: Office,
) -> None:
    """CALL-07, CALL-15: the mobility user 335 calls 330 by callback, talking on the mobile;
    when 330 hands the call on, 332 is presented the user 335, not the mobile number."""
    mobile = "+491701234567"
    office.do(c.MakeCall(calling="335", called="330"))
    office.do(c.AnswerCall(call=1, device=mobile))
    office.do(c.AnswerCall(call=1, device="330"))
    assert office.do(c.SingleStepTransferCall(call=1, device="330", to="332"))[1] == (
        "delivered(singleStepTransfer) call=1 alerting=332 calling=335 called=332"
        f" redirecting=330 | {mobile}:connected 332:alerting"
    )


def test_call_10_group_pickup_of_a_call_ringing_at_two_members_takes_the_first_member(
    office: Office,
) -> None:
    """CALL-10: call 1 rings at both 331 and 332 of 330's pickup group (after two transfers
    out of a conference); 330's group pickup takes it from the first member in group order,
    331, and 332 goes on ringing."""
    _ringing_at_331_and_332(office)
    assert office.connections("331") == office.connections("332") == [(1, "alerting")]
    assert office.do(c.GroupPickupCall(device="330")) == [
        "diverted(callPickup) call=1 diverting=331 new_destination=330"
        " | 333:connected 331:null 332:alerting",
        "established(callPickup) call=1 answering=330 calling=333 called=331 redirecting=331"
        " | 333:connected 332:alerting 330:connected",
    ]
