"""Scenario tests of the room with calls: dial-in and PINs (CONF-03), guests, channels and the
16 (CONF-01, CONF-04, UC-LESSONS rule 6), call-out (CONF-04), disconnect versus remove
(CONF-05) and the 5-minute rule on the manual clock (CONF-06). Each asserts the exact events:
the switch's and the room's, in the order of the log."""

from __future__ import annotations

from pathlib import Path

from cti.calls import commands as cc
from cti.conferences import commands as c
from cti.conferences.events import DialInEnded
from cti.conferences.model import ParticipantState
from cti.conferences.views import view
from tests.conferences.helpers import conference, guest_pin, office, pin_of
from tests.office import Office

MINUTE = 60_000
ALONE = 30 * MINUTE  # the example site's alone_minutes (the default)


def room(o: Office, *members: str, guest: bool = False) -> int:
    """Anna's (330) conference 1 with ``members`` (participants 2, 3, ...)."""
    o.do(c.CreateConference(user="330", name="Jour fixe"))
    for m in members:
        o.do(c.AddParticipant(user="330", conference=1, member=m))
    if guest:
        o.do(c.SetGuestPin(user="330", conference=1, enabled=True))
    return 1


def dial(o: Office, phone: str) -> tuple[int, list[str]]:
    events = o.do(cc.MakeCall(calling=phone, called="391"))
    call = o.last_result["call"]
    assert isinstance(call, int)
    return call, events


def key(o: Office, call: int, phone: str, digits: str) -> list[str]:
    return o.do(cc.GenerateDigits(call=call, device=phone, digits=digits))


def states(o: Office, user: str = "330") -> dict[int, ParticipantState]:
    [conf] = view(o.state, user)
    return {p["id"]: p["state"] for p in conf["participants"]}


def test_conf03_a_caller_keys_a_pin_and_joins() -> None:
    o = office()
    room(o, "331")
    call, events = dial(o, "331")
    assert events == [
        "serviceInitiated(makeCall) call=1 device=331 calling=331 called=391 | 331:initiated",
        "originated(newCall) call=1 calling=331 called=391 | 331:connected",
        "delivered(newCall) call=1 alerting=391 calling=331 called=391 | 331:connected "
        "391:alerting",
        "established(newCall) call=1 answering=391 calling=331 called=391 | 331:connected "
        "391:connected",
        "dialInStarted call=1 caller=331",
    ]
    assert states(o)[2] is ParticipantState.INACTIVE  # not known until the PIN
    pin = pin_of(o, 1, 2)
    wrong = "1" if pin != "111111" else "2"
    assert key(o, call, "331", wrong * 6 + "#") == [
        f"conferencePinRejected call=1 remaining=2 caller=331 at={o.clock.now_ms()} strikes=331"
    ]
    assert key(o, call, "331", pin + "#") == [
        "participantJoined conference=1 participant=2 call=1",
        f"aloneTimeoutSet conference=1 participant=2 disconnects_at={o.clock.now_ms() + ALONE}",
    ]
    assert states(o) == {1: ParticipantState.INACTIVE, 2: ParticipantState.WAITING}
    call2, _ = dial(o, "330")
    assert key(o, call2, "330", pin_of(o, 1, 1)) == [
        "participantJoined conference=1 participant=1 call=2",
        "aloneTimeoutCancelled conference=1 participant=2",  # Bernd is no longer alone
    ]
    assert states(o) == {1: ParticipantState.ACTIVE, 2: ParticipantState.ACTIVE}
    [doc] = view(o.state, "331")
    assert [p["order"] for p in doc["participants"]] == [2, 1]  # dial-in order
    assert o.state.conferences.joined_count() == 2
    o.assert_replays()


