"""Status-based forwarding against the phone's own forwarding and DND (PRES-03, CALL-16):
every combination of status x target x phone feature as an exact event sequence
(specs/presence.md, "Precedence": status > immediate > DND > busy > no answer).

330 calls Bernd (331). Bernd's phone forwards to 333 when it has a forwarding; "busy" means
Bernd talks to 336 first (so the new call is call 2).
"""

from __future__ import annotations

import pytest

from cti.calls import commands as c
from cti.calls.values import ForwardingType
from cti.presence.commands import SetPresence, SetPresenceForwarding
from cti.presence.model import FORWARDED, Status, TargetKind
from tests.office import Office
from tests.presence.helpers import EXTERNAL, MOBILE, office_with_people

FEATURES = ("none", "immediate", "busy", "noAnswer", "dnd")
TARGETS = {  # target, number given, where the call goes
    "voicemail": (TargetKind.VOICEMAIL, None, "351"),
    "mobile": (TargetKind.MOBILE, None, MOBILE),
    "external": (TargetKind.EXTERNAL, None, EXTERNAL),
    "number": (TargetKind.NUMBER, "+49 89 7007-332", "332"),  # a colleague, by DID
}


def with_feature(office: Office, feature: str) -> int:
    """Set the phone's feature; the id the next call gets."""
    fwd = {
        "immediate": ForwardingType.IMMEDIATE,
        "busy": ForwardingType.BUSY,
        "noAnswer": ForwardingType.NO_ANSWER,
    }
    if feature in fwd:
        office.do(
            c.SetForwarding(device="331", forwarding_type=fwd[feature], on=True, destination="333")
        )
    if feature == "busy":
        office.talking("331", "336")
        return 2
    if feature == "dnd":
        office.do(c.SetDoNotDisturb(device="331", on=True))
    return 1


def head(n: int) -> list[str]:
    return [
        f"serviceInitiated(makeCall) call={n} device=330 calling=330 called=331 | 330:initiated",
        f"originated(newCall) call={n} calling=330 called=331 | 330:connected",
    ]


def to_target(n: int, dest: str, cause: str, via: str = "331") -> list[str]:
    """The call diverted from ``via`` to ``dest`` with ``cause``, and what ``dest`` does."""
    out = [
        f"diverted({cause}) call={n} diverting={via} new_destination={dest}"
        f" | 330:connected {via}:null"
    ]
    offered = f"calling=330 called=331 redirecting={via}"
    if dest.startswith("+"):
        out.append(
            f"networkReached({cause}) call={n} calling=330 called={dest} trunk=trunk1"
            " | 330:connected"
        )
    out.append(
        f"delivered({cause}) call={n} alerting={dest} {offered} | 330:connected {dest}:alerting"
    )
    if dest == "351":
        out.append(
            f"established({cause}) call={n} answering=351 {offered} | 330:connected 351:connected"
        )
    return out


def phone_rules(n: int, feature: str, now_ms: int) -> list[str]:
    """What the phone's own rules do with the call (no status forwarding applies)."""
    if feature == "immediate":
        return to_target(n, "333", "callForwardImmediate")
    if feature == "busy":
        return to_target(n, "333", "callForwardBusy")
    if feature == "dnd":
        return [
            f"failed(doNotDisturb) call={n} failing=331 calling=330 called=331 | 330:fail 331:null"
        ]
    ring = [
        f"delivered(newCall) call={n} alerting=331 calling=330 called=331"
        " | 330:connected 331:alerting"
    ]
    if feature == "noAnswer":
        ring.append(f"timerSet call={n} device=331 purpose=noAnswer due_ms={now_ms + 15_000}")
    return ring


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("status", FORWARDED)
def test_pres03_an_absent_status_wins_over_the_phones_forwarding(
    status: Status, target: str, feature: str
) -> None:
    """PRES-03 x CALL-16: absent (not DND) → the status's target, whatever the phone has
    set; the phone's DND makes the user's presence doNotDisturb, so the phone's rules apply."""
    office = office_with_people()
    kind, number, dest = TARGETS[target]
    if kind is not TargetKind.VOICEMAIL:
        office.do(SetPresenceForwarding(user="331", status=status, target=kind, number=number))
    office.do(SetPresence(user="331", status=status))
    n = with_feature(office, feature)
    events = office.do(c.MakeCall(calling="330", called="331"))
    if feature == "dnd":
        expected = phone_rules(n, feature, office.clock.now_ms())
    else:
        expected = to_target(n, dest, "callForwardImmediate")
    # The voicemail greets the caller for 331's mailbox, naming the absence (VM-08).
    greetings = [e for e in events if e.startswith("greetingPlayed ")]
    events = [e for e in events if not e.startswith("greetingPlayed ")]
    assert events == head(n) + expected
    if feature != "dnd" and dest == "351":
        (greeting,) = greetings
        assert greeting.startswith(f"greetingPlayed mailbox=331 call={n} caller=330"), greeting
        assert "You have reached the mailbox of Bernd Vogel. Bernd Vogel is " in greeting
    else:
        assert greetings == []
    office.assert_replays()


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("status", [Status.OFFICE, Status.DO_NOT_DISTURB])
def test_pres03_office_and_dnd_leave_the_call_to_the_phone(status: Status, feature: str) -> None:
    """Office: normal routing. DND (set through presence): the phone's immediate forwarding
    still wins over DND (CALL-16); otherwise the caller fails with doNotDisturb — busy or
    not, with no-answer forwarding or not."""
    office = office_with_people()
    office.do(SetPresence(user="331", status=status))
    n = with_feature(office, feature)
    events = office.do(c.MakeCall(calling="330", called="331"))
    effective = "dnd" if status is Status.DO_NOT_DISTURB and feature != "immediate" else feature
    assert events == head(n) + phone_rules(n, effective, office.clock.now_ms())


@pytest.mark.parametrize("feature", FEATURES)
def test_pres03_back_in_office_normal_routing_resumes(feature: str) -> None:
    """The status never edited the phone's forwarding: in office it applies again."""
    office = office_with_people()
    n = with_feature(office, feature)
    office.do(SetPresence(user="331", status=Status.LUNCH))
    if feature == "dnd":  # lunch through presence switched the phone's DND off
        assert not office.switch.device("331").dnd
        office.do(c.SetDoNotDisturb(device="331", on=True))
    office.do(SetPresence(user="331", status=Status.OFFICE))
    assert not office.switch.device("331").dnd  # office through presence: DND off too
    events = office.do(c.MakeCall(calling="330", called="331"))
    effective = "none" if feature == "dnd" else feature
    assert events == head(n) + phone_rules(n, effective, office.clock.now_ms())
