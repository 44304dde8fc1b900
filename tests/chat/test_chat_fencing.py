"""Chat on a PostgreSQL hot standby (specs/chat.md "Fencing", specs/store.md "fencing"): the
chat of a node that lost its log to another writer (a standby took over: a higher term) stores
nothing more, and says so; the new holder's chat goes on with every message committed before.
Two store handles of one node in one process stand for the two `cti serve` processes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import psycopg
import pytest

from cti.api.chat import ChatService
from cti.app.engine import Engine
from cti.chat import chat_db
from cti.chat.chat_db import ChatDb, ChatWriter, StoreFailed
from cti.store.postgres import PostgresStore
from tests.chat.test_chat_service import Chat, make_node

TIMEOUT = 10  # s: a bound for the test, never waited for when it works


def stored(dsn: str, node: str = "node1") -> list[str]:
    """The texts of the node's chat in the database, asked on a connection of its own."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT text FROM chat_messages WHERE node = %s ORDER BY n", (node,)
        ).fetchall()
    return [str(r[0]) for r in rows]


@pytest.fixture
async def primary(pg_dsn: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore, Chat]]:
    """The active node's log writer, a standby of the same node, and the active node's chat."""
    old = PostgresStore(pg_dsn, "node1")
    standby = PostgresStore(pg_dsn, "node1", standby=True)
    node, clock = make_node()
    engine = Engine(node)
    await engine.start()
    service = ChatService(node, ChatDb.postgresql(pg_dsn, "node1", term=old.term), clock)
    await service.start()
    try:
        yield old, standby, Chat(engine, service, clock)
    finally:
        await service.stop()
        await engine.stop()
        standby.close()
        old.close()


async def test_a_fenced_node_s_chat_send_is_refused_and_writes_nothing(
    primary: tuple[PostgresStore, PostgresStore, Chat], pg_dsn: str
) -> None:
    old, standby, chat = primary
    chat.sign_in("331")
    await chat.ok("330", "sendChatMessage", to="331", text="vorher", clientId="a")
    chat.take()
    # The old primary's session loses its lock (a network cut) while its process lives on;
    # the standby takes the log over under the next term.
    old._conn.execute("SELECT pg_advisory_unlock_all()")
    assert standby.take_over() is True and standby.term == old.term + 1
    error = await chat.refused("330", "sendChatMessage", to="331", text="danach", clientId="b")
    assert error["code"] == "resourceOutOfService"
    assert error["details"] == {"reason": "fenced"}
    assert "no longer holds its event log" in error["message"]
    assert "this one had term 1" in error["message"]
    assert "pid" not in error["message"]  # the other writer's host and pid are the log's
    assert "danach" not in error["message"]
    assert chat.take() == []  # nothing published
    assert stored(pg_dsn) == ["vorher"]  # nothing written
    # For good: a fenced node serves no chat at all, reads and read marks neither.
    for service, fields in (
        ("markChatRead", {"partner": "331", "seq": 1}),
        ("getChatMessages", {"partner": "331"}),
    ):
        error = await chat.refused("330", service, **fields)
        assert (error["code"], error["details"]) == ("resourceOutOfService", {"reason": "fenced"})
    # The new holder's chat has what the old one committed and numbers on.
    new = ChatDb.postgresql(pg_dsn, "node1", term=standby.term)
    writer = ChatWriter(new)
    task = asyncio.create_task(writer.run())
    try:
        sent = await writer.submit(lambda db: db.send("330", "331", "b", "danach", 2))
        assert (sent.message.seq, sent.duplicate) == (2, False)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        new.close()
    assert stored(pg_dsn) == ["vorher", "danach"]


def test_a_takeover_waits_for_a_chat_commit_under_the_old_term(pg_dsn: str) -> None:
    """The fence is checked last before the commit and holds the log's row until then: a
    standby's takeover (term + 1) waits for that commit, so a chat batch is committed under
    the term it checked, or refused; never committed after a takeover."""
    old = PostgresStore(pg_dsn, "node1")
    standby = PostgresStore(pg_dsn, "node1", standby=True)
    db = ChatDb.postgresql(pg_dsn, "node1", term=old.term)
    taken: list[bool] = []
    try:
        db.send("330", "331", "a", "im Flug", 1)
        db.fence()  # the batch's last step before its commit
        old._conn.execute("SELECT pg_advisory_unlock_all()")
        takeover = threading.Thread(target=lambda: taken.append(standby.take_over()))
        takeover.start()
        deadline = time.monotonic() + TIMEOUT
        with psycopg.connect(pg_dsn, autocommit=True) as watch:
            while watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
                (standby._conn.info.backend_pid,),
            ).fetchone() != (1,):
                assert time.monotonic() < deadline, "the takeover did not wait for the chat"
                time.sleep(0.01)
        assert taken == []
        db.commit()
        takeover.join(TIMEOUT)
        assert taken == [True] and standby.term == old.term + 1
        assert stored(pg_dsn) == ["im Flug"]
        db.send("330", "331", "b", "zu spät", 2)
        with pytest.raises(Exception, match="taken over by another writer"):
            db.fence()
        db.rollback()
        assert stored(pg_dsn) == ["im Flug"]
    finally:
        db.close()
        standby.close()
        old.close()


def test_a_takeover_does_not_wait_for_a_stalled_chat_batch(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old primary's chat checked its fence (the log's row FOR SHARE) and then stalled
    before its commit (paused, its machine gone, the network cut). The server ends that idle
    transaction after IDLE_IN_TRANSACTION, so the standby's takeover goes on (it would wait
    for the server's TCP keepalive, two hours by default, or forever for a paused process);
    nothing of the stalled batch is stored."""
    monkeypatch.setattr(chat_db, "IDLE_IN_TRANSACTION", "300ms")
    old = PostgresStore(pg_dsn, "node1")
    standby = PostgresStore(pg_dsn, "node1", standby=True)
    db = ChatDb.postgresql(pg_dsn, "node1", term=old.term)
    taken: list[bool] = []
    try:
        params = dict(
            db._conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN"
                " ('tcp_keepalives_idle', 'tcp_keepalives_interval', 'tcp_keepalives_count')"
            ).fetchall()
        )
        db._conn.rollback()
        assert params == {
            "tcp_keepalives_idle": "10",
            "tcp_keepalives_interval": "5",
            "tcp_keepalives_count": "3",
        } or db._conn.info.host.startswith("/")  # a Unix socket has no keepalive
        db.send("330", "331", "a", "hängt", 1)
        db.fence()  # and then nothing: the process stalls before its commit
        old._conn.execute("SELECT pg_advisory_unlock_all()")
        takeover = threading.Thread(target=lambda: taken.append(standby.take_over()))
        takeover.start()
        takeover.join(TIMEOUT)
        assert taken == [True], "the takeover waited for the stalled chat batch"
        assert standby.term == old.term + 1
        assert stored(pg_dsn) == []
        # The next batch meets the ended session, dials a new one and is fenced there.
        with pytest.raises(StoreFailed) as caught:
            ChatWriter(db)._apply([lambda d: d.send("330", "331", "b", "danach", 2)])
        assert caught.value.reason == "fenced"
        assert stored(pg_dsn) == []
    finally:
        db.close()  # lets a takeover that waited go on
        standby.close()
        old.close()
