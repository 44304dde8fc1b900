"""The chat when its store fails (specs/chat.md "Refusals": resourceOutOfService): a request
the store cannot commit is refused, nothing of it is stored or published, and the writer goes
on with the next batch once the store is back. And the PostgreSQL connection's limits: a
database that stops answering fails a batch instead of holding every chat request."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cti.api.chat import MAX_IN_HAND, ChatService
from cti.app.engine import Engine
from cti.chat.chat_db import FIRST_PAUSE, MAX_PAUSE, ChatDb, ChatWriter, StoreFailed
from cti.mqtt.limits import MAX_PENDING
from tests.chat.test_chat_service import Chat, chat, make_node
from tests.postgres import private_schema

__all__ = ["chat"]


async def test_a_locked_store_refuses_stores_nothing_and_the_writer_goes_on(chat: Chat) -> None:
    chat.sign_in("331")
    chat.take()
    db = chat.service.db
    db._conn.execute("PRAGMA busy_timeout=0")  # fail at once rather than after 5 s
    path = db._conn.execute("PRAGMA database_list").fetchone()[2]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        error = await chat.refused("330", "sendChatMessage", to="331", text="eins", clientId="a")
        assert error["code"] == "resourceOutOfService"
        assert "eins" not in error["message"]  # no message text in an error
        assert chat.take() == []  # nothing published
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert db.stored() == 0
    # The same clientId again (the client's retry): stored now, once, as seq 1.
    sent = await chat.ok("330", "sendChatMessage", to="331", text="eins", clientId="a")
    assert (sent["seq"], sent["duplicate"]) == (1, False)
    assert [topic for topic, _, _ in chat.take()] == [
        "cti/node1/users/330/chat",
        "cti/node1/users/331/chat",
    ]
    assert db.stored() == 1


def test_the_postgresql_connection_gives_up_on_a_silent_database() -> None:
    with private_schema() as dsn:
        db = ChatDb.postgresql(dsn, "node1", term=None)
        try:
            params = db._conn.info.get_parameters()
            assert params["keepalives"] == "1"
            assert params["keepalives_idle"] == "10"
            assert params["tcp_user_timeout"] == "30000"
            assert params["connect_timeout"] == "10"
        finally:
            db.close()


async def test_a_stalled_chat_store_never_takes_every_request_slot(tmp_path: Path) -> None:
    """Chat requests waiting for a store that stalls are bounded (MAX_IN_HAND, well below the
    MQTT face's MAX_PENDING): the next is refused resourceBusy at once, and call control is
    still answered. Once the store moves, every waiting request is answered."""
    node, clock = make_node()
    engine = Engine(node)
    await engine.start()
    service = ChatService(node, ChatDb.sqlite(tmp_path / "c.db", "node1"), clock)
    chat = Chat(engine, service, clock)  # the service is not started: its writer stalls
    waiting = [
        asyncio.create_task(chat.ask("330", "getChatConversations")) for _ in range(MAX_IN_HAND)
    ]
    try:
        for _ in range(100):  # each task takes a few turns of the loop to get in line
            if service._in_hand == MAX_IN_HAND:
                break
            await asyncio.sleep(0)
        assert service._in_hand == MAX_IN_HAND
        error = await chat.refused("330", "getChatConversations")
        assert error["code"] == "resourceBusy"
        assert MAX_IN_HAND <= MAX_PENDING // 2
        snapshot = await chat.ask(None, "snapshotDevice", device="330")
        assert snapshot["ok"] is True, snapshot
        await service.start()  # the store moves again
        replies = await asyncio.gather(*waiting)
        assert all(r["ok"] for r in replies)
        assert service._in_hand == 0
    finally:
        for task in waiting:
            task.cancel()
        await service.stop()
        await engine.stop()


def terminate(dsn: str, db: ChatDb) -> None:
    """End the chat's session from another connection, as an admin (or a server restart)
    does, and wait until it is gone. The chat's session by its application_name and its
    pid: other tests on the same server have chat sessions too."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        (ended,) = admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))"
            " FROM pg_stat_activity WHERE application_name = 'cti-chat' AND pid = %s",
            (db._conn.info.backend_pid,),
        ).fetchone() or (0,)
    assert ended == 1