def test_conf03_three_wrong_pins_and_the_call_is_cleared() -> None:
    o = office()
    room(o, "331")
    call, _ = dial(o, "331")
    wrong = "1" if pin_of(o, 1, 2) != "111111" else "2"
    assert key(o, call, "331", wrong * 6) == [
        f"conferencePinRejected call=1 remaining=2 caller=331 at={o.clock.now_ms()} strikes=331"
    ]
    assert key(o, call, "331", wrong * 6) == [
        f"conferencePinRejected call=1 remaining=1 caller=331 at={o.clock.now_ms()} strikes=331"
    ]
    assert key(o, call, "331", wrong * 6) == [
        f"conferencePinRejected call=1 remaining=0 caller=331 at={o.clock.now_ms()} strikes=331",
        "dialInEnded call=1 reason=tooManyAttempts",
        "connectionCleared(normalClearing) call=1 device=391 | 331:connected 391:null",
        "callCleared(normalClearing) call=1 | 331:null",
    ]
    assert o.switch.call(call) is None and not o.state.conferences.dial_ins
    o.assert_replays()


def test_conf03_the_caller_hangs_up_while_keying() -> None:
    o = office()
    room(o)
    call, _ = dial(o, "331")
    assert o.do(cc.ClearConnection(call=call, device="331")) == [
        "connectionCleared(normalClearing) call=1 device=331 | 331:null 391:connected",
        "callCleared(normalClearing) call=1 | 391:null",
        "dialInEnded call=1 reason=hungUp",
    ]
    assert not o.state.conferences.dial_ins


def test_conf03_a_guest_joins_with_the_guest_pin_and_leaves_the_list_when_leaving() -> None:
    o = office()
    room(o, guest=True)
    call, _ = dial(o, "333")
    assert key(o, call, "333", guest_pin(o, 1)) == [
        "participantAdded conference=1 participant=2 name=Gast number=333 moderator=False "
        "guest=True pin_round=0",
        "participantJoined conference=1 participant=2 call=1",
        f"aloneTimeoutSet conference=1 participant=2 disconnects_at={o.clock.now_ms() + ALONE}",
    ]
    assert o.do(cc.ClearConnection(call=call, device="333")) == [
        "connectionCleared(normalClearing) call=1 device=333 | 333:null 391:connected",
        "callCleared(normalClearing) call=1 | 391:null",
        "participantLeft conference=1 participant=2 reason=hungUp",
        "participantRemoved conference=1 participant=2",
    ]
    assert [p.id for p in conference(o, 1).participants] == [1]
    o.assert_replays()


def test_conf03_a_participant_already_in_the_room_cannot_join_twice() -> None:
    o = office()
    room(o, "331")
    call, _ = dial(o, "331")
    key(o, call, "331", pin_of(o, 1, 2))
    other, _ = dial(o, "332")
    assert key(o, other, "332", pin_of(o, 1, 2)) == [
        "dialInEnded call=2 reason=alreadyJoined",
        "connectionCleared(normalClearing) call=2 device=391 | 332:connected 391:null",
        "callCleared(normalClearing) call=2 | 332:null",
    ]


def test_conf01_channels_go_in_dial_in_order_and_never_beyond_the_site() -> None:
    o = office(channels=1)
    room(o, "331")
    first, _ = dial(o, "331")
    second, _ = dial(o, "330")
    key(o, first, "331", pin_of(o, 1, 2))
    assert key(o, second, "330", pin_of(o, 1, 1)) == [
        "dialInEnded call=2 reason=noChannel",
        "connectionCleared(normalClearing) call=2 device=391 | 330:connected 391:null",
        "callCleared(normalClearing) call=2 | 330:null",
    ]
    assert o.state.conferences.joined_count() == 1


def _crowd(channels: int) -> Office:
    """The example office with 20 more phones (400..419) and ``channels`` channels."""
    return office(channels, phones=20)


