"""The event store contract, run against all three stores, plus what only the SQLite file or
the PostgreSQL database can show.

Append failures are injected per store: ``MemoryStore.fail_next_append`` for the memory store;
for SQLite a trigger added to the file by a second connection aborts the insert of one event
in the middle of the batch, after earlier events of the same batch were already inserted in
the transaction (so the rollback really matters). Disk full is simulated with SQLite's own
``PRAGMA max_page_count``, which fails a write exactly as a full disk does (SQLITE_FULL).
For PostgreSQL a row trigger raises on the insert of one seq (triggers fire for ``COPY`` too);
each test has a private schema (tests/postgres.py) and fails if no server answers.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.store import (
    SCHEMA_VERSION,
    EventStore,
    MemoryStore,
    SequenceGap,
    Snapshot,
    SqliteStore,
    StoredEvent,
    StoreError,
    StoreLocked,
)
from cti.store.postgres import PostgresStore
from tests.postgres import execute, private_schema

Heal = Callable[[], None]


def events(first: int, count: int, kind: str = "delivered") -> list[StoredEvent]:
    return [
        StoredEvent(seq, 1_700_000_000_000 + seq, kind, b'{"n": %d}' % seq)
        for seq in range(first, first + count)
    ]


@attrs.define
class Harness:
    """A store under test and the store-specific ways to break it or make a fresh one."""

    store: EventStore
    new_store: Callable[[], EventStore]
    break_append_at: Callable[[int], Heal]  # the append of this seq fails until healed


def memory_harness(_tmp: Path) -> Harness:
    store = MemoryStore()

    def break_append_at(_seq: int) -> Heal:
        store.fail_next_append = StoreError("injected failure")
        return lambda: None  # the failure is used up by the append it breaks

    return Harness(store, MemoryStore, break_append_at)


def sqlite_harness(tmp: Path) -> Harness:
    path = tmp / "events.db"
    store = SqliteStore(path)
    files = iter(range(1, 1000))

    def break_append_at(seq: int) -> Heal:
        with sqlite3.connect(path) as other:
            other.execute(
                f"CREATE TRIGGER fail_insert BEFORE INSERT ON events WHEN NEW.seq = {seq}"
                " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )
        other.close()

        def heal() -> None:
            with sqlite3.connect(path) as other:
                other.execute("DROP TRIGGER fail_insert")
            other.close()

        return heal

    return Harness(store, lambda: SqliteStore(tmp / f"other-{next(files)}.db"), break_append_at)


def postgres_harness(dsn: str) -> Harness:
    store = PostgresStore(dsn, "node1")
    others = iter(range(1, 1000))

    def break_append_at(seq: int) -> Heal:
        execute(
            dsn,
            "CREATE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
        )
        execute(
            dsn,
            "CREATE TRIGGER fail_insert BEFORE INSERT ON cti_events FOR EACH ROW"
            f" WHEN (NEW.seq = {seq}) EXECUTE FUNCTION fail_insert()",
        )
        return lambda: execute(dsn, "DROP FUNCTION fail_insert() CASCADE")

    # Another log is another node in the same database: logs are keyed by node.
    return Harness(store, lambda: PostgresStore(dsn, f"other-{next(others)}"), break_append_at)


@pytest.fixture(
    params=[memory_harness, sqlite_harness, postgres_harness], ids=["memory", "sqlite", "postgres"]
)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param is postgres_harness:
        with private_schema() as dsn:
            h = postgres_harness(dsn)
            yield h
            h.store.close()
        return
    h = request.param(tmp_path)
    yield h
    h.store.close()


@pytest.fixture
def store(harness: Harness) -> EventStore:
    return harness.store


# -- the contract, for both stores ---------------------------------------------------------------


def test_empty_store(store: EventStore) -> None:
    assert store.last_seq() == 0
    assert store.read(1) == []
    assert list(store.iter_from(1)) == []
    assert store.latest_snapshot() is None
    assert len(store.epoch) == 32
    int(store.epoch, 16)  # uuid4 hex


def test_append_read_iter_in_order(store: EventStore) -> None:
    store.append(events(1, 3))
    store.append(events(4, 1, kind="established"))
    store.append(events(5, 5))
    everything = events(1, 3) + events(4, 1, kind="established") + events(5, 5)

    assert store.last_seq() == 9
    assert store.read(1) == everything
    assert store.read(0) == everything  # below 1 means from the start
    assert store.read(4, limit=2) == everything[3:5]
    assert store.read(8, limit=10) == everything[7:]
    assert store.read(4, limit=0) == []
    assert store.read(10) == []
    assert list(store.iter_from(1)) == everything
    assert list(store.iter_from(3, batch=2)) == everything[2:]
    assert list(store.iter_from(1, batch=1)) == everything
    assert list(store.iter_from(100)) == []


def test_empty_append_is_a_no_op(store: EventStore) -> None:
    store.append([])
    assert store.last_seq() == 0


@pytest.mark.parametrize(
    "batch",
    [
        pytest.param(events(4, 2), id="first-seq-too-high"),
        pytest.param(events(2, 2), id="first-seq-too-low"),
        pytest.param(events(3, 1) + events(5, 1), id="gap-inside-batch"),
        pytest.param(events(4, 1) + events(3, 1), id="backwards"),
        pytest.param(events(3, 2) + events(4, 1), id="duplicate-inside-batch"),
        pytest.param(events(3, 1) + events(3, 1), id="same-seq-twice"),
    ],
)
def test_gap_refused_and_nothing_stored(store: EventStore, batch: list[StoredEvent]) -> None:
    store.append(events(1, 2))
    with pytest.raises(SequenceGap):
        store.append(batch)
    assert store.last_seq() == 2
    assert store.read(1) == events(1, 2)
    store.append(events(3, 2))  # the log is still usable
    assert store.read(1) == events(1, 4)


def test_reappending_stored_events_is_refused(store: EventStore) -> None:
    store.append(events(1, 3))
    with pytest.raises(SequenceGap):
        store.append(events(3, 1))
    assert store.read(1) == events(1, 3)


def test_failed_append_stores_nothing(harness: Harness) -> None:
    store = harness.store
    store.append(events(1, 2))
    heal = harness.break_append_at(4)  # the 2nd event of the next batch
    with pytest.raises(StoreError, match="injected failure"):
        store.append(events(3, 3))
    assert store.last_seq() == 2
    assert store.read(1) == events(1, 2)
    assert list(store.iter_from(1)) == events(1, 2)
    heal()
    store.append(events(3, 3))  # the same batch goes through once the cause is gone
    assert store.read(1) == events(1, 5)


def test_failed_append_is_not_a_sequence_gap(harness: Harness) -> None:
    harness.break_append_at(1)
    with pytest.raises(StoreError) as raised:
        harness.store.append(events(1, 1))
    assert not isinstance(raised.value, SequenceGap)


def test_each_new_log_has_its_own_epoch(harness: Harness) -> None:
    other = harness.new_store()
    try:
        assert other.epoch != harness.store.epoch
        assert len(other.epoch) == 32
    finally:
        other.close()


def test_snapshots_keep_the_newest_three(store: EventStore) -> None:
    store.append(events(1, 10))
    for seq in (2, 4, 6, 8):
        store.save_snapshot(Snapshot(seq, b"state-%d" % seq))
    assert store.latest_snapshot() == Snapshot(8, b"state-8")
    store.save_snapshot(Snapshot(8, b"state-8-again"))  # same seq replaces
    assert store.latest_snapshot() == Snapshot(8, b"state-8-again")
    store.save_snapshot(Snapshot(1, b"old"))  # older than the kept three: dropped at once
    assert store.latest_snapshot() == Snapshot(8, b"state-8-again")


def test_snapshot_at_seq_zero_and_ahead_of_log(store: EventStore) -> None:
    store.save_snapshot(Snapshot(0, b"empty"))
    assert store.latest_snapshot() == Snapshot(0, b"empty")
    with pytest.raises(StoreError, match="ahead of the log"):
        store.save_snapshot(Snapshot(1, b"future"))
    assert store.latest_snapshot() == Snapshot(0, b"empty")


def test_meta_round_trip(store: EventStore) -> None:
    assert store.get_meta("outbox.published_seq") is None
    store.set_meta("outbox.published_seq", "17")
    store.set_meta("outbox.published_seq", "42")
    assert store.get_meta("outbox.published_seq") == "42"
    assert store.get_meta("store.epoch") == store.epoch
    with pytest.raises(ValueError, match="reserved"):
        store.set_meta("store.epoch", "mine")
    assert store.get_meta("store.epoch") == store.epoch


def test_bad_arguments_are_value_errors(store: EventStore) -> None:
    with pytest.raises(ValueError):
        store.read(1, limit=-1)
    with pytest.raises(ValueError):
        store.iter_from(1, batch=0)


def test_closed_store_raises_store_error(store: EventStore) -> None:
    store.append(events(1, 1))
    store.close()
    store.close()  # twice is harmless
    with pytest.raises(StoreError):
        store.last_seq()
    with pytest.raises(StoreError):
        store.append(events(2, 1))
    with pytest.raises(StoreError):
        store.read(1)
    with pytest.raises(StoreError):
        store.iter_from(1)
    with pytest.raises(StoreError):
        store.set_meta("k", "v")


# -- what only the SQLite file shows --------------------------------------------------------------


def test_sqlite_durable_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with SqliteStore(path) as store:
        epoch = store.epoch
        store.append(events(1, 5))
        store.append(events(6, 2))
        store.save_snapshot(Snapshot(5, b"state"))
        store.set_meta("outbox.published_seq", "6")
    with SqliteStore(path) as store:
        assert store.epoch == epoch
        assert store.last_seq() == 7
        assert store.read(1) == events(1, 7)
        assert store.latest_snapshot() == Snapshot(5, b"state")
        assert store.get_meta("outbox.published_seq") == "6"
        store.append(events(8, 1))
    with SqliteStore.open_readonly(path) as tool:
        assert tool.epoch == epoch
        assert list(tool.iter_from(1)) == events(1, 8)


def test_sqlite_file_layout(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert {"events", "snapshots", "meta"} <= tables


def test_sqlite_recreated_file_gets_new_epoch(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with SqliteStore(path) as store:
        first = store.epoch
    path.unlink()
    with SqliteStore(path) as store:
        assert store.epoch != first


def test_sqlite_newer_schema_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    SqliteStore(path).close()
    newer = SCHEMA_VERSION + 1
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    conn.close()
    with pytest.raises(StoreError, match=f"schema version {newer}, newer"):
        SqliteStore(path)
    with pytest.raises(StoreError, match=f"schema version {newer}, newer"):
        SqliteStore.open_readonly(path)


def _schema_1_file(path: Path) -> None:
    """An event log as version 1 of the schema wrote it (no per-event version)."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
            " kind TEXT NOT NULL, data BLOB NOT NULL)"
        )
        conn.execute("CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('store.epoch', 'e1')")
        conn.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?)",
            [(e.seq, e.ts_ms, e.kind, e.data) for e in events(1, 3)],
        )
        conn.execute("PRAGMA user_version = 1")
    conn.close()


