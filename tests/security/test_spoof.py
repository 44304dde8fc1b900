"""Spoofed retained messages on a broker WITHOUT the node's ACLs (specs/security.md "Spoofed
retained messages"): anyone may publish anything there, so the node watches its own topics
(MQTT 5 No Local: what arrives was published by someone else) and puts the truth back: a
retained state, lamp or status that is not what it published is republished; a retained
message on a topic where nothing is retained (events, call events, a profile of no person) is
cleared. A fresh subscriber then sees the truth."""

from __future__ import annotations

import json

import pytest

from tests.mqtt.conftest import BASE, CtiClient, Mosquitto, NodeFace, retained

FAKE_STATE = {
    "seq": 10**9,
    "ts": "2026-11-22T19:20:39.076Z",
    "event": "deviceState",
    "device": "331",
    "name": "Bernd Vogel",
    "kind": "system_phone",
    "summary": "talking-external",
    "connections": [{"call": 7, "state": "connected", "peer": "+4989999"}],
    "dnd": False,
    "forwarding": [],
}
FAKE_BATCH = [{"seq": 10**9, "event": "delivered", "call": 7, "calling": "+4989999"}]


def truth(node_face: NodeFace, topic: str) -> bytes:
    return node_face.face.outbox.retained[topic]


# Corrected while connected needs MQTT 5 (no local, retain as published); over 3.1.1 the
# node looks only when it connects (specs/mqtt.md).
@pytest.mark.parametrize("broker", ["mosquitto"], indirect=True)
async def test_spoofed_retained_documents_are_replaced_by_the_truth(
    broker: Mosquitto, node_face: NodeFace
) -> None:
    """A configured device's state, a lamp and the status, each spoofed retained by an
    anonymous client: the node republishes its own document, and a fresh subscriber gets
    that (the node's, byte for byte), not the spoof."""
    spoofs = {
        f"{BASE}/devices/331/state": FAKE_STATE,
        f"{BASE}/lamps/332": {**FAKE_STATE, "event": "lamp", "device": "332"},
        f"{BASE}/status": {"node": "node1", "state": "offline"},
    }
    async with CtiClient(broker.host, broker.port, filters=list(spoofs), name="spoofer") as bad:
        for topic, doc in spoofs.items():
            await bad.wait_for(topic)  # the node's retained document first
            start = len(bad.messages)
            await bad.client.publish(topic, json.dumps(doc).encode(), qos=1, retain=True)
            await bad.wait_for(topic, lambda d, doc=doc: d == doc, start=start)  # it went out
            real = truth(node_face, topic)
            await bad.wait_for_msg(
                lambda m, t=topic, r=real: m.topic == t and m.payload == r and not m.retain
            )
    got = await retained(broker.host, broker.port, f"{BASE}/#", spoofs)
    for topic in spoofs:
        assert got[topic] == json.loads(truth(node_face, topic)), topic
    assert got[f"{BASE}/devices/331/state"]["summary"] == "idle"
    assert got[f"{BASE}/status"]["state"] == "online"


# Corrected while connected needs MQTT 5 (no local, retain as published); over 3.1.1 the
# node looks only when it connects (specs/mqtt.md).
@pytest.mark.parametrize("broker", ["mosquitto"], indirect=True)
async def test_spoofed_retained_events_are_cleared(broker: Mosquitto, node_face: NodeFace) -> None:
    """A retained event batch on cti/node1/events (and on a device's and a call's events
    topic): the node clears it (an empty retained publish), so a fresh subscriber gets none;
    its subscription to the status, made after, is the positive control that retained
    messages did arrive."""
    spoofs = [f"{BASE}/events", f"{BASE}/devices/331/events", f"{BASE}/calls/7/events"]
    async with CtiClient(broker.host, broker.port, filters=spoofs, name="spoofer") as bad:
        for topic in spoofs:
            await bad.client.publish(topic, json.dumps(FAKE_BATCH).encode(), qos=1, retain=True)
            await bad.wait_for_msg(lambda m, t=topic: m.topic == t and m.payload == b"")
    status = f"{BASE}/status"
    async with CtiClient(broker.host, broker.port, filters=[*spoofs, status], name="late") as late:
        await late.wait_for(status, lambda d: d["state"] == "online")
        assert [m.topic for m in late.messages if m.topic != status] == []
        # The node goes on publishing events on those topics as ever (not retained).
        made = await late.ok("makeCall", calling="331", called="332")
        batch = await late.wait_for(f"{BASE}/events")
        assert batch[0]["call"] == made["result"]["call"]
        assert not any(m.retain for m in late.on(f"{BASE}/events"))
