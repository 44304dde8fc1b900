"""The PostgreSQL store's part of the hot standby (specs/store.md, "Hot standby"): a store
that stands by while another writer holds the log, takes it over under the next term once the
lock is free, and the lease check that tells an active writer it was fenced."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from psycopg import conninfo

from cti.chat.chat_db import ChatDb
from cti.store import StoreError, StoreLocked, postgres
from cti.store.postgres import PostgresStore
from tests.postgres import execute, wait_backend_gone
from tests.store.test_store import events

TIMEOUT = 10  # s: a bound for the test, never waited for when it works


def test_a_second_writer_is_refused_unless_it_stands_by(pg_dsn: str) -> None:
    with PostgresStore(pg_dsn, "node1") as active:
        with pytest.raises(StoreLocked, match=r"in use by another writer \(pid .*--standby"):
            PostgresStore(pg_dsn, "node1")
        with PostgresStore(pg_dsn, "node1", standby=True) as standby:
            assert standby.standing_by and not active.standing_by
            assert standby.holder()[1] == active.term == 1


def test_a_standby_reads_writes_nothing_and_takes_over_when_the_lock_is_free(
    pg_dsn: str,
) -> None:
    active = PostgresStore(pg_dsn, "node1")
    active.append(events(1, 3))
    standby = PostgresStore(pg_dsn, "node1", standby=True)
    assert standby.epoch == active.epoch and standby.read(1) == events(1, 3)
    for write in (
        lambda: standby.append(events(4, 1)),
        lambda: standby.set_meta("outbox.published_seq", "3"),
    ):
        with pytest.raises(StoreError, match="read-only"):
            write()
    assert standby.take_over() is False  # held: still standing by, nothing changed
    assert standby._conn.execute("SHOW application_name").fetchone() == ("cti node1 standby",)
    assert standby.standing_by and standby.holder()[1] == 1
    active.append(events(4, 1))
    assert standby.last_seq() == 4
    active.close()  # the session ends: the lock is free
    assert standby.take_over() is True
    assert not standby.standing_by and standby.term == 2
    assert standby._conn.execute("SHOW application_name").fetchone() == ("cti node1 writer",)
    standby.append(events(5, 1))  # the same sequence, on from the old writer's last event
    standby.set_meta("outbox.published_seq", "5")
    assert standby.read(1) == events(1, 5)
    with pytest.raises(StoreError, match="not standing by"):
        standby.take_over()
    standby.close()


def test_the_lease_is_lost_once_another_writer_took_over_or_the_session_lost_the_lock(
    pg_dsn: str,
) -> None:
    old = PostgresStore(pg_dsn, "node1")
    watch = old.sibling(readonly=True)
    assert watch.lease_lost() is None and old.lease_lost() is None
    old._conn.execute("SELECT pg_advisory_unlock_all()")  # as if the session had ended
    assert watch.lease_lost() == (
        f"this writer's session on {old.where} ended (its lock on the event log of node "
        "node1 is gone)"
    )
    with PostgresStore(pg_dsn, "node1") as new:
        lost = watch.lease_lost()
        assert lost is not None and lost.startswith(
            f"the event log of node node1 in {old.where} was taken over by another writer (pid "
        )
        assert lost.endswith("term 2; this one had term 1)")
        assert new.sibling(readonly=True).lease_lost() is None
    old.close()


def test_a_standby_survives_losing_its_connection(pg_dsn: str) -> None:
    """A standby holds nothing: a lost session (a server restart) costs one failed try, and
    the next one connects again (cti/app/standby.py retries)."""
    active = PostgresStore(pg_dsn, "node1")
    standby = PostgresStore(pg_dsn, "node1", standby=True)
    gone = standby._conn.info.backend_pid
    execute(pg_dsn, f"SELECT pg_terminate_backend({gone})")
    wait_backend_gone(pg_dsn, gone)  # the signal is asynchronous: else the try may still work
    with pytest.raises(StoreError, match=r"lock failed on the event log"):
        standby.take_over()
    assert standby.take_over() is False and standby.standing_by
    pid = active._conn.info.backend_pid
    active.close()
    wait_backend_gone(pg_dsn, pid)  # its lock is free only once the server ended the session
    assert standby.take_over() is True and standby.term == 2
    standby.close()


def test_a_takeover_does_not_wait_for_a_follower_stalled_in_its_transaction(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follower of the old writer wrote its position (the log's row FOR SHARE, fencing)
    and stalled before the commit (paused, its machine gone, the network cut): the server
    ends that idle transaction, so the standby's takeover goes on instead of waiting for the
    server's TCP keepalive (two hours by default) or, for a paused process, forever. The
    position is not stored; the follower's next write, on a new session, is fenced."""
    monkeypatch.setattr(postgres, "FOLLOWER_IDLE_IN_TRANSACTION", "300ms")
    old = PostgresStore(pg_dsn, "node1")
    follower = old.sibling()
    standby = PostgresStore(pg_dsn, "node1", standby=True)
    taken: list[bool] = []
    try:
        keepalive = follower._conn.execute(
            "SELECT setting FROM pg_settings WHERE name = 'tcp_keepalives_idle'"
        ).fetchone()
        assert keepalive == ("10",)
        follower._conn.execute("BEGIN")
        params = {"node": "node1", "key": "mail.position", "value": "7", "term": old.term}
        assert follower._conn.execute(postgres._SET_META, params).rowcount == 1
        # ... and then nothing: the commit never comes.
        old._conn.execute("SELECT pg_advisory_unlock_all()")
        takeover = threading.Thread(target=lambda: taken.append(standby.take_over()))
        takeover.start()
        takeover.join(TIMEOUT)
        assert taken == [True], "the takeover waited for the stalled follower"
        assert standby.get_meta("mail.position") is None
        with pytest.raises(StoreError):  # the ended session
            follower.set_meta("mail.position", "8")
        with pytest.raises(StoreLocked, match="taken over"):
            follower.set_meta("mail.position", "8")
    finally:
        follower._conn.close()  # lets a takeover that waited go on
        standby.close()
        old.close()