def test_sqlite_schema_1_is_read_as_version_1_events_and_upgraded_for_writing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    _schema_1_file(path)
    with SqliteStore.open_readonly(path) as tool:  # a reader changes nothing
        assert [e.version for e in tool.iter_from(1)] == [1, 1, 1]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
    conn.close()
    with SqliteStore(path) as store:
        assert store.epoch == "e1" and store.read(1) == events(1, 3)
        store.append([StoredEvent(4, 0, "delivered", b"{}", version=3)])
        assert [e.version for e in store.iter_from(1)] == [1, 1, 1, 3]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    conn.close()


def test_sqlite_foreign_files_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a database"):
        SqliteStore(garbage)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StoreError, match="not an event store"):
        SqliteStore(other)
    with pytest.raises(StoreError, match="cannot open"):
        SqliteStore(tmp_path / "no-such-dir" / "events.db")


def test_sqlite_readonly_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with SqliteStore(path) as store:
        store.append(events(1, 2))
    with SqliteStore.open_readonly(path) as tool:
        for write in (
            lambda: tool.append(events(3, 1)),
            lambda: tool.append([]),
            lambda: tool.save_snapshot(Snapshot(1, b"s")),
            lambda: tool.set_meta("k", "v"),
        ):
            with pytest.raises(StoreError, match="read-only"):
                write()
        assert tool.read(1) == events(1, 2)
    with SqliteStore(path) as store:
        assert store.last_seq() == 2


