"""Bounds against hostile or runaway MQTT clients (issue 18: memory under hostile input).

- A flood of requests: the face answers at most MAX_PENDING at once; the ones beyond are
  answered ``resourceBusy`` at once instead of queueing without bound, and once the node
  has caught up it answers normally again.
- An oversized packet: the embedded broker drops it and disconnects its sender (mosquitto's
  ``max_packet_size``), so it never reaches the node.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from cti.api.requests import largest_payload
from cti.app.clock import ManualClock, SystemClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node, Outcome
from cti.calls import commands as c
from cti.domain import INTERNAL_KINDS
from cti.kernel.messages import Command
from cti.mqtt.broker import EmbeddedBroker
from cti.mqtt.face.outbox import event_arrays
from cti.mqtt.face.service import MqttFace
from cti.mqtt.limits import EVENTS_MESSAGE_BYTES, MAX_PACKET, MAX_PENDING
from cti.store import SqliteStore
from tests.mqtt.conftest import (
    TESTER,
    TESTER_PASSWORD,
    TIMEOUT,
    CtiClient,
    Mosquitto,
    seed_tester,
)


class GatedEngine(Engine):
    """The engine, holding every command until ``gate`` opens: a node that is behind."""

    def __init__(self, node: Node) -> None:
        super().__init__(node)
        self.gate = asyncio.Event()
        self.waiting = 0

    async def execute(self, command: Command, principal: str | None = None) -> Outcome:
        self.waiting += 1
        await self.gate.wait()
        return await super().execute(command, principal)


@pytest.fixture
async def gated(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[tuple[GatedEngine, MqttFace]]:
    store = SqliteStore(tmp_path / "node1.db")
    reader = store.sibling()
    node = Node(load_site(), store, SystemClock())
    seed_tester(node)
    engine = GatedEngine(node)
    await engine.start()
    face = MqttFace(engine, reader, broker.host, broker.port)
    task = asyncio.create_task(face.run())
    try:
        await asyncio.wait_for(face.connected.wait(), TIMEOUT)
        yield engine, face
    finally:
        engine.gate.set()
        await asyncio.wait_for(face.stop(), TIMEOUT)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.stop()
        store.close()
        reader.close()


async def arrived(ui: CtiClient, n: int) -> None:
    """Until ``n`` replies are in (the client subscribes nothing but its inbox)."""
    await ui.wait_for_msg(lambda m: len(ui.messages) >= n, timeout=60)


# The busy answer goes to an MQTT 5 reply address only: over 3.1.1 finding the address means
# parsing the payload, work a flood must not cause (specs/mqtt.md).
@pytest.mark.parametrize("broker", ["mosquitto"], indirect=True)
async def test_a_flood_of_requests_beyond_the_bound_is_answered_busy_at_once(
    broker: Mosquitto, gated: tuple[GatedEngine, MqttFace]
) -> None:
    engine, face = gated
    flood = MAX_PENDING + 5
    async with CtiClient(broker.host, broker.port, filters=[], password=TESTER_PASSWORD) as ui:
        for n in range(flood):
            body = json.dumps({"device": "330", "on": n % 2 == 0}).encode()
            await ui.publish(
                ui.topic("setDoNotDisturb"),
                body,
                response_topic=ui.inbox,
                correlation=str(n).encode(),
            )

        def replies() -> dict[int, Any]:
            return {int(m.correlation or b"-1"): m.doc for m in ui.on(ui.inbox)}

        await arrived(ui, flood - MAX_PENDING)
        busy = replies()
        assert sorted(busy) == list(range(MAX_PENDING, flood))  # the ones beyond the bound
        assert {doc["error"]["code"] for doc in busy.values()} == {"resourceBusy"}
        assert engine.waiting == MAX_PENDING and len(face._tasks) == MAX_PENDING

        engine.gate.set()  # the node catches up: every request in hand is answered
        await arrived(ui, flood)
        answered = replies()
        assert all(answered[n]["ok"] is True for n in range(MAX_PENDING))
        again = await ui.request("setDoNotDisturb", device="330", on=False)
        assert again["ok"] is True


async def test_the_embedded_broker_drops_an_oversized_packet_and_its_sender() -> None:
    """Mosquitto's max_packet_size is MAX_PACKET: above every request's payload limit, below
    what would let one message fill the node's memory. The sender of a bigger packet loses
    its connection (while publishing or right after), a subscriber never gets it, and a
    packet just below the limit goes through."""
    assert largest_payload() < MAX_PACKET < 2 * 1024 * 1024
    embedded = EmbeddedBroker()
    await embedded.start()
    try:
        async with aiomqtt.Client(embedded.host, embedded.port, identifier="watch") as watcher:
            await watcher.subscribe("cti/node1/#", qos=1)
            with pytest.raises(aiomqtt.MqttError):  # the broker closed the connection
                async with aiomqtt.Client(embedded.host, embedded.port, identifier="big") as big:
                    await big.publish("cti/node1/users/x/requests/makeCall", b"x" * MAX_PACKET)
                    async with asyncio.timeout(TIMEOUT):
                        async for _ in big.messages:
                            pass
            fits = b"x" * (MAX_PACKET - 1024)
            async with aiomqtt.Client(embedded.host, embedded.port, identifier="ok") as small:
                await small.publish("cti/node1/x", fits, qos=1)
            async with asyncio.timeout(TIMEOUT):
                first = await anext(aiter(watcher.messages))
            assert (str(first.topic), first.payload) == ("cti/node1/x", fits)
    finally:
        await embedded.stop()


def test_a_big_commit_batch_is_split_into_arrays_below_the_packet_limit() -> None:
    """A commit of a thousand commands gives megabytes of events: the batched topic carries
    them as several arrays, each far below MAX_PACKET, together every event once in order."""
    bodies = [b'{"seq":%d,"event":"delivered","pad":"%s"}' % (n, b"x" * 400) for n in range(5000)]
    arrays = event_arrays(bodies)
    assert len(arrays) > 1 and all(len(a) <= EVENTS_MESSAGE_BYTES < MAX_PACKET for a in arrays)
    assert [e["seq"] for a in arrays for e in json.loads(a)] == list(range(5000))
    assert event_arrays([b'{"seq":1}']) == [b'[{"seq":1}]']
    assert event_arrays([]) == []


def test_a_replay_page_ends_at_its_byte_bound_and_paging_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page stops once its events pass REPLY_BYTES (here made small), however big the
    limit; nextSeq goes on from there, and the pages together hold every event once."""
    monkeypatch.setattr("cti.mqtt.face.service.REPLY_BYTES", 600)
    with SqliteStore(tmp_path / "node1.db") as store:
        node = Node(load_site(), store, ManualClock())
        seed_tester(node)
        for n in range(30):
            node.execute(c.SetDoNotDisturb(device="330", on=n % 2 == 0))
        face = MqttFace(Engine(node), store, "127.0.0.1", 1)
        seen: list[int] = []
        start, pages = 1, 0
        while True:
            read = face._paged("replay", {"fromSeq": start, "limit": 1000}, TESTER)
            page = asyncio.run(read)["result"]
            seen += [e["seq"] for e in page["events"]]
            pages += 1
            if page["complete"]:
                break
            start = page["nextSeq"]
        public = [r.seq for r in store.read(1) if r.kind not in INTERNAL_KINDS]
        assert seen == public and pages > 3
