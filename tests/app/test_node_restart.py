"""The node's write path across restarts and failures.

A node reopened on the same log (an SQLite file, or a node's log in PostgreSQL) must have
exactly the state of the node that wrote it (calls, device features, pending timers, the next
call id), whether it replays the whole log or starts from a snapshot, and must continue the
log without a gap. A failed store write refuses
the whole batch and changes nothing; a crashing service costs one command, never the node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import orjson
import pytest

from cti.app.clock import ManualClock
from cti.app.node import Accepted, Node, Refused, replay
from cti.calls import commands as c
from cti.calls.decision import CallDecision
from cti.calls.errors import CstaError
from cti.calls.services import basic
from cti.calls.services.queries import SnapshotCall, SnapshotDevice
from cti.calls.values import ConnectionState, ForwardingType, TimerPurpose
from cti.domain import NodeState, model, snapshot
from cti.site.model import Site
from cti.store import EventStore, MemoryStore, SqliteStore, StoredEvent, StoreError
from cti.store.postgres import PostgresStore
from tests.postgres import private_schema

EXTERNAL = "+4930123456"
MOBILE = "+491701234567"


def ok(node: Node, command: c.Command) -> Accepted:
    outcome = node.execute(command)
    assert isinstance(outcome, Accepted), f"{command!r} refused: {outcome}"
    return outcome


def call_of(node: Node, command: c.Command) -> int:
    call = ok(node, command).result["call"]
    assert isinstance(call, int)
    return call


def first_half(node: Node) -> None:
    """Calls, a consultation turned conference, DND, a MULAP group call."""
    call = call_of(node, c.MakeCall(calling="330", called="331"))
    ok(node, c.AnswerCall(call=call, device="331"))
    consult = call_of(node, c.ConsultationCall(call=call, device="330", consulted="332"))
    ok(node, c.AnswerCall(call=consult, device="332"))
    ok(node, c.ConferenceCall(device="330"))
    ok(node, c.SetDoNotDisturb(device="336", on=True))
    assert node.execute(c.MakeCall(calling="335", called="336")).ok  # callback prompt at mobile
    call_of(node, c.Dial(device="+4930999999", digits="340"))  # rings 337 and 338


def second_half(node: Node) -> None:
    """No-answer forwarding with a pending timer, a held call, a call that ends."""
    ok(
        node,
        c.SetForwarding(
            device="333",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="351",
            ring_time=20,
        ),
    )
    call_of(node, c.Dial(device=EXTERNAL, digits="333"))  # 333 rings, timer pending
    held = call_of(node, c.MakeCall(calling="300", called="334"))
    ok(node, c.AnswerCall(call=held, device="334"))
    ok(node, c.HoldCall(call=held, device="300"))
    gone = call_of(node, c.Dial(device="+4930555555", digits="351"))
    ok(node, c.ClearCall(call=gone))


def check_rich(node_state: NodeState) -> None:
    """The scenario left every kind of state behind (so equality below means something)."""
    state = node_state.calls
    assert dict(state.timers) == {
        (5, "333", TimerPurpose.NO_ANSWER): ManualClock().now_ms() + 20_000
    }
    assert state.next_call_id == 8
    assert state.device("336").dnd
    assert ForwardingType.NO_ANSWER in state.device("333").forwarding
    assert len(state.calls[1].parties) == 3  # the conference
    assert state.calls[3].pending == "336"  # the callback prompt
    assert state.calls[4].group == "340"
    assert state.calls[6].state_of("300") is ConnectionState.HOLD
    assert 7 not in state.calls


Reopen = Callable[[], EventStore]


@pytest.fixture(params=["sqlite", "postgres"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Reopen]:
    """Opens the writer of one durable log, again and again (the previous one closed)."""
    if request.param == "sqlite":
        yield lambda: SqliteStore(tmp_path / "node.db")
        return
    with private_schema() as dsn:
        yield lambda: PostgresStore(dsn, "node1")


def stored_seqs(store: EventStore) -> list[int]:
    return [r.seq for r in store.read(1)]


def continue_after_restart(node: Node, before: NodeState) -> None:
    """The next command continues the log at seq+1 and uses the next call id."""
    outcome = ok(node, c.Dial(device="+4930666666", digits="351"))
    assert outcome.result["call"] == before.calls.next_call_id
    assert [x.seq for x in outcome.events] == list(
        range(before.seq + 1, before.seq + 1 + len(outcome.events))
    )
    assert stored_seqs(node.store) == list(range(1, node.state.seq + 1))  # type: ignore[arg-type]


# -- restart ---------------------------------------------------------------------------------


def test_reopened_node_has_the_same_state_and_continues_the_log(site: Site, reopen: Reopen) -> None:
    """CALL-03..CALL-16: state (calls, features, timers, next call id) survives a restart."""
    store = reopen()
    node = Node(site, store, ManualClock())
    first_half(node)
    second_half(node)
    before = node.state
    check_rich(before)
    assert before.seq == store.last_seq() > 0
    store.close()

    store2 = reopen()
    node2 = Node(site, store2, ManualClock())
    assert node2.state == before
    assert store2.latest_snapshot() is None
    continue_after_restart(node2, before)
    store2.close()


def test_timer_pending_at_restart_fires_after_it(site: Site, reopen: Reopen) -> None:
    """CALL-16: a no-answer timer recorded before the restart forwards the call after it."""
    store = reopen()
    node = Node(site, store, ManualClock())
    first_half(node)
    second_half(node)
    store.close()

    clock = ManualClock()
    node2 = Node(site, reopen(), clock)
    clock.advance(19.999)
    assert node2.due_timers() == []
    clock.advance(0.001)
    assert node2.due_timers() == [c.FireTimer(call=5, device="333", purpose=TimerPurpose.NO_ANSWER)]
    [outcome] = node2.fire_due_timers()
    assert outcome.ok
    assert node2.state.calls.calls[5].state_of("351") is ConnectionState.CONNECTED
    assert not node2.state.calls.timers
    assert replay(node2.store, use_snapshot=False) == node2.state
    node2.store.close()


def test_restart_from_a_snapshot_taken_midway(site: Site, reopen: Reopen) -> None:
    """A snapshot plus the events after it gives the same state as the node that wrote it."""
    store = reopen()
    node = Node(site, store, ManualClock())
    first_half(node)
    node.snapshot()
    snap_seq = node.state.seq
    second_half(node)
    before = node.state
    assert before.seq > snap_seq
    store.close()

    store2 = reopen()
    snap = store2.latest_snapshot()
    assert snap is not None and snap.seq == snap_seq
    read_from: list[int] = []
    real_iter = store2.iter_from

    def iter_from(from_seq: int, batch: int = 10_000) -> Iterator[StoredEvent]:
        read_from.append(from_seq)
        return real_iter(from_seq, batch)

    store2.iter_from = iter_from  # type: ignore[method-assign]
    node2 = Node(site, store2, ManualClock())
    assert read_from == [snap_seq + 1]  # only the tail after the snapshot was read
    assert node2.state == before
    assert replay(store2, use_snapshot=False) == before
    continue_after_restart(node2, before)
    store2.close()


def test_snapshot_only_load_equals_full_replay(site: Site, reopen: Reopen) -> None:
    """A snapshot at the end of the log loads to exactly the fully replayed state."""
    store = reopen()
    node = Node(site, store, ManualClock())
    first_half(node)
    second_half(node)
    node.snapshot()
    store.close()

    store2 = reopen()
    from_snapshot = replay(store2)
    full = replay(store2, use_snapshot=False)
    assert from_snapshot == full == node.state
    snap = store2.latest_snapshot()
    assert snap is not None
    assert snapshot.decode(snap.data) == full
    check_rich(full)
    store2.close()


def test_a_snapshot_of_an_older_state_format_is_ignored(site: Site) -> None:
    """A snapshot written before the state gained fields (redial lists, offers) would load
    to a state the log does not give: it is not read, the whole log is replayed instead."""
    store = MemoryStore()
    node = Node(site, store, ManualClock())
    first_half(node)
    node.snapshot()
    snap = store.latest_snapshot()
    assert snap is not None
    old = orjson.loads(snap.data)
    calls = old["parts"]["calls"]
    calls["format"] = 1  # as written before redial lists existed
    for runtime in calls["data"]["devices"].values():
        del runtime["redial"]
    store.save_snapshot(attrs.evolve(snap, data=orjson.dumps(old)))
    with pytest.raises(snapshot.StaleSnapshot):
        snapshot.decode(store.latest_snapshot().data)  # type: ignore[union-attr]
    assert replay(store) == replay(store, use_snapshot=False) == node.state
    assert node.state.calls.device("330").redial  # what the old snapshot would have lost


def test_automatic_snapshots(site: Site) -> None:
    """Every ``snapshot_every`` events the node saves a snapshot that loads to its state."""
    store = MemoryStore()
    node = Node(site, store, ManualClock(), snapshot_every=10)
    first_half(node)
    snap = store.latest_snapshot()
    assert snap is not None
    assert node.state.seq - 10 < snap.seq <= node.state.seq
    prefix = MemoryStore()  # the log as it was when the snapshot was taken
    prefix.append(store.read(1, limit=snap.seq))
    assert snapshot.decode(snap.data) == replay(prefix)
    assert Node(site, store, ManualClock()).state == node.state


# -- a failed store write ---------------------------------------------------------------------


def test_store_failure_refuses_the_whole_batch_and_changes_nothing(site: Site) -> None:
    """Accepted commands of a batch whose append fails are refused with resourceOutOfService;
    commands refused on their own keep their error; state, log and followers see nothing."""
    store = MemoryStore()
    node = Node(site, store, ManualClock())
    ok(node, c.MakeCall(calling="330", called="331"))
    before, log_before, fed_before = node.state, store.read(1), node.feed.last_seq
    batch = [
        c.MakeCall(calling="332", called="333"),
        c.HoldCall(call=99, device="330"),
        c.AnswerCall(call=2, device="333"),  # the call made two commands earlier
        c.SetDoNotDisturb(device="334", on=True),
        c.MakeCall(calling="300", called="999"),
    ]
    store.fail_next_append = StoreError("disk on fire")
    outcomes = node.execute_batch(batch)
    assert [o.ok for o in outcomes] == [False] * 5
    errors = [o.error for o in outcomes if isinstance(o, Refused)]
    assert [e.name for e in errors] == [
        "resourceOutOfService",
        "invalidCallID",
        "resourceOutOfService",
        "resourceOutOfService",
        "invalidDestination",
    ]
    assert "disk on fire" in errors[0].message
    assert node.state is before
    assert store.read(1) == log_before
    assert node.feed.last_seq == fed_before and node.feed.read(fed_before + 1, 10) == []

    outcomes = node.execute_batch(batch)
    assert [o.ok for o in outcomes] == [True, False, True, True, False]
    assert isinstance(outcomes[0], Accepted) and outcomes[0].result["call"] == 2
    seqs = [x.seq for o in outcomes if isinstance(o, Accepted) for x in o.events]
    assert seqs == list(range(before.seq + 1, node.state.seq + 1))
    assert stored_seqs(store) == list(range(1, node.state.seq + 1))
    assert node.state.calls.device("334").dnd
    assert node.state.calls.calls[2].state_of("333") is ConnectionState.CONNECTED
    assert replay(store, use_snapshot=False) == node.state
    fed = node.feed.read(fed_before + 1, 100)  # followers now see the batch, in order
    assert fed is not None and [x.seq for x in fed] == seqs


def test_store_failure_on_sqlite_leaves_file_and_node_in_step(site: Site, tmp_path: Path) -> None:
    """A failing SQLite append (the store is closed under the node) refuses the batch and the
    node's state stays that of the file."""
    store = SqliteStore(tmp_path / "node.db")
    node = Node(site, store, ManualClock())
    ok(node, c.MakeCall(calling="330", called="331"))
    before = node.state
    store.close()
    [outcome] = node.execute_batch([c.AnswerCall(call=1, device="331")])
    assert isinstance(outcome, Refused) and outcome.error.name == "resourceOutOfService"
    assert node.state is before
    reopened = SqliteStore(tmp_path / "node.db")
    assert replay(reopened) == before
    reopened.close()