def test_sqlite_readonly_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open"):
        SqliteStore.open_readonly(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(StoreError, match="not an event store"):
        SqliteStore.open_readonly(empty)


def test_sqlite_readonly_sees_a_live_writer(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    with SqliteStore(path) as store, SqliteStore.open_readonly(path) as tool:
        store.append(events(1, 2))
        assert tool.last_seq() == 2
        store.append(events(3, 1))
        assert tool.read(1) == events(1, 3)


def test_sqlite_disk_full_stores_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "events.db")
    store.append(events(1, 2))
    conn = store._conn  # the store's own connection: the page limit is per connection
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    big = [StoredEvent(seq, 0, "big", b"x" * 10_000) for seq in range(3, 6)]
    with pytest.raises(StoreError, match="full"):
        store.append(big)
    assert store.last_seq() == 2
    with pytest.raises(StoreError, match="full"):
        store.save_snapshot(Snapshot(2, b"s" * 10_000))
    assert store.latest_snapshot() is None
    conn.execute("PRAGMA max_page_count = 1000000")
    store.append(big)
    assert store.read(3) == big
    store.close()


def test_sqlite_second_writer_is_refused_at_open(tmp_path: Path) -> None:
    """One writer per log: a second one, in this process or another, is refused with a
    message naming the holder; readers are welcome; closing releases the lock."""
    path = tmp_path / "events.db"
    with SqliteStore(path) as one:
        one.append(events(1, 2))
        with pytest.raises(StoreLocked, match=rf"in use by another writer \(pid {os.getpid()}\)"):
            SqliteStore(path)
        with SqliteStore.open_readonly(path) as reader:
            assert reader.read(1) == events(1, 2)
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from cti.store import SqliteStore; SqliteStore({str(path)!r})",
            ],
            capture_output=True,
            text=True,
        )
        assert other.returncode != 0 and "in use by another writer" in other.stderr
    with SqliteStore(path) as again:
        assert again.read(1) == events(1, 2)


