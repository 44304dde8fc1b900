"""The chat's MQTT path on both brokers the node supports (Mosquitto with MQTT 5, NATS with
MQTT 3.1.1; anonymous here, the ACLs are tests/chat/test_chat_mqtt.py's): session markers make
a user online and their clearing offline; a message is published to both users after its
commit; after the broker restarts (no persistence: every retained marker lost) the node's
reconnect drops the sessions no marker announces again, until the client announces anew."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from cti.api.chat import ChatService
from cti.app.clock import SystemClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node
from cti.chat.chat_db import ChatDb
from cti.mqtt.face.service import MqttFace
from cti.store import SqliteStore
from tests.chat.test_chat_service import seeds
from tests.mqtt.conftest import TIMEOUT, Broker, CtiClient, broker

__all__ = ["broker"]
BASE = "cti/node1"


@attrs.define
class ChatFace:
    face: MqttFace
    chat: ChatService


@pytest.fixture
async def chat_face(broker: Broker, tmp_path: Path) -> AsyncIterator[ChatFace]:
    store = SqliteStore(tmp_path / "node1.db")
    node = Node(load_site(), store, SystemClock())
    node.execute(seeds())
    engine = Engine(node)
    await engine.start()
    chat = ChatService(node, ChatDb.sqlite(tmp_path / "node1.chat.db", "node1"), SystemClock())
    await chat.start()
    face = MqttFace(engine, store.sibling(), broker.host, broker.port)
    face.chat = chat
    task = asyncio.create_task(face.run())
    try:
        await asyncio.wait_for(face.connected.wait(), TIMEOUT)
        yield ChatFace(face, chat)
    finally:
        await asyncio.wait_for(face.stop(), TIMEOUT)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await chat.stop()
        await engine.stop()
        store.close()


async def test_markers_messages_and_a_broker_restart(broker: Broker, chat_face: ChatFace) -> None:
    online = f"{BASE}/online/331"
    chat330, chat331 = f"{BASE}/users/330/chat", f"{BASE}/users/331/chat"
    marker = f"{BASE}/users/331/sessions/tab-1"
    filters = [online, chat330, chat331]
    async with CtiClient(broker.host, broker.port, user="330", filters=filters) as anna:
        await anna.wait_for(online, lambda d: d["online"] is False)
        await anna.publish(marker, b'{"client":"tab-1"}', retain=True)
        await anna.wait_for(online, lambda d: d["online"] is True)
        reply = await anna.ok("sendChatMessage", to="331", text="Hallo", clientId="m1")
        assert reply["result"]["seq"] == 1
        for topic in (chat330, chat331):
            doc = await anna.wait_for(topic, lambda d: d["event"] == "chatMessage")
            assert (doc["seq"], doc["sender"], doc["text"]) == (1, "330", "Hallo")
        start = len(anna.messages)
        await anna.publish(marker, b"", retain=True)  # the Will (or a goodbye) clears it
        await anna.wait_for(online, lambda d: d["online"] is False, start=start)
        await anna.publish(marker, b'{"client":"tab-1"}', retain=True)
        await anna.wait_for(online, lambda d: d["online"] is True, start=start)
    # The broker dies and comes back empty: the node reconnects, and no marker announces 331.
    old = chat_face.face.client
    broker.kill()
    await broker.restart()
    deadline = asyncio.get_running_loop().time() + 3 * TIMEOUT
    while chat_face.face.client is old or not chat_face.face.connected.is_set():
        assert asyncio.get_running_loop().time() < deadline, "the face did not reconnect"
        await asyncio.sleep(0.05)  # polling a condition, bounded
    async with CtiClient(broker.host, broker.port, user="330", filters=filters) as anna:
        await anna.wait_for(online, lambda d: d["online"] is False)
        assert not chat_face.chat.online("331")
        error = (await anna.request("sendChatMessage", to="331", text="?", clientId="m2"))["error"]
        assert error["code"] == "partnerOffline"
        await anna.publish(marker, b'{"client":"tab-1"}', retain=True)  # the client, back
        await anna.wait_for(online, lambda d: d["online"] is True)
        await anna.publish(marker, b"", retain=True)