def test_postgres_session_lost_refuses_the_batch_and_the_node_stays_in_step(
    site: Site, pg_dsn: str
) -> None:
    """The database ends the writer's session (a restart, a cut): the batch is refused with
    resourceOutOfService, the node's state stays that of the log, and the next writer of the
    log finds exactly that state."""
    store = PostgresStore(pg_dsn, "node1")
    node = Node(site, store, ManualClock())
    ok(node, c.MakeCall(calling="330", called="331"))
    before = node.state
    with PostgresStore.open_readonly(pg_dsn, "node1") as admin:
        admin._conn.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
    [outcome] = node.execute_batch([c.AnswerCall(call=1, device="331")])
    assert isinstance(outcome, Refused) and outcome.error.name == "resourceOutOfService"
    assert "event store write failed: append of seq" in outcome.error.message
    assert node.state is before
    store.close()
    with PostgresStore(pg_dsn, "node1") as reopened:
        assert replay(reopened) == before


# -- a crashing service -------------------------------------------------------------------------


def test_crashing_service_costs_one_command_not_the_node(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception in decide refuses that command with 'generic'; the rest of the
    batch and later commands are served."""

    def boom(_d: object, _c: object) -> None:
        raise RuntimeError("bug")

    store = MemoryStore()
    node = Node(site, store, ManualClock())
    call = call_of(node, c.MakeCall(calling="330", called="331"))
    ok(node, c.AnswerCall(call=call, device="331"))
    monkeypatch.setitem(model._DECIDE, c.HoldCall, (CallDecision, boom))
    before = node.state
    outcome = node.execute(c.HoldCall(call=call, device="330"))
    assert isinstance(outcome, Refused)
    assert outcome.error == CstaError("generic", "internal error; see the server log")
    assert node.state is before and store.last_seq() == before.seq
    outcomes = node.execute_batch(
        [
            c.SetDoNotDisturb(device="332", on=True),
            c.HoldCall(call=call, device="331"),
            c.SetDoNotDisturb(device="333", on=True),
        ]
    )
    assert [o.ok for o in outcomes] == [True, False, True]
    assert isinstance(outcomes[1], Refused) and outcomes[1].error.name == "generic"
    assert node.state.calls.device("332").dnd and node.state.calls.device("333").dnd
    monkeypatch.undo()
    ok(node, c.HoldCall(call=call, device="330"))
    assert replay(store, use_snapshot=False) == node.state


def test_service_crashing_after_emitting_leaves_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that emitted events before crashing commits none of them."""

    def half_done(d: CallDecision, command: c.MakeCall) -> None:
        basic.make_call(d, command)
        assert d.events  # it did emit
        raise RuntimeError("bug after emitting")

    store = MemoryStore()
    node = Node(site, store, ManualClock())
    monkeypatch.setitem(model._DECIDE, c.MakeCall, (CallDecision, half_done))
    outcome = node.execute(c.MakeCall(calling="330", called="331"))
    assert isinstance(outcome, Refused) and outcome.error.name == "generic"
    assert node.state == NodeState() and store.last_seq() == 0
    monkeypatch.undo()
    assert call_of(node, c.MakeCall(calling="330", called="331")) == 1


# -- snapshotDevice / snapshotCall ------------------------------------------------------------


def test_snapshot_queries(site: Site) -> None:
    """CALL-11: snapshotDevice and snapshotCall read the committed state and record nothing."""
    store = MemoryStore()
    node = Node(site, store, ManualClock())
    call = call_of(node, c.Dial(device=EXTERNAL, digits="331"))
    consult_from = call_of(node, c.MakeCall(calling="330", called="332"))
    ok(node, c.AnswerCall(call=consult_from, device="332"))
    ok(node, c.HoldCall(call=consult_from, device="330"))
    seq = store.last_seq()
    assert node.query(SnapshotDevice(device="331")) == [{"call": call, "state": "alerting"}]
    assert node.query(SnapshotDevice(device=EXTERNAL)) == [{"call": call, "state": "connected"}]
    assert node.query(SnapshotDevice(device="330")) == [{"call": consult_from, "state": "hold"}]
    assert node.query(SnapshotDevice(device="334")) == []
    assert node.query(SnapshotDevice(device="340")) == []
    assert node.query(SnapshotCall(call=call)) == [
        {"device": EXTERNAL, "state": "connected"},
        {"device": "331", "state": "alerting"},
    ]
    assert node.query(SnapshotCall(call=consult_from)) == [
        {"device": "330", "state": "hold"},
        {"device": "332", "state": "connected"},
    ]
    with pytest.raises(CstaError) as err:
        node.query(SnapshotDevice(device="999"))
    assert err.value.name == "invalidDeviceID"
    with pytest.raises(CstaError) as err:
        node.query(SnapshotCall(call=42))
    assert err.value.name == "invalidCallID"
    ok(node, c.ClearCall(call=call))
    with pytest.raises(CstaError) as err:
        node.query(SnapshotCall(call=call))
    assert err.value.name == "invalidCallID"
    assert node.query(SnapshotDevice(device="331")) == []
    assert store.last_seq() == seq + 2  # only the clearCall was recorded (2 events)


# -- the seq of a device's state: its last change (issue 18 item 9) ---------------------------
def test_a_devices_seq_is_its_last_change_across_restarts(site: Site, tmp_path: Path) -> None:
    """``Node.device_seq``: the seq of the last event that touched the device (its MULAP
    group and mobility user too), not the log position; a device untouched since the
    snapshot a node started from has the snapshot's seq, never more than its events."""
    path = tmp_path / "node.db"
    node = Node(site, SqliteStore(path), ManualClock())
    assert node.device_seq("330") == 0
    call = call_of(node, c.MakeCall(calling="330", called="340"))  # rings 337 and 338
    rang = node.state.seq
    ok(node, c.SetDoNotDisturb(device="333", on=True))
    assert node.device_seq("333") == node.state.seq
    assert node.device_seq("330") == node.device_seq("337") == node.device_seq("340") == rang
    assert node.device_seq("331") == 0
    node.snapshot()
    snap = node.state.seq
    ok(node, c.AnswerCall(call=call, device="338"))
    answered = node.state.seq
    seqs = {d: node.device_seq(d) for d in site.devices}
    node.store.close()

    again = Node(site, SqliteStore(path), ManualClock())  # the snapshot and the tail
    assert again.device_seq("338") == again.device_seq("340") == answered
    assert again.device_seq("333") == again.device_seq("331") == snap
    assert all(again.device_seq(d) in (seqs[d], snap) for d in site.devices)
    again.store.close()
