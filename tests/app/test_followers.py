"""Log followers: the call records read model follows the log with a position of its own and,
whatever happens to its process, equals a rebuild from the log (up to its position)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from cti.app.clock import ManualClock
from cti.app.committed import decode
from cti.app.engine import Engine
from cti.app.feed import CommitFeed, LogReader
from cti.app.follower import follow
from cti.app.node import Node
from cti.calls import commands as c
from cti.calls.records import CallRecord, fold
from cti.calls.records_db import CallRecordsDb
from cti.site import Site
from cti.store import EventStore, MemoryStore, SqliteStore

REPO = Path(__file__).resolve().parents[2]


def rebuild(store: EventStore, upto: int | None = None) -> list[CallRecord]:
    """The call records of the log (up to ``upto``), folded from scratch."""
    items = ((r.seq, r.ts_ms, decode(r).event) for r in store.iter_from(1))
    records = fold(x for x in items if upto is None or x[0] <= upto)
    return [records[k] for k in sorted(records)]


def office_traffic(node: Node, rounds: int) -> None:
    """Calls of every shape: answered, cleared while ringing, transferred, conferenced, to a
    MULAP group, forwarded to voicemail, from outside."""
    for i in range(rounds):
        made = node.execute(c.MakeCall(calling="330", called="331"))
        call = made.result["call"]  # type: ignore[union-attr]
        node.execute(c.AnswerCall(call=call, device="331"))  # type: ignore[arg-type]
        consult = node.execute(c.ConsultationCall(call=call, device="330", consulted="332"))  # type: ignore[arg-type]
        second = consult.result["call"]  # type: ignore[union-attr]
        node.execute(c.AnswerCall(call=second, device="332"))  # type: ignore[arg-type]
        if i % 2:
            node.execute(c.TransferCall(device="330"))
        else:
            node.execute(c.ConferenceCall(device="330"))
        node.execute(c.ClearCall(call=call))  # type: ignore[arg-type]
        ringing = node.execute(c.Dial(device=f"+4930{100000 + i}", digits="340"))
        node.execute(c.ClearCall(call=ringing.result["call"]))  # type: ignore[union-attr,arg-type]
        missed = node.execute(c.MakeCall(calling="333", called="334"))
        node.execute(c.ClearCall(call=missed.result["call"]))  # type: ignore[union-attr,arg-type]


def test_records_of_typical_calls() -> None:
    """What the fold makes of each kind of call (JOUR-01 will build on these rows)."""
    store = MemoryStore()
    node = Node(load(), store, ManualClock())
    office_traffic(node, 2)
    rows = {r.call: r for r in rebuild(store)}
    first, consult = rows[1], rows[2]
    assert (first.origin, first.calling, first.called, first.answered_by) == (
        "330",
        "330",
        "331",
        "331",
    )
    assert first.parties == ("330", "331", "332") and first.end_cause == "normalClearing"
    assert (consult.merged_into, consult.end_cause) == (1, "merged")
    group = rows[3]  # from outside to the MULAP group, cleared while ringing
    assert (group.calling, group.called, group.group, group.answered_by) == (
        "+4930100000",
        "340",
        "340",
        None,
    )
    missed = rows[4]
    assert (missed.answered_by, missed.ended_ms is not None) == (None, True)
    assert all(r.first_seq <= r.last_seq for r in rows.values())


def load() -> Site:
    from cti.app.config import load_site

    return load_site()


async def test_follower_keeps_up_and_resumes_after_a_restart(tmp_path: Path) -> None:
    log = SqliteStore(tmp_path / "node1.db")
    node = Node(load(), log, ManualClock())
    engine = Engine(node)
    await engine.start()
    db = CallRecordsDb(tmp_path / "node1.calls.db", log.epoch)
    follower = asyncio.create_task(follow(db, LogReader(node.feed, log.sibling())))
    for _ in range(3):
        made = await engine.execute(c.MakeCall(calling="330", called="331"))
        await engine.execute(c.ClearCall(call=made.result["call"]))  # type: ignore[union-attr,arg-type]
    await node.feed.wait_beyond(node.feed.last_seq - 1)
    while db.position() < node.state.seq:  # the follower's turn: let it run
        await asyncio.sleep(0)
    assert db.records() == rebuild(log)
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    db.close()
    made = await engine.execute(c.MakeCall(calling="331", called="332"))  # while it is down
    await engine.stop()
    reopened = CallRecordsDb(tmp_path / "node1.calls.db", log.epoch)
    assert reopened.position() < node.state.seq
    reader = LogReader(CommitFeed(log.last_seq()), log.sibling())
    while batch := reader.read(reopened.position() + 1):
        reopened.apply(batch)
    assert reopened.position() == node.state.seq and reopened.records() == rebuild(log)
    assert reopened.record(made.result["call"]).answered_by is None  # type: ignore[union-attr,arg-type]
    reopened.close()
    log.close()


def test_a_read_model_of_another_log_is_rebuilt(tmp_path: Path) -> None:
    db = CallRecordsDb(tmp_path / "x.calls.db", "epoch-a")
    store = MemoryStore()
    node = Node(load(), store, ManualClock())
    office_traffic(node, 1)
    db.apply([decode(r) for r in store.read(1)])
    assert db.position() == node.state.seq and db.records()
    db.close()
    again = CallRecordsDb(tmp_path / "x.calls.db", "epoch-b")  # the log was recreated
    assert again.position() == 0 and again.records() == []
    again.close()


def test_sigkill_mid_batch_then_restart_equals_a_rebuild(tmp_path: Path) -> None:
    """The follower process is SIGKILLed inside a batch's transaction. What it had committed
    is exactly the rebuild up to its position; restarted, it catches up to the full rebuild."""
    log_path, db_path = tmp_path / "node1.db", tmp_path / "node1.calls.db"
    log = SqliteStore(log_path)
    node = Node(load(), log, ManualClock())
    office_traffic(node, 40)
    total = node.state.seq
    log.close()
    child = [sys.executable, "-m", "tests.app.follower_child", str(log_path), str(db_path)]
    killed = subprocess.run([*child, "--die-after", "157"], cwd=REPO, capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    with SqliteStore.open_readonly(log_path) as reader:
        db = CallRecordsDb(db_path, reader.epoch)
        position = db.position()
        assert 0 < position < total
        assert db.records() == rebuild(reader, upto=position)
        db.close()
        done = subprocess.run(child, cwd=REPO, capture_output=True, text=True, check=True)
        assert int(done.stdout) == total
        db = CallRecordsDb(db_path, reader.epoch)
        assert db.records() == rebuild(reader)
        db.close()


async def test_stopping_a_read_model_waits_for_the_batch_being_applied() -> None:
    """A batch is applied in a worker thread, which cannot be cancelled: stopping the face
    waits for it before the model is closed (closing a SQLite connection that another thread
    is using crashes the process)."""
    import threading

    from cti.app.bootstrap import ReadModelFace

    started, release = threading.Event(), threading.Event()
    log: list[str] = []

    class Slow:
        name = "slow"

        def position(self) -> int:
            return 0

        def apply(self, batch: object) -> None:
            started.set()
            release.wait(5)
            log.append("applied")

        def close(self) -> None:
            log.append("closed")

    store = MemoryStore()
    node = Node(load(), store, ManualClock())
    node.execute(c.SetDoNotDisturb(device="330", on=True))
    face = ReadModelFace(Slow(), LogReader(node.feed, store))
    await face.start()
    await asyncio.to_thread(started.wait, 5)
    stopping = asyncio.create_task(face.stop())
    await asyncio.sleep(0)
    assert not stopping.done() and log == []
    release.set()
    await stopping
    assert log == ["applied", "closed"]


async def test_a_read_model_waits_out_repeated_cancellation_of_its_apply() -> None:
    """Cancelled twice while a batch is applied in its thread, the follower still ends only
    after the thread is done, so no caller can close the model under it."""
    import threading

    started, release = threading.Event(), threading.Event()

    class Slow:
        name = "slow"
        applied = 0

        def position(self) -> int:
            return self.applied

        def apply(self, batch: object) -> None:
            started.set()
            release.wait(5)
            self.applied = 1

        def reset(self) -> None:
            self.applied = 0

        def close(self) -> None:
            pass

    store = MemoryStore()
    node = Node(load(), store, ManualClock())
    node.execute(c.SetDoNotDisturb(device="330", on=True))
    model = Slow()
    task = asyncio.create_task(follow(model, LogReader(node.feed, store)))
    await asyncio.to_thread(started.wait, 5)
    for _ in range(2):
        task.cancel()
        await asyncio.sleep(0)
        assert not task.done()
    release.set()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and model.applied == 1


async def test_a_read_model_ahead_of_the_log_is_rebuilt(tmp_path: Path) -> None:
    """The log was restored from an older backup (same epoch): the model's position is beyond
    the log, its rows belong to seqs the log will reissue. It is emptied and rebuilt."""
    store = MemoryStore()
    node = Node(load(), store, ManualClock())
    office_traffic(node, 2)
    db = CallRecordsDb(tmp_path / "x.calls.db", store.epoch)
    db.apply([decode(r) for r in store.read(1)])
    older = MemoryStore()
    older._meta = dict(store._meta)  # the same epoch: a backup of this very log
    older.append(store.read(1, limit=10))
    restored = Node(load(), older, ManualClock())
    task = asyncio.create_task(follow(db, LogReader(restored.feed, older)))
    while db.position() != 10:
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert db.records() == rebuild(older)
    db.close()
