"""Our MQTT client (cti/mqtt/client) notices a broker that went silent, and its waits never
lose a cancellation.

- A broker member whose machine vanished (power, a partition) sends no RST: the TCP connection
  looks alive for the kernel's retransmission time (~15 minutes), and the MQTT face would sit
  on it publishing nothing. The client sends PINGREQ every half keepalive; a broker not heard
  for a whole keepalive costs the connection, and the face dials the next member.
- On Python 3.11 ``asyncio.wait_for`` returns the result instead of raising when its task is
  cancelled in the loop iteration in which the awaited thing completes (fixed in 3.12): a
  face stopped while its SUBACK arrived would have gone on to serve (tests/mqtt/
  test_client_harness.py has the same for the tests' own client).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from cti.mqtt.client import MqttClient
from cti.mqtt.client.errors import ConnectionLost

CONNACK_V5 = b"\x20\x03\x00\x00\x00"
PINGREQ, PINGRESP = b"\xc0\x00", b"\xd0\x00"


class FakeBroker:
    """A broker on a real socket that answers CONNECT and, if ``pong``, every PINGREQ;
    nothing else (a SUBSCRIBE stays unanswered)."""

    def __init__(self, *, pong: bool) -> None:
        self.pong = pong
        self.pings = 0
        self.pinged = asyncio.Condition()

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)  # CONNECT
        writer.write(CONNACK_V5)
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(1024):
                n = chunk.count(PINGREQ)
                if n and self.pong:
                    writer.write(PINGRESP * n)
                async with self.pinged:
                    self.pings += n
                    self.pinged.notify_all()
        writer.close()


@contextlib.asynccontextmanager
async def fake_broker(*, pong: bool) -> AsyncIterator[tuple[FakeBroker, int]]:
    broker = FakeBroker(pong=pong)
    server = await asyncio.start_server(broker.session, "127.0.0.1", 0)
    try:
        yield broker, server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_a_silent_broker_costs_the_connection() -> None:
    async with fake_broker(pong=False) as (_, port):
        client = MqttClient("127.0.0.1", port, "t", keepalive=1)
        await client.connect()
        assert client.closed is not None
        async with asyncio.timeout(5):  # without the check: open for the kernel's ~15 min
            with pytest.raises(ConnectionLost, match="no answer from the broker"):
                await client.closed
        assert not client.connected


async def test_a_broker_that_answers_pings_keeps_the_connection() -> None:
    async with fake_broker(pong=True) as (broker, port):
        client = MqttClient("127.0.0.1", port, "t", keepalive=1)
        await client.connect()
        async with broker.pinged, asyncio.timeout(10):
            await broker.pinged.wait_for(lambda: broker.pings >= 5)  # 2.5 keepalives
        assert client.connected
        await client.disconnect()


@pytest.mark.parametrize("what", ["subscribe", "unsubscribe"])
async def test_an_ack_arriving_with_the_cancel_does_not_swallow_it(what: str) -> None:
    async with fake_broker(pong=True) as (_, port):
        client = MqttClient("127.0.0.1", port, "t")
        await client.connect()
        call = client.subscribe([("a/b", 1)]) if what == "subscribe" else client.unsubscribe(["a"])
        waiter: asyncio.Task[object] = asyncio.ensure_future(call)
        await asyncio.sleep(0)  # sent, waiting for its ack
        (ack,) = client._subacks.values()
        ack.set_result(b"\x00\x01")  # what the read loop does when the ack arrives
        accepted = waiter.cancel()  # in the same iteration
        assert accepted
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await client.disconnect()