def test_rule6_17_simultaneous_joins_fill_16_places_and_no_more() -> None:
    """17 callers key the guest PIN in one commit batch: the list (Anna and 15 guests) is full
    at 16, the last two are refused, whatever the order they were decided in."""
    o = _crowd(channels=100)
    room(o, guest=True)
    calls = [dial(o, f"4{i:02}")[0] for i in range(17)]
    pin = guest_pin(o, 1)
    outcomes = o.node.execute_batch(
        [
            cc.GenerateDigits(call=call, device=f"4{i:02}", digits=pin)
            for i, call in enumerate(calls)
        ]
    )
    assert all(outcome.ok for outcome in outcomes)
    conf = conference(o, 1)
    assert len(conf.participants) == 16 and len(conf.joined) == 15
    refused = [e.event for x in outcomes for e in x.events if isinstance(e.event, DialInEnded)]
    assert [(e.call, e.reason) for e in refused] == [(16, "conferenceFull"), (17, "conferenceFull")]
    o.assert_replays()


def test_rule6_17_simultaneous_joins_against_16_channels() -> None:
    """Two rooms, 17 callers with personal PINs... of guests: the site's 16 channels admit 16."""
    o = _crowd(channels=16)
    room(o, guest=True)
    o.do(c.CreateConference(user="332", name="Vertrieb"))
    o.do(c.SetGuestPin(user="332", conference=2, enabled=True))
    calls = [dial(o, f"4{i:02}")[0] for i in range(17)]
    pins = [guest_pin(o, 1 + i % 2) for i in range(17)]
    outcomes = o.node.execute_batch(
        [
            cc.GenerateDigits(call=call, device=f"4{i:02}", digits=pins[i])
            for i, call in enumerate(calls)
        ]
    )
    assert all(outcome.ok for outcome in outcomes)
    assert o.state.conferences.joined_count() == 16
    ended = [e.event for x in outcomes for e in x.events if isinstance(e.event, DialInEnded)]
    assert [(e.call, e.reason) for e in ended] == [(17, "noChannel")]


def joined(o: Office, phone: str, pid: int) -> int:
    call, _ = dial(o, phone)
    key(o, call, phone, pin_of(o, 1, pid))
    return call


def test_conf04_the_system_calls_a_participant_out() -> None:
    o = office()
    room(o, "331")
    assert o.do(c.CallOut(user="330", conference=1, participant=2)) == [
        "participantCalling conference=1 participant=2 call=1",
        "serviceInitiated(makeCall) call=1 device=391 calling=391 called=331 | 391:initiated",
        "originated(newCall) call=1 calling=391 called=331 | 391:connected",
        "delivered(newCall) call=1 alerting=331 calling=391 called=331 | 391:connected "
        "331:alerting",
    ]
    assert o.last_result == {"calls": [1]}
    assert states(o)[2] is ParticipantState.DIALLING_IN
    assert o.do(cc.AnswerCall(call=1, device="331")) == [
        "established(newCall) call=1 answering=331 calling=391 called=331 | 391:connected "
        "331:connected",
        "participantJoined conference=1 participant=2 call=1",
        f"aloneTimeoutSet conference=1 participant=2 disconnects_at={o.clock.now_ms() + ALONE}",
    ]
    assert states(o)[2] is ParticipantState.WAITING
    r = o.refuse(c.CallOut(user="330", conference=1, participant=2))
    assert r.name == "notInactive"
    o.assert_replays()


def test_conf04_a_busy_participant_is_not_called_out() -> None:
    o = office()
    room(o, "331", "332")
    o.talking("331", "333")
    events = o.do(c.CallOut(user="330", conference=1))  # everyone inactive: 330, 331, 332
    assert o.last_result == {"calls": [2, 3, 4]}
    left = [e for e in events if e.startswith("participant")]
    assert left == [
        "participantCalling conference=1 participant=1 call=2",
        "participantCalling conference=1 participant=2 call=3",
        "participantLeft conference=1 participant=2 reason=callOutFailed",
        "participantCalling conference=1 participant=3 call=4",
    ]
    assert o.switch.call(3) is None  # the bridge hung up the failed call
    assert states(o) == {
        1: ParticipantState.DIALLING_IN,
        2: ParticipantState.INACTIVE,
        3: ParticipantState.DIALLING_IN,
    }
    o.assert_replays()