def _waiting(dsn: str, pid: int, done: threading.Thread | None = None) -> None:
    """Until backend ``pid`` waits for a lock, or thread ``done`` has ended (bounded)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        deadline = time.monotonic() + TIMEOUT
        while not conn.execute(
            "SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", (pid,)
        ).fetchone():
            if done is not None and not done.is_alive():
                return
            assert time.monotonic() < deadline, f"backend {pid} never waited for a lock"
            time.sleep(0.01)  # polling a condition, bounded above


def test_a_takeover_waits_only_for_the_fenced_transactions_already_running(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Followers and the chat check the term in every write transaction. One of them was
    running when a takeover began; another began while the takeover waited for it. The
    takeover goes on once the first ends: the second waits behind it and is then fenced.
    (With the log's row FOR SHARE as the fence, the server let the second pass the waiting
    takeover, so a steady stream of overlapping writes could hold a takeover off for ever.)"""
    # Longer than the test's bound: the server's end of a stalled transaction is not what
    # lets this takeover go on.
    monkeypatch.setattr(postgres, "FOLLOWER_IDLE_IN_TRANSACTION", f"{3 * TIMEOUT}s")
    old = PostgresStore(pg_dsn, "node1")
    first, second = old.sibling(), old.sibling()
    standby = PostgresStore(pg_dsn, "node1", standby=True)
    taken: list[bool] = []
    refused: list[StoreLocked | None] = []
    try:
        first._conn.execute("BEGIN")
        assert postgres.fenced(first._conn, "node1", old.term, "first") is None
        old._conn.execute("SELECT pg_advisory_unlock_all()")  # the old writer's lease is free
        takeover = threading.Thread(target=lambda: taken.append(standby.take_over()))
        takeover.start()
        _waiting(pg_dsn, standby._conn.info.backend_pid)

        def write() -> None:
            second._conn.execute("BEGIN")
            refused.append(postgres.fenced(second._conn, "node1", old.term, "second"))

        late = threading.Thread(target=write)
        late.start()
        # It waits behind the takeover, or (the row lock as the fence) has passed it.
        _waiting(pg_dsn, second._conn.info.backend_pid, done=late)
        first._conn.execute("COMMIT")
        takeover.join(TIMEOUT)
        assert taken == [True], "the takeover waited for a transaction that began after it"
        late.join(TIMEOUT)
        assert len(refused) == 1 and isinstance(refused[0], StoreLocked)
        assert "term 2; this one has term 1" in str(refused[0])
    finally:
        second._conn.close()  # lets a takeover that waited go on
        first._conn.close()
        standby.close()
        old.close()


def test_the_fence_holds_where_the_server_defaults_to_repeatable_read(pg_dsn: str) -> None:
    """The fence reads the term after waiting for it, which sees the takeover's commit only
    at READ COMMITTED: a database or role default of REPEATABLE READ (here: the connection
    string's) would let an old follower store its position under the old term. The store's
    and the chat's sessions set READ COMMITTED whatever the defaults say."""
    params = conninfo.conninfo_to_dict(pg_dsn)
    options = f"{params.get('options', '')} -cdefault_transaction_isolation=repeatable\\ read"
    dsn = conninfo.make_conninfo(pg_dsn, options=options.strip())
    old = PostgresStore(dsn, "node1")
    follower = old.sibling()
    chat = ChatDb.postgresql(dsn, "node1", term=old.term)
    standby = PostgresStore(dsn, "node1", standby=True)
    refused: list[BaseException] = []
    try:
        for conn in (old._conn, follower._conn, standby._conn, chat._conn):
            assert conn.execute("SHOW default_transaction_isolation").fetchone() == (
                "read committed",
            )
        chat._conn.rollback()  # the SHOW began the chat's transaction
        # A takeover (as _try_lock does it) holds the fence and has not committed term 2
        # when the follower's position write begins, and waits for the fence.
        take = psycopg.connect(dsn, autocommit=False)
        take.execute(postgres._FENCE_EXCLUSIVE, ("node1",))
        take.execute("UPDATE cti_logs SET term = term + 1 WHERE node = 'node1'")

        def write() -> None:
            try:
                follower.set_meta("mail.position", "7")
            except BaseException as exc:  # what the test looks at
                refused.append(exc)

        late = threading.Thread(target=write)
        late.start()
        _waiting(dsn, follower._conn.info.backend_pid, done=late)
        take.commit()
        take.close()
        late.join(TIMEOUT)
        assert len(refused) == 1 and isinstance(refused[0], StoreLocked), refused
        assert follower.get_meta("mail.position") is None
    finally:
        chat.close()
        follower._conn.close()
        standby.close()
        old.close()
