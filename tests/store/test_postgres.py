"""What only the PostgreSQL store shows (specs/store.md, "PostgreSQL"): durability across
reopen, several nodes' logs in one database, one writer per node's log (advisory lock), the
fence on a writer that lost its lock, schema versions, retention, and messages without the
password. The contract itself runs in test_store.py against all three stores."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from cti.store import SequenceGap, Snapshot, StoreError, StoreLocked, StoreLost
from cti.store.postgres import SCHEMA_VERSION, PostgresStore, check_dsn, where
from tests.postgres import execute, wait_for_writer_gone
from tests.store.test_store import events


def test_durable_across_reopen_and_readable_by_tools(pg_dsn: str) -> None:
    with PostgresStore(pg_dsn, "node1") as store:
        # The server notices a dead writer machine (and frees its lock) within ~25 s.
        assert store._conn.execute("SHOW tcp_keepalives_idle").fetchone() == ("10",)
        epoch = store.epoch
        store.append(events(1, 5))
        store.append(events(6, 2))
        store.save_snapshot(Snapshot(5, b"state"))
        store.set_meta("outbox.published_seq", "6")
    with PostgresStore(pg_dsn, "node1") as store:
        assert store.epoch == epoch
        assert (store.first_seq(), store.last_seq()) == (1, 7)
        assert store.read(1) == events(1, 7)
        assert store.latest_snapshot() == Snapshot(5, b"state")
        assert store.get_meta("outbox.published_seq") == "6"
        store.append(events(8, 1))
        with PostgresStore.open_readonly(pg_dsn, "node1") as tool:  # beside the live writer
            assert tool.epoch == epoch
            assert list(tool.iter_from(1, batch=3)) == events(1, 8)
            store.append(events(9, 1))
            assert tool.last_seq() == 9
            for write in (
                lambda: tool.append(events(10, 1)),
                lambda: tool.save_snapshot(Snapshot(1, b"s")),
                lambda: tool.set_meta("k", "v"),
            ):
                with pytest.raises(StoreError, match="read-only"):
                    write()


def test_nodes_sharing_a_database_have_separate_gap_free_logs(pg_dsn: str) -> None:
    with PostgresStore(pg_dsn, "berlin") as berlin, PostgresStore(pg_dsn, "munich") as munich:
        assert berlin.epoch != munich.epoch
        berlin.append(events(1, 3))
        munich.append(events(1, 1, kind="cleared"))  # seq 1 again: another node's log
        berlin.save_snapshot(Snapshot(3, b"b"))
        berlin.set_meta("outbox.published_seq", "3")
        with pytest.raises(SequenceGap):
            munich.append(events(3, 1))
        assert munich.read(1) == events(1, 1, kind="cleared")
        assert (berlin.last_seq(), munich.last_seq()) == (3, 1)
        assert munich.latest_snapshot() is None
        assert munich.get_meta("outbox.published_seq") is None
        # Both writers hold their own node's lock at the same time.
        with pytest.raises(StoreLocked):
            PostgresStore(pg_dsn, "munich")
    with pytest.raises(StoreError, match="holds no event log of node 'hamburg'"):
        PostgresStore.open_readonly(pg_dsn, "hamburg")


def test_second_writer_is_refused_in_this_process_and_another(pg_dsn: str) -> None:
    with PostgresStore(pg_dsn, "node1") as one:
        one.append(events(1, 2))
        with pytest.raises(StoreLocked, match=r"node node1 .* in use by another writer \(pid "):
            PostgresStore(pg_dsn, "node1")
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from cti.store.postgres import PostgresStore; PostgresStore({pg_dsn!r}, 'node1')",
            ],
            capture_output=True,
            text=True,
        )
        assert other.returncode != 0 and "in use by another writer" in other.stderr
    with PostgresStore(pg_dsn, "node1") as again:  # closing released the lock
        assert again.read(1) == events(1, 2)


def test_a_killed_writer_releases_its_log(pg_dsn: str) -> None:
    """The lock is the writer's session: a SIGKILLed process's session ends with it."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from cti.store.postgres import PostgresStore;"
            f" s = PostgresStore({pg_dsn!r}, 'node1'); print('open', flush=True);"
            " sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "open\n"
        with pytest.raises(StoreLocked):
            PostgresStore(pg_dsn, "node1")
    finally:
        child.kill()
        child.wait()
    wait_for_writer_gone(pg_dsn, "node1")  # the server noticed the closed socket
    with PostgresStore(pg_dsn, "node1") as store:
        assert store.term == 2


def test_a_writer_that_lost_its_lock_is_fenced(pg_dsn: str) -> None:
    """Fencing by term: once another writer opened the log (a higher term), everything the
    old one and its followers write is refused, and the log stays the new writer's."""
    old = PostgresStore(pg_dsn, "node1")
    follower = old.sibling()
    old.append(events(1, 2))
    # The old writer's session loses its lock (as after a network cut) but its process lives.
    old._conn.execute("SELECT pg_advisory_unlock_all()")
    with PostgresStore(pg_dsn, "node1") as new:
        assert new.term == old.term + 1
        with pytest.raises(
            StoreLocked, match=r"taken over by another writer .* term 2; this one has term 1"
        ):
            old.append(events(3, 1))
        with pytest.raises(StoreLocked, match="taken over"):
            follower.set_meta("outbox.published_seq", "2")
        with pytest.raises(StoreLocked, match="taken over"):
            old.save_snapshot(Snapshot(2, b"stale"))
        with pytest.raises(StoreLocked, match="taken over"):
            old.drop_before(2)
        new.append(events(3, 1))
        assert new.read(1) == events(1, 3)
        assert new.get_meta("outbox.published_seq") is None
        assert new.latest_snapshot() is None
    old.close()