def test_conf05_disconnect_keeps_the_participant_who_may_dial_in_again() -> None:
    o = office()
    room(o, "331")
    call = joined(o, "331", 2)
    assert o.do(c.DisconnectParticipant(user="330", conference=1, participant=2)) == [
        "participantLeft conference=1 participant=2 reason=disconnected",
        "connectionCleared(normalClearing) call=1 device=391 | 331:connected 391:null",
        "callCleared(normalClearing) call=1 | 331:null",
    ]
    assert o.switch.call(call) is None
    assert states(o)[2] is ParticipantState.INACTIVE
    r = o.refuse(c.DisconnectParticipant(user="330", conference=1, participant=2))
    assert (r.name, r.details["rule"]) == ("notInConference", "CONF-05")
    joined(o, "331", 2)
    assert states(o)[2] is ParticipantState.WAITING


def test_conf05_remove_takes_the_participant_off_the_list() -> None:
    o = office()
    room(o, "331")
    joined(o, "331", 2)
    assert o.do(c.RemoveParticipant(user="330", conference=1, participant=2)) == [
        "participantLeft conference=1 participant=2 reason=removed",
        "connectionCleared(normalClearing) call=1 device=391 | 331:connected 391:null",
        "callCleared(normalClearing) call=1 | 331:null",
        "participantRemoved conference=1 participant=2",
    ]
    assert view(o.state, "331") == []  # Bernd no longer sees it


def test_conf06_the_conference_ends_5_minutes_after_the_last_moderator() -> None:
    o = office()
    room(o, "331")
    anna = joined(o, "330", 1)
    joined(o, "331", 2)
    assert o.do(cc.ClearConnection(call=anna, device="330")) == [
        "connectionCleared(normalClearing) call=1 device=330 | 330:null 391:connected",
        "callCleared(normalClearing) call=1 | 391:null",
        "participantLeft conference=1 participant=1 reason=hungUp",
        f"endScheduled conference=1 ends_at={o.clock.now_ms() + 5 * MINUTE}",
        f"aloneTimeoutSet conference=1 participant=2 disconnects_at={o.clock.now_ms() + ALONE}",
    ]
    [doc] = view(o.state, "331")
    assert doc["endsAt"] == o.clock.now_ms() + 5 * MINUTE  # the participants are told
    o.clock.advance(299)
    assert o.node.fire_due_timers() == []
    o.clock.advance(1)
    [outcome] = o.node.fire_due_timers()
    from tests.office import fmt

    assert [fmt(x.event) for x in outcome.events] == [  # type: ignore[union-attr]
        "participantLeft conference=1 participant=2 reason=conferenceEnded",
        "connectionCleared(normalClearing) call=2 device=391 | 331:connected 391:null",
        "callCleared(normalClearing) call=2 | 331:null",
        "conferenceEnded conference=1",
    ]
    assert conference(o, 1).ends_at is None and not conference(o, 1).joined
    o.assert_replays()


def test_conf06_a_moderator_rejoining_in_time_cancels_the_end() -> None:
    o = office()
    room(o, "331")
    anna = joined(o, "330", 1)
    joined(o, "331", 2)
    o.do(cc.ClearConnection(call=anna, device="330"))
    o.clock.advance(240)
    call, _ = dial(o, "330")
    assert key(o, call, "330", pin_of(o, 1, 1)) == [
        "participantJoined conference=1 participant=1 call=3",
        "endCancelled conference=1 reason=moderatorRejoined",
        "aloneTimeoutCancelled conference=1 participant=2",
    ]
    o.clock.advance(120)
    assert o.node.fire_due_timers() == []
    assert len(conference(o, 1).joined) == 2


def test_conf06_the_room_emptying_cancels_the_end() -> None:
    o = office()
    room(o, "331")
    anna = joined(o, "330", 1)
    bernd = joined(o, "331", 2)
    o.do(cc.ClearConnection(call=anna, device="330"))
    assert o.do(cc.ClearConnection(call=bernd, device="331")) == [
        "connectionCleared(normalClearing) call=2 device=331 | 331:null 391:connected",
        "callCleared(normalClearing) call=2 | 391:null",
        "participantLeft conference=1 participant=2 reason=hungUp",
        "endCancelled conference=1 reason=roomEmpty",
    ]


