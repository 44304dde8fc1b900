"""Chat on a node whose log is in PostgreSQL (`cti serve --store postgresql://...`): the
chat's tables live in the same database, beside (never in) the call log; no SQLite chat file
is made; a restarted node finds every message and numbers on."""

from __future__ import annotations

from pathlib import Path

import psycopg

from cti.app.bootstrap import ServeOptions, chat_path, start
from cti.chat.chat_db import ChatDb
from tests.mqtt.conftest import CtiClient, Mosquitto

BASE = "cti/node1"


def options(tmp_path: Path, mosquitto: Mosquitto, dsn: str) -> ServeOptions:
    return ServeOptions(data_dir=tmp_path / "data", store=dsn, mqtt_url=mosquitto.url, csta_port=0)


async def test_chat_lives_in_the_node_s_postgres_database(
    tmp_path: Path, mosquitto: Mosquitto, pg_dsn: str
) -> None:
    filters = [f"{BASE}/online/331", f"{BASE}/users/330/chat"]
    async with CtiClient(mosquitto.host, mosquitto.port, user="330", filters=filters) as anna:
        for round_ in (1, 2):  # the second: a restarted node
            running = await start(options(tmp_path, mosquitto, pg_dsn))
            try:
                # Fenced by the term of this run's log writer (test_chat_fencing.py).
                assert running.chat is not None and running.chat.db.term == round_
                await anna.publish(f"{BASE}/users/331/sessions/p", b"{}", retain=True)
                await anna.wait_for(f"{BASE}/online/331", lambda d: d["online"])
                reply = await anna.ok(
                    "sendChatMessage", to="331", text=f"Runde {round_}", clientId=f"r{round_}"
                )
                assert reply["result"]["seq"] == round_
                text = f"Runde {round_}"
                await anna.wait_for(f"{BASE}/users/330/chat", lambda d, t=text: d["text"] == t)
            finally:
                await running.stop()
    assert not chat_path(tmp_path / "data", "node1").exists()
    db = ChatDb.postgresql(pg_dsn, "node1", term=None)
    try:
        assert [m.text for m in db.messages("331", "330", 0, 100)] == ["Runde 1", "Runde 2"]
    finally:
        db.close()


def test_an_open_chat_store_holds_no_transaction(pg_dsn: str) -> None:
    """Opened and idle, its session is not "idle in transaction": it holds no table lock (a
    DROP SCHEMA at a test's end waited forever behind it, and a node's lease check queued
    behind the DROP)."""
    db = ChatDb.postgresql(pg_dsn, "node1", term=None)
    try:
        with psycopg.connect(pg_dsn, autocommit=True) as other:
            other.execute("SET lock_timeout = '5s'")
            with other.transaction():
                other.execute("LOCK TABLE chat_messages IN ACCESS EXCLUSIVE MODE")
    finally:
        db.close()