@contextlib.asynccontextmanager
async def running(db: ChatDb) -> AsyncIterator[ChatWriter]:
    writer = ChatWriter(db)
    task = asyncio.create_task(writer.run())
    try:
        yield writer
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        db.close()


async def texts(writer: ChatWriter) -> list[str]:
    return await writer.submit(lambda d: [m.text for m in d.messages("331", "330", 0, 99)])


async def test_an_ended_chat_session_is_dialled_again_and_costs_no_request(pg_dsn: str) -> None:
    """The database ended the chat's idle session (a PostgreSQL restart, a failover, an
    admin's pg_terminate_backend): the next batch meets the end before its commit (nothing of
    it stored), dials a new session and runs there; the request is answered as usual."""
    db = ChatDb.postgresql(pg_dsn, "node1", term=None)
    async with running(db) as writer:
        await writer.submit(lambda d: d.send("330", "331", "a", "vorher", 1))
        for round_ in range(3):
            before = db._conn.info.backend_pid
            terminate(pg_dsn, db)
            sent = await writer.submit(lambda d, r=round_: d.send("330", "331", f"b{r}", "x", 2))
            assert (sent.message.seq, sent.duplicate) == (round_ + 2, False)
            assert db._conn.info.backend_pid != before
        assert await texts(writer) == ["vorher", "x", "x", "x"]


async def test_a_chat_database_that_does_not_answer_is_dialled_with_a_growing_pause(
    pg_dsn: str,
) -> None:
    """While the database does not answer, a batch fails at once with a clear error (nothing
    stored) and the writer dials at most once per pause, doubling up to MAX_PAUSE; once the
    database answers again, the next batch after the pause is stored."""
    now = [0.0]
    db = ChatDb.postgresql(pg_dsn, "node1", term=None, clock=lambda: now[0])
    dial = db._reopen
    assert dial is not None
    with socket.socket() as probe:  # a port where nothing listens: the database is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dials: list[float] = []
    down = [True]

    def reopen() -> Any:
        dials.append(now[0])
        if down[0]:
            return psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/test")
        return dial()

    db._reopen = reopen

    async def send(cid: str) -> Any:
        return await writer.submit(lambda d: d.send("330", "331", cid, cid, 1))

    async with running(db) as writer:
        await send("a")
        terminate(pg_dsn, db)
        pauses = []
        for i in range(12):
            with pytest.raises(StoreFailed) as caught:
                await send(f"down{i}")
            assert caught.value.reason == "unavailable"
            assert str(caught.value) == (
                "the chat store is unavailable (its database does not answer; the node"
                " connects again): nothing stored, try again"
            )
            # Within the pause: refused at once, without a dial.
            dialled = len(dials)
            with pytest.raises(StoreFailed):
                await send(f"again{i}")
            assert len(dials) == dialled
            pauses.append(db._pause)
            now[0] = db._retry_at
        assert pauses[:4] == [FIRST_PAUSE, 2 * FIRST_PAUSE, 4 * FIRST_PAUSE, 8 * FIRST_PAUSE]
        assert max(pauses) == pauses[-1] == MAX_PAUSE
        down[0] = False
        sent = await send("b")
        assert (sent.message.seq, sent.duplicate) == (2, False)
        assert await texts(writer) == ["a", "b"]


async def test_a_session_ended_during_the_commit_is_reported_as_unknown(pg_dsn: str) -> None:
    """A session that ends during the commit leaves unknown whether it committed: the
    refusal says so (``commitUnknown``), never "nothing stored"; the client's retry with
    the same clientId is stored once either way."""
    db = ChatDb.postgresql(pg_dsn, "node1", term=None)
    commit = db.commit

    def commit_and_lose() -> None:
        terminate(pg_dsn, db)
        commit()

    async with running(db) as writer:
        db.commit = commit_and_lose  # type: ignore[method-assign]
        with pytest.raises(StoreFailed) as caught:
            await writer.submit(lambda d: d.send("330", "331", "a", "eins", 1))
        assert caught.value.reason == "commitUnknown"
        assert "whether this was stored is not known" in str(caught.value)
        db.commit = commit  # type: ignore[method-assign]
        sent = await writer.submit(lambda d: d.send("330", "331", "a", "eins", 1))
        assert sent.message.seq == 1
        again = await writer.submit(lambda d: d.send("330", "331", "a", "eins", 1))
        assert again.duplicate
        assert await texts(writer) == ["eins"]