def test_conf06_a_moderator_stepping_down_in_the_room_starts_the_end() -> None:
    o = office()
    room(o, "332", "331")
    o.do(c.SetModerator(user="330", conference=1, participant=2, moderator=True))
    joined(o, "332", 2)
    joined(o, "331", 3)
    assert o.do(c.SetModerator(user="330", conference=1, participant=2, moderator=False)) == [
        "moderatorSet conference=1 participant=2 moderator=False",
        f"endScheduled conference=1 ends_at={o.clock.now_ms() + 5 * MINUTE}",
    ]  # Anna, the one moderator left, is not in the room


def test_deleting_a_conference_clears_its_calls() -> None:
    o = office()
    room(o, "331")
    joined(o, "331", 2)
    assert o.do(c.DeleteConference(user="330", conference=1)) == [
        "participantLeft conference=1 participant=2 reason=conferenceDeleted",
        "connectionCleared(normalClearing) call=1 device=391 | 331:connected 391:null",
        "callCleared(normalClearing) call=1 | 331:null",
        "conferenceDeleted conference=1",
    ]
    assert o.switch.call(1) is None


def test_digits_to_another_bridge_are_heard_as_before() -> None:
    """390 is a plain bridge: no PINs there, the digits are recorded like any."""
    o = office()
    call = o.call_of(cc.MakeCall(calling="331", called="390"))
    assert o.do(cc.GenerateDigits(call=call, device="331", digits="12#")) == [
        "digitsGenerated(normal) call=1 device=331 count=3 | 331:connected 390:connected"
    ]


def test_rule6_a_caller_who_keeps_guessing_is_locked_out_for_a_while() -> None:
    """Two calls of three wrong PINs each; the third call is cleared at once, until 10
    minutes after the last wrong PIN (temporary only: a lockout is no denial of service)."""
    o = office()
    room(o, "331")
    wrong = "1" if pin_of(o, 1, 2) != "111111" else "2"
    for _ in range(2):
        call, _ = dial(o, "333")
        for _ in range(3):
            key(o, call, "333", wrong * 6)
    assert o.state.conferences.strikes["333"].count == 6
    o.clock.advance(599)
    call, events = dial(o, "333")
    assert events[-4:] == [
        f"dialInStarted call={call} caller=333",
        f"dialInEnded call={call} reason=callerLocked",
        f"connectionCleared(normalClearing) call={call} device=391 | 333:connected 391:null",
        f"callCleared(normalClearing) call={call} | 333:null",
    ]
    other, events = dial(o, "331")  # another number is not locked
    assert events[-1] == f"dialInStarted call={other} caller=331"
    o.clock.advance(1)
    call, events = dial(o, "333")
    assert events[-1] == f"dialInStarted call={call} caller=333"
    assert key(o, call, "333", pin_of(o, 1, 2)) == [
        f"participantJoined conference=1 participant=2 call={call}",
        f"aloneTimeoutSet conference=1 participant=2 disconnects_at={o.clock.now_ms() + ALONE}",
    ]
    o.assert_replays()


def test_conf02_a_removed_account_leaves_and_its_conferences_keep_a_moderator() -> None:
    """Anna's account goes: in conference 1 Clara (licensed) becomes moderator, conference 2
    (only Bernd, unlicensed, remains) is deleted; Anna's call in the room is cleared."""
    from cti.accounts.commands import RemoveAccount, UpdateAccount
    from cti.accounts.model import Licence, Role

    o = office()
    o.do(UpdateAccount(name="332", role=Role.ADMIN, licences=(Licence.CONFERENCE,)))
    room(o, "331", "332")
    o.do(c.CreateConference(user="330", name="Zwei"))
    o.do(c.AddParticipant(user="330", conference=2, member="331"))
    anna = joined(o, "330", 1)
    events = o.do(RemoveAccount(name="330"))
    assert [e for e in events if not e.startswith(("account", "favourite", "presence"))] == [
        "participantLeft conference=1 participant=1 reason=removed",
        f"connectionCleared(normalClearing) call={anna} device=391 | 330:connected 391:null",
        f"callCleared(normalClearing) call={anna} | 330:null",
        "participantRemoved conference=1 participant=1",
        "moderatorSet conference=1 participant=3 moderator=True",
        "participantRemoved conference=2 participant=1",
        "conferenceDeleted conference=2",
    ]
    assert [p.user for p in conference(o, 1).moderators] == ["332"]
    assert o.state.conferences.conference(2) is None
    o.assert_replays()


