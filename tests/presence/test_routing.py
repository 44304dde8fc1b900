"""Status-based forwarding as a routing rule (PRES-03): chains, loops, targets gone since,
MULAP users, and setPresenceForwarding's checks and query."""

from __future__ import annotations

import orjson

from cti.accounts.commands import RemoveAccount, SetProfileChecked
from cti.accounts.model import ProfileField, Visibility
from cti.api import documents
from cti.calls import commands as c
from cti.calls.values import ForwardingType
from cti.presence.commands import SetPresence, SetPresenceForwarding
from cti.presence.model import Status, TargetKind
from cti.presence.queries import GetPresenceForwarding
from tests.presence.helpers import MOBILE, office_with_people

NUMBER = TargetKind.NUMBER


def test_pres03_absent_users_chain_and_a_loop_stops_at_the_last_new_one() -> None:
    office = office_with_people()
    office.do(SetPresenceForwarding(user="331", status=Status.LUNCH, target=NUMBER, number="332"))
    office.do(SetPresenceForwarding(user="332", status=Status.BREAK, target=NUMBER, number="331"))
    office.do(SetPresence(user="331", status=Status.LUNCH))
    office.do(SetPresence(user="332", status=Status.BREAK))
    # 331 -> 332; 332's target 331 already forwarded this call: 332 keeps it and rings.
    assert office.do(c.MakeCall(calling="330", called="331"))[2:] == [
        "diverted(callForwardImmediate) call=1 diverting=331 new_destination=332"
        " | 330:connected 331:null",
        "delivered(callForwardImmediate) call=1 alerting=332 calling=330 called=331"
        " redirecting=331 | 330:connected 332:alerting",
    ]


def test_pres03_a_target_gone_since_leaves_the_call_to_the_phone() -> None:
    office = office_with_people()
    office.do(SetPresenceForwarding(user="331", status=Status.SICK, target=TargetKind.MOBILE))
    office.do(SetPresence(user="331", status=Status.SICK))
    office.do(SetProfileChecked(name="331", clear=(ProfileField.MOBILE,)))
    assert office.node.query(GetPresenceForwarding(user="331"))[1] == {  # type: ignore[index]
        "status": "sick",
        "target": "mobile",
        "number": None,
    }
    assert office.do(c.MakeCall(calling="330", called="331"))[-1] == (
        "delivered(newCall) call=1 alerting=331 calling=330 called=331 | 330:connected 331:alerting"
    )


def test_pres03_an_absent_mulap_user_is_diverted_before_the_group_rings() -> None:
    office = office_with_people()
    # 340 has no voicemail licence (USER-05): its status forwards to a number it names.
    forward = SetPresenceForwarding(
        user="340", status=Status.GONE_HOME, target=NUMBER, number="336"
    )
    office.do(forward)
    office.do(SetPresence(user="340", status=Status.GONE_HOME))
    assert office.do(c.MakeCall(calling="330", called="340"))[2:4] == [
        "diverted(callForwardImmediate) call=1 diverting=340 new_destination=336"
        " | 330:connected 340:null",
        "delivered(callForwardImmediate) call=1 alerting=336 calling=330 called=340"
        " redirecting=340 | 330:connected 336:alerting",
    ]


def test_pres03_a_deflected_call_to_an_absent_user_goes_to_the_target() -> None:
    office = office_with_people()
    office.do(SetPresence(user="332", status=Status.VACATION))
    office.call_of(c.MakeCall(calling="330", called="331"))
    events = office.do(c.DeflectCall(call=1, device="331", to="332"))
    assert any("new_destination=351" in e for e in events), events


def test_pres03_forwarding_query_shows_type_and_number_per_status() -> None:
    office = office_with_people()
    office.do(SetPresenceForwarding(user="331", status=Status.LUNCH, target=TargetKind.MOBILE))
    office.do(
        SetPresenceForwarding(user="331", status=Status.MEETING, target=NUMBER, number="0 030 555")
    )
    result = office.node.query(GetPresenceForwarding(user="331"))
    assert result == [
        {"status": "meeting", "target": "number", "number": "+4930555"},
        {"status": "sick", "target": "voicemail", "number": "351"},
        {"status": "break", "target": "voicemail", "number": "351"},
        {"status": "outOfOffice", "target": "voicemail", "number": "351"},
        {"status": "vacation", "target": "voicemail", "number": "351"},
        {"status": "lunch", "target": "mobile", "number": MOBILE},
        {"status": "goneHome", "target": "voicemail", "number": "351"},
    ]
    # Back to the default: no entry kept.
    office.do(SetPresenceForwarding(user="331", status=Status.LUNCH, target=TargetKind.VOICEMAIL))
    office.do(SetPresenceForwarding(user="331", status=Status.MEETING, target=TargetKind.VOICEMAIL))
    assert "331" not in office.state.presence.users
    office.assert_replays()