def test_siblings_never_append_and_close_with_the_writer(pg_dsn: str) -> None:
    store = PostgresStore(pg_dsn, "node1")
    follower, reader = store.sibling(), store.sibling(readonly=True)
    with pytest.raises(StoreError, match="follower's connection"):
        follower.append(events(1, 1))
    with pytest.raises(StoreError, match="read-only"):
        reader.set_meta("x", "1")
    store.append(events(1, 2))
    follower.set_meta("follower.x", "2")
    assert store.get_meta("follower.x") == "2" and reader.read(1) == events(1, 2)
    # The follower's position is saved without waiting for the server's WAL flush (a crash
    # only sets it back: published again); the log's own commits still wait for it.
    show = "SHOW synchronous_commit"
    assert follower._conn.execute(show).fetchone() == ("off",)
    assert store._conn.execute(show).fetchone() == ("on",)
    # Every connection ends within seconds when the server vanishes without a reset (a
    # partition), not after TCP's minutes: the outbox's save on the event loop would wait.
    for conn in (store._conn, follower._conn, reader._conn):
        options = {o.keyword: o.val for o in conn.pgconn.info or [] if o.val is not None}
        assert options[b"tcp_user_timeout"] == b"15000"
        assert (options[b"keepalives"], options[b"keepalives_idle"]) == (b"1", b"10")
    store.close()
    for sibling in (follower, reader):
        with pytest.raises(StoreError, match="closed"):
            sibling.read(1)


def test_retention_drops_old_events_and_keeps_the_sequence(pg_dsn: str) -> None:
    with PostgresStore(pg_dsn, "node1") as store, PostgresStore(pg_dsn, "other") as other:
        store.append(events(1, 10))
        other.append(events(1, 10))
        with pytest.raises(StoreError, match="no snapshot at or after seq 7"):
            store.drop_before(8)
        store.save_snapshot(Snapshot(4, b"s4"))
        store.save_snapshot(Snapshot(7, b"s7"))
        with pytest.raises(StoreError, match="the last event is 10"):
            store.drop_before(11)
        assert store.drop_before(8) == 7
        assert (store.first_seq(), store.last_seq()) == (8, 10)
        assert store.read(1) == events(8, 3)
        assert store.latest_snapshot() == Snapshot(7, b"s7")
        store.append(events(11, 1))
        assert other.read(1) == events(1, 10)  # another node's log is untouched


def test_newer_schema_and_foreign_tables_are_refused(pg_dsn: str) -> None:
    with pytest.raises(StoreError, match="holds no event log of node 'node1'"):
        PostgresStore.open_readonly(pg_dsn, "node1")  # an empty database: no tables yet
    PostgresStore(pg_dsn, "node1").close()
    execute(pg_dsn, f"UPDATE cti_schema SET version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        PostgresStore(pg_dsn, "node1")
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        PostgresStore.open_readonly(pg_dsn, "node1")
    execute(pg_dsn, "DROP TABLE cti_schema")
    with pytest.raises(StoreError, match="has a cti_events table but no cti_schema"):
        PostgresStore(pg_dsn, "node1")


def test_unreachable_server_is_one_line_without_the_password() -> None:
    dsn = "postgresql://cti:s3cret-pw@127.0.0.1:1/cti?connect_timeout=2"
    with pytest.raises(StoreError, match="cannot open event store") as raised:
        PostgresStore(dsn, "node1")
    assert "s3cret" not in str(raised.value)
    assert "postgresql://cti@127.0.0.1:1/cti" in str(raised.value)
    assert where(dsn) == "postgresql://cti@127.0.0.1:1/cti"


@pytest.mark.parametrize(
    "text",
    ["mysql://x/y", "postgresql://h/db?foo=bar", "data/node1.db", ""],
)
def test_bad_connection_strings_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError):
        check_dsn(text)
    assert (
        check_dsn("postgresql://cti@db.example:5432/cti") == "postgresql://cti@db.example:5432/cti"
    )


def test_a_lost_writer_connection_is_store_lost_and_followers_reconnect(pg_dsn: str) -> None:
    """The server ends the sessions (a restart, a cut): the writer's next write is a
    StoreLost naming the node and database (its last commit may or may not have happened:
    only a restart is exact), nothing is half-stored; a follower's call fails once (a
    StoreError, which followers retry) and the next one opens a new connection."""
    store = PostgresStore(pg_dsn, "node1")
    follower = store.sibling()
    store.append(events(1, 1))
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        for pid in (store._conn.info.backend_pid, follower._conn.info.backend_pid):
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    failed = r"append of seq 2\.\.2 failed on the event log of node node1 .* restart the node"
    with pytest.raises(StoreLost, match=failed):
        store.append(events(2, 1))
    with pytest.raises(StoreLost):
        store.append(events(2, 1))  # the writer never reconnects by itself
    with pytest.raises(StoreError) as raised:
        follower.read(1)
    assert not isinstance(raised.value, StoreLost)
    assert follower.read(1) == events(1, 1)
    follower.set_meta("outbox.published_seq", "1")
    store.close()
    with PostgresStore(pg_dsn, "node1") as again:
        assert again.read(1) == events(1, 1)
        assert again.get_meta("outbox.published_seq") == "1"