async def test_rule6_17_callers_keying_at_once_through_the_engine() -> None:
    """The same through the node's engine: 17 generateDigits requests in flight at once
    (as 17 phones would send them) are decided one after another in its writer."""
    import asyncio

    from cti.app.engine import Engine

    o = office(channels=16, phones=20)
    room(o, guest=True)
    o.do(c.CreateConference(user="332", name="Vertrieb"))
    o.do(c.SetGuestPin(user="332", conference=2, enabled=True))
    calls = [dial(o, f"4{i:02}")[0] for i in range(17)]
    engine = Engine(o.node)
    await engine.start()
    try:
        outcomes = await asyncio.gather(
            *(
                engine.execute(
                    cc.GenerateDigits(call=call, device=f"4{i:02}", digits=guest_pin(o, 1 + i % 2))
                )
                for i, call in enumerate(calls)
            )
        )
    finally:
        await engine.stop()
    assert all(outcome.ok for outcome in outcomes)
    assert o.state.conferences.joined_count() == 16
    ended = [e.event for x in outcomes for e in x.events if isinstance(e.event, DialInEnded)]  # type: ignore[union-attr]
    assert [e.reason for e in ended] == ["noChannel"]
    o.assert_replays()


def test_a_participant_brings_a_colleague_in_with_a_phone_conference() -> None:
    """331 talks to 332, consults the dial-in, keys the PIN and conferences the calls
    (CALL-08): the seat follows the merged call, and it is freed when that call ends."""
    o = office()
    room(o, "331")
    talk = o.talking("331", "332")
    o.do(cc.ConsultationCall(call=talk, device="331", consulted="391"))
    seat = o.last_result["call"]
    assert isinstance(seat, int)
    key(o, seat, "331", pin_of(o, 1, 2))
    events = o.do(cc.ConferenceCall(device="331"))
    assert events[-1] == f"bridgeCallMoved call={seat} into={talk}"
    assert conference(o, 1).participant(2).call == talk  # type: ignore[union-attr]
    assert dict(o.state.conferences.by_call) == {talk: ((1, 2),)}  # the index follows the move
    o.do(cc.ClearConnection(call=talk, device="331"))  # 332 stays in with the bridge
    assert states(o)[2] is ParticipantState.WAITING
    assert o.do(cc.ClearConnection(call=talk, device="332")) == [
        f"connectionCleared(normalClearing) call={talk} device=332 | 332:null 391:connected",
        f"callCleared(normalClearing) call={talk} | 391:null",
        "participantLeft conference=1 participant=2 reason=hungUp",
    ]
    assert o.state.conferences.joined_count() == 0
    assert dict(o.state.conferences.by_call) == {}
    o.assert_replays()


