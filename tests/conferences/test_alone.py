"""The alone-timeout (UC-LESSONS, Conferences: room policy with a grace period): a participant
alone in a room (waiting, music on hold) is disconnected after the site's ``alone_minutes``,
a timer on the node's injected clock that someone joining cancels. Exact events, the
switch's and the room's, in the order of the log."""

from __future__ import annotations

from pathlib import Path

import attrs

from cti.accounts.commands import SeedAccounts
from cti.app.config import site_from_dict
from cti.calls import commands as cc
from cti.conferences import commands as c
from cti.conferences.model import ParticipantState
from cti.conferences.views import view
from tests.conferences import helpers
from tests.conferences.helpers import conference, office, pin_of
from tests.conferences.test_dial_in import ALONE, MINUTE, dial, joined, key, room, states
from tests.office import Office, fmt
from tests.presence.helpers import seeds


def fired(o: Office) -> list[str]:
    return [fmt(x.event) for outcome in o.node.fire_due_timers() for x in outcome.events]  # type: ignore[union-attr]


def office_alone(minutes: int) -> Office:
    """The conference office of a site whose ``alone_minutes`` is ``minutes``."""
    s = helpers.site()
    assert s.conferences is not None
    o = Office(attrs.evolve(s, conferences=attrs.evolve(s.conferences, alone_minutes=minutes)))
    o.do(SeedAccounts(accounts=seeds()))
    return o


def test_a_participant_alone_is_disconnected_after_the_sites_time() -> None:
    o = office()
    room(o, "331")
    bernd = joined(o, "331", 2)
    due = o.clock.now_ms() + ALONE
    assert conference(o, 1).alone is not None
    [doc] = view(o.state, "331")  # the document says who waits alone, and until when
    [me] = [p for p in doc["participants"] if p["id"] == 2]
    assert (me["state"], me["disconnectsAt"]) == (ParticipantState.WAITING, due)
    o.clock.advance(30 * 60 - 1)
    assert fired(o) == []
    o.clock.advance(1)
    assert fired(o) == [
        "participantLeft conference=1 participant=2 reason=aloneTimeout",
        f"connectionCleared(normalClearing) call={bernd} device=391 | 331:connected 391:null",
        f"callCleared(normalClearing) call={bernd} | 331:null",
    ]
    assert conference(o, 1).alone is None and not conference(o, 1).joined
    assert o.switch.call(bernd) is None
    assert states(o)[2] is ParticipantState.INACTIVE  # still in the list: may dial in again
    o.clock.advance(3600)
    assert fired(o) == []
    o.assert_replays()


def test_someone_joining_cancels_it_and_the_next_one_alone_gets_the_full_time() -> None:
    o = office()
    room(o, "331", "332")
    joined(o, "331", 2)
    o.clock.advance(20 * 60)
    call, _ = dial(o, "332")
    assert key(o, call, "332", pin_of(o, 1, 3)) == [
        f"participantJoined conference=1 participant=3 call={call}",
        "aloneTimeoutCancelled conference=1 participant=2",
    ]
    [doc] = view(o.state, "331")
    assert [p["disconnectsAt"] for p in doc["participants"]] == [None, None, None]
    o.clock.advance(20 * 60)  # past the first timer's time: nothing fires
    assert fired(o) == []
    assert o.do(cc.ClearConnection(call=call, device="332")) == [
        f"connectionCleared(normalClearing) call={call} device=332 | 332:null 391:connected",
        f"callCleared(normalClearing) call={call} | 391:null",
        "participantLeft conference=1 participant=3 reason=hungUp",
        f"aloneTimeoutSet conference=1 participant=2 disconnects_at={o.clock.now_ms() + ALONE}",
    ]
    o.assert_replays()


def test_the_alone_participant_hanging_up_ends_it_without_a_timer_left() -> None:
    o = office()
    room(o, "331")
    bernd = joined(o, "331", 2)
    assert o.do(cc.ClearConnection(call=bernd, device="331")) == [
        f"connectionCleared(normalClearing) call={bernd} device=331 | 331:null 391:connected",
        f"callCleared(normalClearing) call={bernd} | 391:null",
        "participantLeft conference=1 participant=2 reason=hungUp",
    ]
    assert conference(o, 1).alone is None
    o.clock.advance(3600)
    assert fired(o) == []
    o.assert_replays()


def test_a_stale_timer_records_nothing() -> None:
    """The timer found due, but someone joined before it was decided: nothing happens."""
    o = office()
    room(o, "331")
    joined(o, "331", 2)
    joined(o, "330", 1)
    o.clock.advance(3600)
    before = o.store.last_seq()
    assert o.node.execute(c.DisconnectAlone(conference=1, participant=2)).ok
    assert o.store.last_seq() == before