def test_sqlite_sibling_connections_share_the_writer(tmp_path: Path) -> None:
    """A follower's connection reads what the writer committed and keeps its own meta keys;
    the writer still refuses appends that break the sequence."""
    path = tmp_path / "events.db"
    with SqliteStore(path) as store:
        sibling = store.sibling()
        store.append(events(1, 3))
        assert sibling.read(2) == events(2, 2) and sibling.epoch == store.epoch
        sibling.set_meta("follower.x", "3")
        assert store.get_meta("follower.x") == "3"
        with pytest.raises(SequenceGap):
            store.append(events(2, 1))
        # The follower's position is saved on the event loop without waiting for an fsync
        # (a crash only sets it back: published again); the log's own commits still fsync.
        pragma = "PRAGMA synchronous"
        assert sibling._conn.execute(pragma).fetchone() == (1,)  # NORMAL
        assert store._conn.execute(pragma).fetchone() == (2,)  # FULL
        sibling.close()


# -- property: whatever valid appends happen, the log reads back identically ------------------

batches = st.lists(
    st.lists(
        st.tuples(st.integers(0, 2**62), st.sampled_from(["delivered", "cleared"]), st.binary()),
        min_size=0,
        max_size=20,
    ),
    max_size=8,
)


@pytest.fixture(scope="module")
def pg_module() -> Iterator[str]:
    """One private schema for the property's examples; each example is a new node's log."""
    with private_schema() as dsn:
        yield dsn


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
@settings(deadline=None)
@given(batches=batches, from_seq=st.integers(-1, 200), limit=st.none() | st.integers(0, 50))
def test_valid_appends_read_back_identically(
    kind: str,
    pg_module: str,
    batches: list[list[tuple[int, str, bytes]]],
    from_seq: int,
    limit: int | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # NORMAL: the property is about order and content; fsync per example only costs time.
        store: EventStore
        if kind == "memory":
            store = MemoryStore()
        elif kind == "sqlite":
            store = SqliteStore(f"{tmp}/e.db", synchronous="NORMAL")
        else:
            store = PostgresStore(pg_module, f"n-{uuid.uuid4().hex}")
        written: list[StoredEvent] = []
        for batch in batches:
            records = [
                StoredEvent(len(written) + i + 1, ts, k, data)
                for i, (ts, k, data) in enumerate(batch)
            ]
            store.append(records)
            written += records
        assert store.last_seq() == len(written)
        assert store.read(1) == written
        assert list(store.iter_from(1, batch=3)) == written
        start = max(from_seq, 1) - 1
        expected = written[start:] if limit is None else written[start : start + limit]
        assert store.read(from_seq, limit) == expected
        assert list(store.iter_from(from_seq, batch=7)) == written[start:]
        store.close()


def test_sqlite_siblings_never_append_and_close_with_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    store = SqliteStore(path)
    follower, reader = store.sibling(), store.sibling(readonly=True)
    with pytest.raises(StoreError, match="follower's connection"):
        follower.append(events(1, 1))
    with pytest.raises(StoreError, match="read-only"):
        reader.set_meta("x", "1")
    store.append(events(1, 2))
    assert reader.read(1) == events(1, 2)
    store.close()
    for sibling in (follower, reader):
        with pytest.raises(StoreError, match="closed"):
            sibling.read(1)
    with SqliteStore(path) as again:  # the lock went with the writer, the siblings with it
        assert again.last_seq() == 2