def test_conf06_an_end_due_while_the_node_was_down_fires_at_the_restart(tmp_path: Path) -> None:
    from cti.app.clock import ManualClock
    from cti.app.node import Node, replay
    from cti.store import SqliteStore
    from tests.office import fmt

    o = office()
    o.node.store.close()
    path = tmp_path / "node.db"
    o.store = SqliteStore(path)  # type: ignore[assignment]
    o.node = Node(o.site, o.store, o.clock)
    from cti.accounts.commands import SeedAccounts
    from tests.presence.helpers import seeds

    o.do(SeedAccounts(accounts=seeds()))
    room(o, "331")
    anna = joined(o, "330", 1)
    joined(o, "331", 2)
    o.do(cc.ClearConnection(call=anna, device="330"))
    due = conference(o, 1).ends_at
    assert due is not None
    o.store.close()

    later = Node(o.site, SqliteStore(path), ManualClock(due + 1))
    [outcome] = later.fire_due_timers()
    assert [fmt(x.event) for x in outcome.events] == [  # type: ignore[union-attr]
        "participantLeft conference=1 participant=2 reason=conferenceEnded",
        "connectionCleared(normalClearing) call=2 device=391 | 331:connected 391:null",
        "callCleared(normalClearing) call=2 | 331:null",
        "conferenceEnded conference=1",
    ]
    assert replay(later.store, use_snapshot=False) == later.state
    later.store.close()


def test_rule6_strikes_count_against_the_phone_not_a_number_others_present_too() -> None:
    """MULAP 340's phones present the group number: 337 guessing locks out 337, not 338
    (strikes per caller device where the site knows it)."""
    o = office()
    room(o, "331")
    wrong = "1" if pin_of(o, 1, 2) != "111111" else "2"
    for _ in range(2):
        call, events = dial(o, "340")  # 337, the group's assigned phone, presenting 340
        assert events[-1] == f"dialInStarted call={call} caller=340"
        for _ in range(3):
            key(o, call, "337", wrong * 6)
    assert o.state.conferences.strikes["337"].count == 6
    assert "340" not in o.state.conferences.strikes
    # 338 answers a call to the group: its consultation is on the group's line, presenting 340.
    talk = o.call_of(cc.MakeCall(calling="330", called="340"))
    o.do(cc.AnswerCall(call=talk, device="338"))
    events = o.do(cc.ConsultationCall(call=talk, device="338", consulted="391"))
    seat = o.last_result["call"]
    assert events[-1] == f"dialInStarted call={seat} caller=340"  # not locked out
    assert key(o, seat, "338", pin_of(o, 1, 2))[0].startswith("participantJoined")
    call, events = dial(o, "340")
    assert events[-3] == f"dialInEnded call={call} reason=callerLocked"  # 337 still is
    o.assert_replays()


def test_rule6_a_withheld_number_is_no_one_s_its_call_alone_counts() -> None:
    """One guesser with a withheld number must not lock out every withheld caller at the
    first limit: their strikes are the call's (``call/<id>``), which the call's three tries
    end anyway; but all withheld calls together have a limit too (WITHHELD_STRIKES), else
    redialling would make guessing unlimited."""
    from types import SimpleNamespace

    from cti.conferences import dialin
    from cti.conferences import events as ev
    from cti.conferences.evolve import HANDLERS
    from cti.conferences.model import CALLER_LOCK_MS, WITHHELD_STRIKES
    from cti.conferences.state import ConferencesState

    assert [dialin.withheld(c) for c in ("", "anonymous", "330", "+4930888003")] == [
        True,
        True,
        False,
        False,
    ]
    o = office()
    call = o.call_of(cc.Dial(device="+4930888003", digits="391"))
    d = SimpleNamespace(site=o.site, state=o.state)
    assert dialin.strikes_key(d, call, "") == f"call/{call}"  # type: ignore[arg-type]
    assert dialin.strikes_key(d, call, "+4930888003") == "+4930888003"  # type: ignore[arg-type]
    # A phone of the site that withholds its number is still that phone: its 6 strikes,
    # not the per-call ones and the withheld bucket's 30.
    own = o.call_of(cc.MakeCall(calling="331", called="391"))
    d = SimpleNamespace(site=o.site, state=o.state)
    assert dialin.strikes_key(d, own, "") == "331"  # type: ignore[arg-type]
    assert dialin.strikes_key(d, own, "anonymous") == "331"  # type: ignore[arg-type]
    rooms = ConferencesState()
    for n, call_id in enumerate((5, 5, 5, 6)):
        rooms = HANDLERS[ev.DialInStarted](rooms, ev.DialInStarted(call=call_id, caller=""))
        rejected = ev.PinRejected(
            call=call_id, remaining=2 - n % 3, caller="", at=n, strikes=f"call/{call_id}"
        )
        rooms = HANDLERS[ev.PinRejected](rooms, rejected)
    assert {k: s.count for k, s in rooms.strikes.items()} == {
        "call/5": 3,
        "call/6": 1,
        "withheld": 4,
    }
    assert not dialin.locked(rooms, "call/7", 4)  # another withheld caller gets in
    assert dialin.locked(rooms, "call/5", 4) is False  # 3 < 6: the call's tries end it
    # Redialling: each call's 3 tries, until all withheld calls together reach the limit.
    n = 4
    while rooms.strikes["withheld"].count < WITHHELD_STRIKES:
        call_id = 100 + n // 3
        rooms = HANDLERS[ev.DialInStarted](rooms, ev.DialInStarted(call=call_id, caller=""))
        rejected = ev.PinRejected(
            call=call_id, remaining=0, caller="", at=n, strikes=f"call/{call_id}"
        )
        rooms = HANDLERS[ev.PinRejected](rooms, rejected)
        n += 1
    assert dialin.locked(rooms, "call/999", n)  # every withheld caller waits now ...
    assert not dialin.locked(rooms, "+4930888003", n)  # ... a caller with a number does not
    assert not dialin.locked(rooms, "call/999", n + CALLER_LOCK_MS)  # temporary only