def test_pres03_forwarding_refusals_name_what_failed() -> None:
    office = office_with_people()

    def refused(**fields: object) -> tuple[str, dict[str, object]]:
        err = office.refuse(SetPresenceForwarding(**fields))  # type: ignore[arg-type]
        return err.name, dict(err.details)

    assert refused(user="331", status=Status.OFFICE, target=TargetKind.VOICEMAIL) == (
        "statusNotForwarded",
        {"status": "office"},
    )
    assert refused(user="331", status=Status.DO_NOT_DISTURB, target=TargetKind.VOICEMAIL)[0] == (
        "statusNotForwarded"
    )
    assert refused(user="332", status=Status.LUNCH, target=TargetKind.MOBILE) == (
        "targetHasNoNumber",
        {"target": "mobile"},
    )
    assert refused(user="331", status=Status.LUNCH, target=NUMBER) == (
        "invalidParameterValue",
        {"field": "number", "reason": "missing"},
    )
    assert refused(user="331", status=Status.LUNCH, target=NUMBER, number="abc") == (
        "invalidParameterValue",
        {"field": "number", "reason": "notANumber"},
    )
    assert refused(user="331", status=Status.LUNCH, target=TargetKind.MOBILE, number="332") == (
        "invalidParameterValue",
        {"field": "number", "reason": "onlyForNumberTarget"},
    )
    assert refused(user="331", status=Status.LUNCH, target=NUMBER, number="+49 89 7007 331") == (
        "forwardingLoop",
        {"number": "+49897007331"},
    )
    assert refused(user="999", status=Status.LUNCH, target=TargetKind.VOICEMAIL)[0] == (
        "unknownUser"
    )


def test_pres03_user05_without_the_voicemail_licence_voicemail_is_no_target() -> None:
    """Dieter (333) has no voicemail licence: his absent statuses divert nowhere by default
    (the phone rings), and the query says the voicemail target has no number."""
    office = office_with_people()
    office.do(SetPresence(user="333", status=Status.MEETING))
    assert office.node.query(GetPresenceForwarding(user="333"))[0] == {  # type: ignore[index]
        "status": "meeting",
        "target": "voicemail",
        "number": None,
    }
    assert office.do(c.MakeCall(calling="330", called="333"))[-1] == (
        "delivered(newCall) call=1 alerting=333 calling=330 called=333 | 330:connected 333:alerting"
    )


def test_pres04_a_removed_account_takes_its_presence_along() -> None:
    """Bernd (331), not visible, is sick with a note and a private forwarding number; his
    account is removed: his presence is reset in the same commit, the number's document shows
    nothing (no profile says what it may show), and calls to 331 ring the phone again."""
    office = office_with_people()
    office.do(SetProfileChecked(name="331", presence_visibility=Visibility.NOT_VISIBLE))
    office.do(SetPresenceForwarding(user="331", status=Status.SICK, target=NUMBER, number="0171 9"))
    office.do(SetPresence(user="331", status=Status.SICK, info="Hospital, back Friday"))
    assert office.do(RemoveAccount(name="331")) == [
        "accountRemoved name=331",
        "presenceChanged user=331 status=office",
        "presenceForwardingSet user=331 status=sick target=voicemail",
    ]
    assert "331" not in office.state.presence.users
    doc = orjson.loads(documents.presence(office.site, office.state, "331", 1, 0, own=False))
    assert (doc["visible"], doc["status"], doc["info"]) == (False, None, None)
    assert office.do(c.MakeCall(calling="330", called="331"))[-1] == (
        "delivered(newCall) call=1 alerting=331 calling=330 called=331 | 330:connected 331:alerting"
    )
    office.assert_replays()


def test_pres03_call_14_a_group_of_only_forwarders_is_no_target() -> None:
    """PRES-03, CALL-14: 337 forwards to 338, who is out to lunch with its own group 340 as
    target. Both members of 340 already forwarded this call: the group would loop (and have
    nobody to ring), so 338 keeps the call and rings."""
    office = office_with_people()
    office.do(
        c.SetForwarding(
            device="337", forwarding_type=ForwardingType.IMMEDIATE, on=True, destination="338"
        )
    )
    office.do(SetPresenceForwarding(user="338", status=Status.LUNCH, target=NUMBER, number="340"))
    office.do(SetPresence(user="338", status=Status.LUNCH))
    assert office.do(c.MakeCall(calling="330", called="337"))[2:] == [
        "diverted(callForwardImmediate) call=1 diverting=337 new_destination=338"
        " | 330:connected 337:null",
        "delivered(callForwardImmediate) call=1 alerting=338 calling=330 called=337"
        " redirecting=337 | 330:connected 338:alerting",
    ]
