"""Through the web client's WebSocket the broker decides as for any client (specs/web.md):
a wrong password is refused, another user's topics stay closed, one's own are open."""

from __future__ import annotations

import aiomqtt
import orjson
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cti.app.bootstrap import Running

from .conftest import PASSWORDS


def over_websocket(
    node: Running, user: str, password: str, identifier: str | None = None
) -> aiomqtt.Client:
    assert node.web is not None
    host, port = node.web.address
    return aiomqtt.Client(
        host,
        port,
        username=user,
        password=password,
        transport="websockets",
        websocket_path="/mqtt",
        protocol=aiomqtt.ProtocolVersion.V5,
        identifier=identifier or f"web-{user}-test",
        timeout=10,
    )


async def test_a_wrong_password_is_refused_by_the_broker(node: Running) -> None:
    with pytest.raises(aiomqtt.MqttCodeError) as refused:
        async with over_websocket(node, "331", "Bernd-2025!"):
            pass
    assert refused.value.rc in (134, 135)  # bad user name or password / not authorized


async def test_a_client_id_not_of_the_account_is_refused_by_the_proxy(node: Running) -> None:
    """Not the node's (a session takeover would knock it off the broker), not another
    account's tab: the proxy answers CONNACK 0x85 (client identifier not valid) itself."""
    for identifier in ("cti-node1", "web-332-0123456789ab"):
        with pytest.raises(aiomqtt.MqttCodeError) as refused:
            async with over_websocket(node, "331", PASSWORDS["331"], identifier):
                pass
        assert refused.value.rc == 0x85
    assert node.mqtt.connected.is_set()


async def test_another_users_topics_stay_closed_through_the_proxy(node: Running) -> None:
    async with over_websocket(node, "331", PASSWORDS["331"]) as bernd:
        # Clara's retained journal counts and phone state exist; Bernd's ACL does not let
        # them out. Mosquitto sends retained messages in the order of the subscriptions, so
        # once Bernd's own journal document is here, Clara's would have come before it.
        await bernd.subscribe("cti/node1/users/332/journal", qos=1)
        await bernd.subscribe("cti/node1/devices/332/state", qos=1)
        await bernd.subscribe("cti/node1/users/331/journal", qos=1)
        await bernd.subscribe("cti/node1/users/331/inbox/#", qos=1)
        async for message in bernd.messages:
            assert str(message.topic) == "cti/node1/users/331/journal"
            break
        # A request on Clara's topic is dropped by the broker and never reaches the node; a
        # request on his own, sent after it, is answered.
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = "cti/node1/users/331/inbox/x"
        await bernd.publish(
            "cti/node1/users/332/requests/makeCall",
            b'{"calling":"332","called":"331"}',
            qos=1,
            properties=props,
        )
        await bernd.publish(
            "cti/node1/users/331/requests/snapshotDevice",
            b'{"device":"331"}',
            qos=1,
            properties=props,
        )
        async for message in bernd.messages:
            assert str(message.topic) == "cti/node1/users/331/inbox/x"
            assert orjson.loads(message.payload)["result"] == []  # type: ignore[arg-type]
            break
        assert len(node.node.state.calls.calls) == 0