def test_with_the_5_minute_rule_the_earlier_timer_wins() -> None:
    """A site that disconnects after 2 minutes alone: the moderator leaves Bernd alone, so
    both the end (CONF-06, 5 minutes) and the alone-timeout run; at 2 minutes Bernd is
    disconnected and the room emptying cancels the end."""
    o = office_alone(2)
    room(o, "331")
    anna = joined(o, "330", 1)
    bernd = joined(o, "331", 2)
    now = o.clock.now_ms()
    assert o.do(cc.ClearConnection(call=anna, device="330")) == [
        f"connectionCleared(normalClearing) call={anna} device=330 | 330:null 391:connected",
        f"callCleared(normalClearing) call={anna} | 391:null",
        "participantLeft conference=1 participant=1 reason=hungUp",
        f"endScheduled conference=1 ends_at={now + 5 * MINUTE}",
        f"aloneTimeoutSet conference=1 participant=2 disconnects_at={now + 2 * MINUTE}",
    ]
    o.clock.advance(120)
    assert fired(o) == [
        "participantLeft conference=1 participant=2 reason=aloneTimeout",
        f"connectionCleared(normalClearing) call={bernd} device=391 | 331:connected 391:null",
        f"callCleared(normalClearing) call={bernd} | 331:null",
        "endCancelled conference=1 reason=roomEmpty",
    ]
    o.clock.advance(600)
    assert fired(o) == []
    o.assert_replays()


def test_a_site_with_alone_minutes_0_never_disconnects() -> None:
    o = office_alone(0)
    room(o, "331")
    call, _ = dial(o, "331")
    assert key(o, call, "331", pin_of(o, 1, 2)) == [
        f"participantJoined conference=1 participant=2 call={call}"
    ]
    o.clock.advance(24 * 3600)
    assert fired(o) == [] and len(conference(o, 1).joined) == 1


def test_the_site_file_sets_it_and_30_minutes_is_the_default() -> None:
    base = {"location": {"country_code": "49", "area_code": "89", "base_number": "7007"}}
    plain = site_from_dict({**base, "conferences": {"dial_in": "391", "channels": 4}})
    assert plain.conferences is not None and plain.conferences.alone_minutes == 30
    off = {"dial_in": "391", "channels": 4, "alone_minutes": 0}
    never = site_from_dict({**base, "conferences": off})
    assert never.conferences is not None and never.conferences.alone_minutes == 0


def test_an_alone_timeout_due_while_the_node_was_down_fires_at_the_restart(
    tmp_path: Path,
) -> None:
    from cti.app.clock import ManualClock
    from cti.app.node import Node, replay
    from cti.store import SqliteStore

    o = office()
    o.node.store.close()
    path = tmp_path / "node.db"
    o.store = SqliteStore(path)  # type: ignore[assignment]
    o.node = Node(o.site, o.store, o.clock)
    o.do(SeedAccounts(accounts=seeds()))
    room(o, "331")
    bernd = joined(o, "331", 2)
    alone = conference(o, 1).alone
    assert alone is not None
    o.store.close()

    later = Node(o.site, SqliteStore(path), ManualClock(alone.until + 60_000))
    [outcome] = later.fire_due_timers()
    assert [fmt(x.event) for x in outcome.events] == [  # type: ignore[union-attr]
        "participantLeft conference=1 participant=2 reason=aloneTimeout",
        f"connectionCleared(normalClearing) call={bernd} device=391 | 331:connected 391:null",
        f"callCleared(normalClearing) call={bernd} | 331:null",
    ]
    assert replay(later.store, use_snapshot=False) == later.state
    later.store.close()


def test_a_running_alone_timeout_survives_a_snapshot_and_format_1_still_reads() -> None:
    from cti.conferences import codec
    from cti.domain import snapshot

    o = office()
    room(o, "331")
    joined(o, "331", 2)
    assert conference(o, 1).alone is not None
    assert snapshot.decode(snapshot.encode(o.state)) == o.state
    # A format-1 snapshot (before the alone-timeout) has no "alone": none is running.
    doc = codec.encode(o.state.conferences)
    for c_ in doc["conferences"]:
        del c_["alone"]
    [old] = codec.decode(doc).conferences.values()
    assert old.alone is None and old.participants == conference(o, 1).participants
    assert 1 in codec.SNAPSHOT.older and codec.SNAPSHOT.format == 2