def test_rule6_a_v1_rejection_counts_against_its_caller_number() -> None:
    import orjson

    from cti.domain.model import CODEC

    old = {"call": 3, "remaining": 2, "caller": "331", "at": 1}
    decoded = CODEC.decode("conferencePinRejected", 1, orjson.dumps(old))
    assert decoded.strikes == "331"  # type: ignore[attr-defined]


def test_rule6_an_outside_caller_transferred_in_counts_against_itself() -> None:
    """A receptionist (332) transfers an outside caller to the dial-in: the dial-in started
    with 332 as its caller, but it is the outside caller who keys. Its wrong PINs count
    against its number, not against 332, which would be locked out of its conferences while
    the guesser, transferred in again and again, never was."""
    o = office()
    room(o, "331", "332")
    wrong = "1" if pin_of(o, 1, 2) != "111111" else "2"
    for _ in range(2):
        primary = o.call_of(cc.Dial(device="+4930888003", digits="332"))
        o.do(cc.AnswerCall(call=primary, device="332"))
        o.do(cc.ConsultationCall(call=primary, device="332", consulted="391"))
        assert o.do(cc.TransferCall(device="332"))[-1].startswith("bridgeCallMoved")
        assert list(o.state.conferences.dial_ins) == [primary]
        for _ in range(3):
            key(o, primary, "+4930888003", wrong * 6)
    assert {k: s.count for k, s in o.state.conferences.strikes.items()} == {"+4930888003": 6}
    call, events = dial(o, "332")
    assert events[-1] == f"dialInStarted call={call} caller=332"  # not locked out
    assert key(o, call, "332", pin_of(o, 1, 3))[0].startswith("participantJoined")
    o.do(cc.ClearConnection(call=call, device="332"))
    events = o.do(cc.Dial(device="+4930888003", digits="391"))  # the guesser: locked
    assert any(e.endswith("reason=callerLocked") for e in events), events
    # ... also when transferred in again: no three more tries per transfer.
    primary = o.call_of(cc.Dial(device="+4930888003", digits="332"))
    o.do(cc.AnswerCall(call=primary, device="332"))
    o.do(cc.ConsultationCall(call=primary, device="332", consulted="391"))
    events = o.do(cc.TransferCall(device="332"))
    assert f"dialInEnded call={primary} reason=callerLocked" in events, events
    assert primary not in o.state.conferences.dial_ins
    assert o.switch.call(primary) is None  # the bridge hung up: the guesser's call ended
    o.assert_replays()
