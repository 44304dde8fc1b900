"""The chat when its store fails (specs/chat.md "Refusals": resourceOutOfService): a request
the store cannot commit is refused, nothing of it is stored or published, and the writer goes
on with the next batch once the store is back. And the PostgreSQL connection's limits: a
database that stops answering fails a batch instead of holding every chat request."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from cti.api.chat import MAX_IN_HAND, ChatService
from cti.app.engine import Engine
from cti.chat.chat_db import ChatDb, ChatWriter, StoreFailed
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
        db = ChatDb.postgresql(dsn, "node1")
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


async def test_the_chat_reconnects_to_postgresql_after_the_connection_was_lost(
    pg_dsn: str,
) -> None:
    """The database ended the chat's session (a PostgreSQL restart, a failover, an admin's
    pg_terminate_backend): the batch that met it fails, resourceOutOfService, and the next
    one runs on a new connection, rather than every chat request failing until the node is
    restarted (the writer task itself never dies, so nothing else would mend it)."""
    import psycopg

    db = ChatDb.postgresql(pg_dsn, "node1")
    writer = ChatWriter(db)
    task = asyncio.create_task(writer.run())
    try:
        await writer.submit(lambda d: d.send("330", "331", "a", "vorher", 1))
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (db._conn.info.backend_pid,))
        with contextlib.suppress(StoreFailed):  # the batch that meets the lost session
            await writer.submit(lambda d: d.send("330", "331", "b", "dabei", 2))
        sent = await writer.submit(lambda d: d.send("330", "331", "c", "danach", 3))
        assert sent.message.text == "danach"
        texts = await writer.submit(lambda d: [m.text for m in d.messages("331", "330", 0, 9)])
        assert texts[0] == "vorher" and texts[-1] == "danach"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        db.close()
