"""The node's MQTT client id (specs/security.md, "The node's client id"): a broker ends the
older connection of a client id when another connects with it (session takeover), and any
signed-in account may pick any id. So the node's id is derived from its broker secret, and an
account that connects with the old, guessable ``cti-{node}`` leaves the node connected."""

from __future__ import annotations

import pytest

from cti.mqtt.face.service import client_id

from .conftest import SecureNode, settled, topic


@pytest.mark.asyncio(loop_scope="module")
async def test_an_account_using_the_old_node_client_id_does_not_knock_the_node_off(
    secure_node: SecureNode,
) -> None:
    n = secure_node
    face = n.running.mqtt
    before = face.client
    assert before is not None and before.connected
    squatter = n.client("331", filters=[topic("status")], name="squatter")
    squatter.id = "cti-node1"  # what every account knew: the node's id before
    squatter.inbox = topic("users", "331", "inbox", "squatter")
    async with squatter:
        await squatter.wait_for(topic("status"), lambda d: d["state"] == "online")
        # The node answers the squatter's own request, so both are connected: with the
        # old id the broker had closed the node's connection for the squatter's, and the
        # node's reconnect had closed the squatter's in turn.
        await settled(squatter)
        async with n.client("332", name="other") as other:
            await settled(other)
        assert face.client is before and before.connected and face.connected.is_set()
        assert squatter.lost is None
    secret = (n.data_dir / "node1.broker-secret").read_text().strip()
    assert before.client_id == client_id("node1", secret)
    assert before.client_id.startswith("cti-node1-") and before.client_id != "cti-node1"
    # Nor is the id anywhere a client reads: the retained status names the node only.
    assert before.client_id not in str(n.truth(topic("status")))


def test_the_node_client_id_is_stable_for_its_secret_and_unguessable_without_it() -> None:
    one = client_id("node1", "s3cret-one")
    assert one == client_id("node1", "s3cret-one")  # every process of the node: one id
    assert one != client_id("node1", "s3cret-two") != client_id("branch", "s3cret-one")
    assert len(one) == len("cti-node1-") + 16 and int(one[len("cti-node1-") :], 16) >= 0
    # An anonymous broker (anyone may sign in as anything): the plain id, shared by the
    # processes of a hot-standby pair, so a new active node ends a paused old one's session.
    assert client_id("node1", None) == client_id("node1", "") == "cti-node1"
