"""DIR-05 on a broker WITHOUT the node's ACLs (specs/security.md "Spoofed retained messages"):
a spoofed favourites document is replaced by the node's, one on the topic of a user without
an account is cleared; a fresh subscriber sees the truth."""

from __future__ import annotations

import json

import pytest

from cti.accounts.commands import SeedAccounts
from cti.app.config import load_config
from tests.mqtt.conftest import BASE, CtiClient, Mosquitto, NodeFace, broker, node_face, retained

__all__ = ["broker", "node_face"]  # fixtures: a broker without ACLs, a node face on it

SPOOF = {"seq": 10**9, "user": "331", "groups": [{"id": 1, "name": "Fake", "entries": []}]}


# Corrected live needs MQTT 5 (no local, retain as published); over 3.1.1 the node looks
# only when it connects (specs/mqtt.md).
@pytest.mark.parametrize("broker", ["mosquitto"], indirect=True)
async def test_dir05_spoofed_favourites_are_corrected_or_cleared(
    broker: Mosquitto, node_face: NodeFace
) -> None:
    bernd = next(u for u in load_config().users if u.name == "331")
    assert (await node_face.engine.execute(SeedAccounts(accounts=(bernd.seed(),)))).ok
    mine, nobodys = f"{BASE}/users/331/favourites", f"{BASE}/users/339/favourites"
    async with CtiClient(broker.host, broker.port, filters=[mine, nobodys], name="bad") as bad:
        real = await bad.wait_for(mine)  # the node's document: 331 has no favourites yet
        assert (real["user"], real["groups"]) == ("331", [])
        start = len(bad.messages)
        await bad.client.publish(mine, json.dumps(SPOOF).encode(), qos=1, retain=True)
        await bad.wait_for(mine, lambda d: d == real, start=start + 1)  # put back
        await bad.client.publish(nobodys, json.dumps(SPOOF).encode(), qos=1, retain=True)
        await bad.wait_for_msg(lambda m: m.topic == nobodys and m.payload == b"")
    got = await retained(broker.host, broker.port, f"{BASE}/users/+/favourites", [mine])
    assert got == {mine: real}
