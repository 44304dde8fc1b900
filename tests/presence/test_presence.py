"""Presence statuses, return times and info (PRES-01, PRES-02), the DND truth (CALL-14/16)
and the refusals: each asserts the exact events, and that a refusal changes nothing."""

from __future__ import annotations

import pytest

from cti.calls import commands as c
from cti.domain import snapshot
from cti.presence.commands import ExpireReturnTime, SetPresence
from cti.presence.model import Status
from cti.presence.queries import GetPresence
from tests.office import Office

HOUR = 3_600_000


def shown(office: Office, user: str) -> dict[str, object]:
    return dict(office.node.query(GetPresence(user=user)))  # type: ignore[call-overload]


def test_pres01_every_status_can_be_set_and_is_shown(office: Office) -> None:
    for status in Status:
        office.do(SetPresence(user="331", status=status))
        assert shown(office, "331")["status"] == status
    office.assert_replays()


def test_pres01_setting_the_same_status_records_nothing(office: Office) -> None:
    office.do(SetPresence(user="331", status=Status.LUNCH))
    assert office.do(SetPresence(user="331", status=Status.LUNCH)) == []
    assert office.do(SetPresence(user="330", status=Status.OFFICE)) == []


def test_pres02_return_time_and_info_are_announced_until_the_time_passes(office: Office) -> None:
    back = office.clock.now_ms() + HOUR
    assert office.do(
        SetPresence(user="331", status=Status.MEETING, return_at=back, info="  Board room ")
    ) == [f"presenceChanged user=331 status=meeting return_at={back} info=Board room"]
    assert shown(office, "331") == {
        "user": "331",
        "status": "meeting",
        "returnAt": back,
        "info": "Board room",
    }
    assert office.node.next_timer_ms() == back
    office.clock.advance(3599.999)
    assert office.node.due_timers() == []
    office.clock.advance(0.001)
    assert office.node.due_timers() == [ExpireReturnTime(user="331")]
    [outcome] = office.node.fire_due_timers()
    assert outcome.ok
    assert [x.event.KIND for x in outcome.events] == ["returnTimePassed"]  # type: ignore[union-attr]
    # The status stays, the time is no longer announced; nothing more is due.
    assert shown(office, "331") == {
        "user": "331",
        "status": "meeting",
        "returnAt": None,
        "info": "Board room",
    }
    assert office.node.next_timer_ms() is None
    office.assert_replays()


def test_pres02_a_new_status_drops_the_old_return_time(office: Office) -> None:
    office.do(SetPresence(user="331", status=Status.MEETING, return_at=office.clock.now_ms() + 1))
    office.do(SetPresence(user="331", status=Status.OFFICE))
    assert office.node.next_timer_ms() is None
    assert office.do(ExpireReturnTime(user="331")) == []  # a stale firing records nothing


def test_pres02_office_takes_no_note(office: Office) -> None:
    err = office.refuse(SetPresence(user="331", status=Status.OFFICE, info="back soon"))
    assert (err.name, dict(err.details)) == ("noteNotForOffice", {"field": "info"})
    err = office.refuse(
        SetPresence(user="331", status=Status.OFFICE, return_at=office.clock.now_ms() + HOUR)
    )
    assert (err.name, dict(err.details)) == ("noteNotForOffice", {"field": "returnAt"})


def test_pres02_return_time_must_be_in_the_future(office: Office) -> None:
    now = office.clock.now_ms()
    err = office.refuse(SetPresence(user="331", status=Status.LUNCH, return_at=now))
    assert (err.name, dict(err.details)) == ("returnTimeNotInFuture", {"now": now})


@pytest.mark.parametrize(("info", "reason"), [("a\nb", "controlCharacter"), ("x" * 101, "tooLong")])
def test_pres02_info_is_one_line_of_at_most_100_characters(
    office: Office, info: str, reason: str
) -> None:
    err = office.refuse(SetPresence(user="331", status=Status.LUNCH, info=info))
    assert (err.name, dict(err.details)) == (
        "invalidParameterValue",
        {"field": "info", "reason": reason},
    )


def test_unknown_users_are_refused(office: Office) -> None:
    for user in ("999", "351", "390", "+491701234567"):
        assert office.refuse(SetPresence(user=user, status=Status.LUNCH)).name == "unknownUser"


@pytest.mark.parametrize(
    ("user", "reason"), [("337", "mulapMember"), ("340", "mulapGroup"), ("300", "attendant")]
)
def test_call14_dnd_is_refused_for_mulap_and_attendants(
    office: Office, user: str, reason: str
) -> None:
    err = office.refuse(SetPresence(user=user, status=Status.DO_NOT_DISTURB))
    assert (err.name, dict(err.details)) == ("doNotDisturbNotAvailable", {"reason": reason})
    office.do(SetPresence(user=user, status=Status.MEETING))  # other statuses are fine


def test_dnd_through_presence_is_the_phones_dnd(office: Office) -> None:
    """One truth (UC-LESSONS rule 1): presence DND switches the phone's DND feature."""
    assert office.do(SetPresence(user="331", status=Status.DO_NOT_DISTURB, info="Focus")) == [
        "doNotDisturb device=331 on=True",
        "presenceChanged user=331 status=doNotDisturb info=Focus",
    ]
    assert office.switch.device("331").dnd
    assert office.do(c.MakeCall(calling="330", called="331"))[-1] == (
        "failed(doNotDisturb) call=1 failing=331 calling=330 called=331 | 330:fail 331:null"
    )
    assert office.do(SetPresence(user="331", status=Status.OFFICE)) == [
        "doNotDisturb device=331 on=False",
        "presenceChanged user=331 status=office",
    ]
    assert not office.switch.device("331").dnd
    office.assert_replays()


def test_the_phones_dnd_shows_as_presence(office: Office) -> None:
    """DND from the phone (or CSTA) is presence DND; switched off, the status underneath
    shows again."""
    office.do(SetPresence(user="331", status=Status.MEETING, info="Board"))
    assert office.do(c.SetDoNotDisturb(device="331", on=True)) == [
        "doNotDisturb device=331 on=True"
    ]
    assert shown(office, "331") == {
        "user": "331",
        "status": "doNotDisturb",
        "returnAt": None,
        "info": None,
    }
    office.do(c.SetDoNotDisturb(device="331", on=False))
    assert shown(office, "331")["status"] == "meeting"


def test_presence_dnd_switched_off_on_the_phone_is_office(office: Office) -> None:
    """The phone's entry point writes presence too: no DND note is left behind to show up
    at the next DND from the phone."""
    office.do(SetPresence(user="331", status=Status.DO_NOT_DISTURB, info="Focus"))
    assert office.do(c.SetDoNotDisturb(device="331", on=False)) == [
        "doNotDisturb device=331 on=False",
        "presenceChanged user=331 status=office",
    ]
    assert shown(office, "331")["status"] == "office"
    office.do(c.SetDoNotDisturb(device="331", on=True))
    assert shown(office, "331") == {
        "user": "331",
        "status": "doNotDisturb",
        "returnAt": None,
        "info": None,
    }
    office.assert_replays()


def test_presence_survives_replay_and_snapshot(office: Office) -> None:
    """PRES-05: presence changes are events; replay and snapshots keep them."""
    office.do(
        SetPresence(
            user="332", status=Status.VACATION, return_at=office.clock.now_ms() + HOUR, info="Ibiza"
        )
    )
    office.do(SetPresence(user="333", status=Status.DO_NOT_DISTURB))
    office.assert_replays()
    assert snapshot.decode(snapshot.encode(office.state)) == office.state
