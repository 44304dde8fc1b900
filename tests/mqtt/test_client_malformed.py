"""What a broker (or whatever listens at its address) sends that our client cannot parse ends
the connection with ``ConnectionLost``, so its owner reconnects: never a reader task dead
behind a connection that looks alive until the keep-alive runs out. And `cti request` says
in one line that no MQTT broker answered, never a traceback. No broker sends such bytes on
demand, so a loopback server plays the broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from cti.mqtt.client import ConnectionLost, MqttClient
from cti.mqtt.client import protocol as p
from tests.mqtt.test_cli_errors import cti

CONNACK_V5 = bytes([0x20, 0x03, 0x00, 0x00, 0x00])  # accepted, no properties


@asynccontextmanager
async def playing(answer: bytes, *, hang_up: bool = False) -> AsyncIterator[int]:
    """A server on a free loopback port that reads a CONNECT and sends ``answer``; then it
    waits for the client to close (or, ``hang_up``, closes)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(answer)
        await writer.drain()
        if not hang_up:
            await reader.read(1024)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@pytest.mark.parametrize(
    "packet",
    [
        bytes([0x30, 0x03, 0x00, 0x01, 0x61]),  # PUBLISH without its property length
        bytes([0x30, 0x01, 0x00]),  # PUBLISH cut inside its topic's length
        bytes([0x30, 0x05, 0x00, 0x02, 0xFF, 0xFE, 0x00]),  # a topic that is not UTF-8
    ],
    ids=["no-properties", "short-topic-length", "bad-utf8"],
)
async def test_a_malformed_publish_ends_the_connection(packet: bytes) -> None:
    async with playing(CONNACK_V5 + packet) as port:
        client = MqttClient("127.0.0.1", port, "malformed", keepalive=60)
        await client.connect()
        assert client.closed is not None
        with pytest.raises(ConnectionLost, match="reading from the broker failed"):
            await asyncio.wait_for(asyncio.shield(client.closed), 10)
        assert not client.connected
        await client.disconnect()


async def test_an_on_message_handler_that_fails_ends_the_connection() -> None:
    publish = bytes([0x30, 0x05, 0x00, 0x01, 0x74, 0x00, 0x78])  # QoS 0 on "t": "x"

    def broken(_m: p.Message) -> None:
        raise ValueError("a handler's bug")

    async with playing(CONNACK_V5 + publish) as port:
        client = MqttClient("127.0.0.1", port, "handler", keepalive=60, on_message=broken)
        await client.connect()
        assert client.closed is not None
        with pytest.raises(ConnectionLost, match="a handler's bug"):
            await asyncio.wait_for(asyncio.shield(client.closed), 10)


@pytest.mark.parametrize(
    "answer",
    [b"SSH-2.0-OpenSSH_9.2\r\n", bytes([0x20, 0x00])],  # not MQTT; a CONNACK cut short
    ids=["ssh-banner", "short-connack"],
)
async def test_cti_request_where_no_mqtt_broker_answers_is_one_line(answer: bytes) -> None:
    async with playing(answer, hang_up=True) as port:
        code, out, err = await cti(
            "request", "--mqtt-url", f"mqtt://127.0.0.1:{port}", "--user", "330", "snapshotDevice"
        )
    assert (code, out) == (3, ""), err
    assert err.startswith(f"cti request: no broker at mqtt://127.0.0.1:{port}: "), err
    assert err.count("\n") == 1 and "Traceback" not in err, err


async def test_a_suback_of_more_codes_than_filters_is_no_refusal_to_name() -> None:
    """A SUBACK whose codes do not match the filters one to one (two codes, the second a
    refusal, for the one reply topic): which filter was refused cannot be told, so it is a
    protocol error; `cti request` says so in one line (it raised an IndexError naming the
    refused topic: a traceback)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)  # CONNECT
        writer.write(CONNACK_V5)
        subscribe = await reader.read(1024)
        pid = subscribe[2:4]  # after the fixed header's type and one-byte length
        writer.write(bytes([0x90, 0x05]) + pid + bytes([0x00, 0x01, 0x80]))
        await writer.drain()
        await reader.read(1024)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = MqttClient("127.0.0.1", port, "suback", keepalive=60)
        await client.connect()
        with pytest.raises(p.ProtocolError, match="2 codes for 1 filters"):
            await client.subscribe([("t", 1)], required=True)
        assert not client.connected  # a protocol error ends the connection
        code, out, err = await cti(
            "request", "--mqtt-url", f"mqtt://127.0.0.1:{port}", "--user", "330", "snapshotDevice"
        )
    finally:
        server.close()
    assert (code, out) == (3, ""), err
    assert err.startswith(f"cti request: no broker at mqtt://127.0.0.1:{port}: "), err
    assert "not MQTT" in err and "2 codes for 1 filters" in err, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
