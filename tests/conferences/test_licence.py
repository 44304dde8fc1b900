"""A conference licence taken away (updateAccount, CONF-02): the account stops moderating
wherever it did and stays a participant; each of those conferences keeps a moderator by the
rule of a removed account (the first internal participant with the licence, or the
conference is deleted). Exact events in the order of the log."""

from __future__ import annotations

from cti.accounts.commands import UpdateAccount
from cti.accounts.model import Licence
from cti.conferences import commands as c
from cti.conferences.model import ParticipantState
from tests.conferences.helpers import conference, office
from tests.conferences.test_dial_in import ALONE, MINUTE, joined, room, states
from tests.office import Office

NO_LICENCE = UpdateAccount(name="330", licences=())


def rooms_events(events: list[str]) -> list[str]:
    return [e for e in events if not e.startswith("account")]


def licensed(o: Office, user: str) -> None:
    o.do(UpdateAccount(name=user, licences=(Licence.CONFERENCE,)))


def test_the_first_licensed_participant_becomes_moderator() -> None:
    """Anna (330) loses the licence: Bernd (331, unlicensed) is passed over, Clara (332,
    licensed) moderates; Anna stays in the list, no longer a moderator."""
    o = office()
    room(o, "331", "332")
    events = o.do(NO_LICENCE)
    assert events[0].startswith("accountUpdated name=330")
    assert rooms_events(events) == [
        "moderatorSet conference=1 participant=1 moderator=False",
        "moderatorSet conference=1 participant=3 moderator=True",
    ]
    assert [p.user for p in conference(o, 1).moderators] == ["332"]
    assert [p.user for p in conference(o, 1).participants] == ["330", "331", "332"]
    r = o.refuse(c.RenameConference(user="330", conference=1, name="x"))
    assert (r.name, r.details["rule"]) == ("notAModerator", "CONF-02")
    o.assert_replays()


def test_another_moderator_remains_so_nobody_is_promoted() -> None:
    o = office()
    room(o, "332", "331")
    o.do(c.SetModerator(user="330", conference=1, participant=2, moderator=True))
    assert rooms_events(o.do(NO_LICENCE)) == [
        "moderatorSet conference=1 participant=1 moderator=False",
    ]
    assert [p.user for p in conference(o, 1).moderators] == ["332"]


def test_with_no_licensed_participant_the_conference_is_deleted() -> None:
    """As when the account is removed: Bernd, in the room, leaves with conferenceDeleted."""
    o = office()
    room(o, "331")
    bernd = joined(o, "331", 2)
    assert rooms_events(o.do(NO_LICENCE)) == [
        "moderatorSet conference=1 participant=1 moderator=False",
        "participantLeft conference=1 participant=2 reason=conferenceDeleted",
        f"connectionCleared(normalClearing) call={bernd} device=391 | 331:connected 391:null",
        f"callCleared(normalClearing) call={bernd} | 331:null",
        "conferenceDeleted conference=1",
    ]
    assert o.state.conferences.conference(1) is None
    o.assert_replays()


def test_a_moderator_in_the_room_losing_it_starts_the_end_unless_the_heir_is_there() -> None:
    """Anna and Bernd in the room, Clara (the heir) not: the room has no moderator, so the
    5-minute end begins (CONF-06). Clara joining cancels it as a moderator's return."""
    o = office()
    room(o, "331", "332")
    joined(o, "330", 1)
    joined(o, "331", 2)
    assert rooms_events(o.do(NO_LICENCE)) == [
        "moderatorSet conference=1 participant=1 moderator=False",
        "moderatorSet conference=1 participant=3 moderator=True",
        f"endScheduled conference=1 ends_at={o.clock.now_ms() + 5 * MINUTE}",
    ]
    assert states(o)[1] is ParticipantState.ACTIVE  # Anna stays in the call
    call = joined(o, "332", 3)
    conf = conference(o, 1)
    assert conf.ends_at is None and conf.participant(3).call == call  # type: ignore[union-attr]
    o.assert_replays()


def test_with_the_heir_in_the_room_nothing_ends() -> None:
    o = office()
    room(o, "331", "332")
    joined(o, "330", 1)
    joined(o, "332", 3)
    assert rooms_events(o.do(NO_LICENCE)) == [
        "moderatorSet conference=1 participant=1 moderator=False",
        "moderatorSet conference=1 participant=3 moderator=True",
    ]
    assert conference(o, 1).ends_at is None


def test_a_licensed_heir_made_so_later_and_other_licence_changes_change_nothing() -> None:
    """Bernd gets the licence and becomes the heir; changing Anna's other licences (the
    conference licence kept) touches no conference; Bernd alone in the room keeps his
    alone-timeout through it all."""
    o = office()
    room(o, "331")
    joined(o, "331", 2)
    licensed(o, "331")
    assert rooms_events(o.do(UpdateAccount(name="330", licences=(Licence.CONFERENCE,)))) == []
    assert rooms_events(o.do(NO_LICENCE)) == [
        "moderatorSet conference=1 participant=1 moderator=False",
        "moderatorSet conference=1 participant=2 moderator=True",
    ]
    alone = conference(o, 1).alone
    assert alone is not None and alone.participant == 2
    assert alone.until == o.clock.now_ms() + ALONE
    assert rooms_events(o.do(NO_LICENCE)) == []  # taken away twice: nothing more
    o.assert_replays()


def test_every_conference_of_the_account_is_kept_moderated() -> None:
    """Anna moderates two conferences: one goes to Clara, the other (no one licensed) is
    deleted; a third she only takes part in is untouched."""
    o = office()
    room(o, "332")
    o.do(c.CreateConference(user="330", name="Zwei"))
    o.do(c.AddParticipant(user="330", conference=2, member="331"))
    o.do(c.CreateConference(user="332", name="Claras"))
    o.do(c.AddParticipant(user="332", conference=3, member="330"))
    assert rooms_events(o.do(NO_LICENCE)) == [
        "moderatorSet conference=1 participant=1 moderator=False",
        "moderatorSet conference=1 participant=2 moderator=True",
        "moderatorSet conference=2 participant=1 moderator=False",
        "conferenceDeleted conference=2",
    ]
    assert o.state.conferences.conference(2) is None
    assert [p.user for p in conference(o, 3).participants] == ["332", "330"]
    o.assert_replays()


def test_creating_needs_the_creators_licence_whoever_sends_it() -> None:
    """The creator moderates (CONF-02): an integrator's createConference for an account
    without the licence is refused, as the account's own is at the door (USER-05)."""
    o = office()
    r = o.refuse(c.CreateConference(user="331", name="Bernds"))
    assert r.name == "notLicensed"
    o.do(NO_LICENCE)
    assert o.refuse(c.CreateConference(user="330", name="Annas")).name == "notLicensed"
    assert not o.state.conferences.conferences
