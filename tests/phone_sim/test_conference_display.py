"""A conference seat on phone-sim's display (specs/conferences.md, "What a UI, phone-sim or a
media server shows and plays"): the node plays nothing, so the simulated phone shows what a
media server would announce, from the room's events: waiting alone (and until when it is
disconnected), the conference, and the end after the moderator left (CONF-06)."""

from __future__ import annotations

from cti.accounts.commands import SeedAccounts
from cti.conferences import pins
from phone_sim.model.phone import Phone
from phone_sim.model.rooms import Rooms
from tests.phone_sim.conftest import Office
from tests.presence.helpers import seeds

DIAL_IN = "Konferenz-Einwahl"  # the example site's name of 391


def pin(office: Office, participant: int) -> str:
    conf = office.engine.node.state.conferences.conference(1)
    assert conf is not None
    p = conf.participant(participant)
    assert p is not None
    plan = office.engine.node.site.conferences
    assert plan is not None
    return pins.pin(plan.pin_key, 1, participant, p.pin_round)  # the node's (the process's)


async def test_the_seat_shows_waiting_the_conference_and_the_end(local_office: Office) -> None:
    sim = local_office.sim
    assert (await local_office.engine.execute(SeedAccounts(accounts=seeds()))).ok
    await sim.request("createConference", user="330", name="Jour fixe")
    await sim.request("addConferenceParticipant", user="330", conference=1, member="331")

    await sim.act("331", "dials", "391")
    assert sim.display("331") == (DIAL_IN, "Connected")  # keying the PIN: not in a room yet
    await sim.act("331", "keys", pin(local_office, 2) + "#")
    await sim.until(lambda: sim.display("331") == (DIAL_IN, "Waiting until 00:30"))

    await sim.act("330", "dials", "391")
    await sim.act("330", "keys", pin(local_office, 1) + "#")
    await sim.until(lambda: sim.display("331") == (DIAL_IN, "Connected"))
    assert sim.display("330") == (DIAL_IN, "Connected")

    await sim.act("330", "hangs-up")  # the last moderator leaves: the end in 5 minutes
    await sim.until(lambda: sim.display("331") == (DIAL_IN, "Ends at 00:05"))
    await local_office.advance(300)
    await sim.until(lambda: sim.display("331")[0] == "331 Bernd Vogel")  # cleared: idle


def test_the_rooms_model_follows_a_seat_into_a_merged_call_and_out() -> None:
    rooms = Rooms()
    ev = [
        {"event": "participantJoined", "conference": 1, "participant": 2, "call": 7},
        {"event": "aloneTimeoutSet", "conference": 1, "participant": 2, "disconnectsAt": 1_800_000},
        {"event": "bridgeCallMoved", "call": 7, "into": 9},
    ]
    assert all(rooms.on_event(e) for e in ev)
    assert rooms.notices() == {9: "Waiting until 00:30"}
    assert not rooms.on_event({"event": "established", "call": 9})
    rooms.on_event({"event": "participantLeft", "conference": 1, "participant": 2})
    assert rooms.notices() == {} and rooms.alone == {}
    phone = Phone("331")
    assert phone.notices == {}
