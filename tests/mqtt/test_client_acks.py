"""The outbox takes one PUBACK as covering every message sent before it on the connection.
That holds only if the broker accepted them and acknowledges in order (MQTT 5 4.6); a
broker that does otherwise must cost the connection, never an acknowledged position."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from cti.mqtt.client import MqttClient
from cti.mqtt.client import protocol as p

CONNACK_V5 = b"\x20\x03\x00\x00\x00"


async def broker_acking(
    answer: list[bytes], *, then_close: bool = False
) -> tuple[asyncio.Server, int]:
    """A fake broker: CONNACK, then after two PUBLISHes the given PUBACK bodies (and, with
    ``then_close``, the end of the connection)."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer = bytearray(await reader.read(1024))  # CONNECT
        writer.write(CONNACK_V5)
        buffer.clear()
        pids: list[int] = []
        while len(pids) < 2:
            buffer += await reader.read(1024)
            while (parsed := p.split_packet(buffer, 0)) is not None:
                packet, end = parsed
                del buffer[:end]
                if packet.type is p.PacketType.PUBLISH:
                    pids.append(p.decode_publish(packet).packet_id)
        for body in answer:
            writer.write(
                b"\x40"
                + bytes([len(body)])
                + body.replace(b"P1", pids[0].to_bytes(2, "big")).replace(
                    b"P2", pids[1].to_bytes(2, "big")
                )
            )
        await writer.drain()
        if then_close:
            writer.close()
            return
        with contextlib.suppress(ConnectionError):
            await reader.read(1024)

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def acks_for(answer: list[bytes]) -> tuple[list[str], BaseException | None]:
    server, port = await broker_acking(answer)
    acked: list[str] = []
    client = MqttClient("127.0.0.1", port, "t")
    try:
        await client.connect()
        both = asyncio.Event()

        def ack(name: str) -> None:
            acked.append(name)
            if len(acked) == 2:
                both.set()

        client.publish("a", b"1", on_ack=lambda: ack("first"))
        client.publish("b", b"2", on_ack=lambda: ack("second"))
        assert client.closed is not None
        acks = asyncio.ensure_future(both.wait())
        await asyncio.wait([acks, client.closed], timeout=5, return_when="FIRST_COMPLETED")
        acks.cancel()
        if client.closed.done():
            return acked, client.closed.exception()
        return acked, None
    finally:
        await client.disconnect()
        server.close()


async def test_in_order_acks_are_taken() -> None:
    acked, error = await acks_for([b"P1", b"P2"])
    assert (acked, error) == (["first", "second"], None)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ([b"P2", b"P1"], "out of order"),
        ([b"P1\x80", b"P2"], "refused"),  # MQTT 5 reason code: unspecified error
    ],
)
async def test_out_of_order_or_refused_acks_cost_the_connection(
    answer: list[bytes], says: str
) -> None:
    acked, error = await acks_for(answer)
    assert acked == [] and error is not None and says in str(error)


class WindowBroker:
    """A fake broker that takes ``window`` messages at a time (Receive Maximum): it records
    the topic of every PUBLISH in ``got`` and acknowledges the QoS 1 ones, those of one read
    in one write (a run of PUBACKs), until it got ``total``. The tests' publish callbacks call
    ``ack``, which records their name with how many messages the broker had got by then;
    :meth:`took_all` waits for ``total`` messages and ``acks`` callbacks."""

    def __init__(self, window: int, total: int, acks: int) -> None:
        self.window, self.total, self.acks = window, total, acks
        self.got: list[str] = []
        self.acked: list[tuple[str, int]] = []
        self.most_unacked = 0  # the most QoS 1 messages it had at once, not yet acknowledged
        self.done = asyncio.Event()
        self.all_acked = asyncio.Event()

    def ack(self, name: str) -> None:
        self.acked.append((name, len(self.got)))
        if len(self.acked) == self.acks:
            self.all_acked.set()

    @property
    def acked_names(self) -> list[str]:
        return [name for name, _ in self.acked]

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)  # CONNECT
        # CONNACK with the property Receive Maximum (0x21)
        writer.write(b"\x20\x06\x00\x00\x03\x21" + self.window.to_bytes(2, "big"))
        buffer = bytearray()
        while len(self.got) < self.total:
            chunk = await reader.read(1024)
            if not chunk:
                return
            buffer += chunk
            acks: list[bytes] = []
            while (parsed := p.split_packet(buffer, 0)) is not None:
                packet, end = parsed
                del buffer[:end]
                if packet.type is p.PacketType.PUBLISH:
                    message = p.decode_publish(packet)
                    self.got.append(message.topic)
                    if message.qos:
                        acks.append(p.puback(message.packet_id))
            # Everything before this read is acknowledged: what it brought is what is out.
            self.most_unacked = max(self.most_unacked, len(acks))
            writer.write(b"".join(acks))  # several PUBACKs in one write: a run
        self.done.set()
        with contextlib.suppress(ConnectionError):
            await reader.read(1024)

    async def took_all(self) -> None:
        """The broker got ``total`` messages, ``acks`` callbacks ran, and the client never had
        more messages out than the window allows."""
        await asyncio.wait_for(self.done.wait(), 5)
        await asyncio.wait_for(self.all_acked.wait(), 5)
        assert self.most_unacked <= self.window, (self.most_unacked, self.window)


@contextlib.asynccontextmanager
async def window_broker(
    window: int, *, total: int, acks: int
) -> AsyncIterator[tuple[WindowBroker, MqttClient]]:
    """A :class:`WindowBroker` on a free loopback port and a client connected to it."""
    broker = WindowBroker(window, total, acks)
    server = await asyncio.start_server(broker.session, "127.0.0.1", 0)
    client = MqttClient("127.0.0.1", server.sockets[0].getsockname()[1], "t")
    try:
        await client.connect()
        yield broker, client
    finally:
        await client.disconnect()
        server.close()


async def test_messages_wait_for_room_in_the_window_and_keep_their_order() -> None:
    """A broker that takes one message at a time (Receive Maximum 1): the rest wait and go
    out as PUBACKs make room, in the order published, also one published by an ack
    callback while others wait (it must not overtake them)."""
    async with window_broker(1, total=4, acks=4) as (broker, client):

        def first_acked() -> None:
            broker.ack("a")
            client.publish("d", b"4", on_ack=lambda: broker.ack("d"))

        client.publish("a", b"1", on_ack=first_acked)
        client.publish("b", b"2", on_ack=lambda: broker.ack("b"))
        client.publish("c", b"3", on_ack=lambda: broker.ack("c"))
        assert client.inflight == 3
        await broker.took_all()
        assert broker.got == ["a", "b", "c", "d"]
        assert broker.acked_names == ["a", "b", "c", "d"]


@pytest.mark.parametrize("window", [1, 2, 3, 100])
async def test_batches_keep_the_order_and_acks_of_one_publish_each(window: int) -> None:
    """publish_many (the outbox's batches) behaves as one publish per message with the
    callback on the last: mixed with single publishes and with a batch published from an
    ack callback while others wait for room in the broker's window (Receive Maximum
    ``window``), the broker gets every message once, in order, and the callbacks run in order
    once their last message is acknowledged."""
    async with window_broker(window, total=10, acks=4) as (broker, client):

        def first_acked() -> None:
            broker.ack("abc")
            client.publish_many(
                [("h", b"8", False), ("i", b"9", True)], on_ack=lambda: broker.ack("hi")
            )

        client.publish_many(
            [("a", b"1", False), ("b", b"2", True), ("c", b"3", False)], on_ack=first_acked
        )
        client.publish("d", b"4")
        client.publish_many(
            [("e", b"5", False), ("f", b"6", False), ("g", b"7", False)],
            on_ack=lambda: broker.ack("efg"),
        )
        client.publish("x", b"0", qos=0, on_ack=lambda: broker.ack("x"))
        assert client.inflight == 7 and client.published == 8
        await broker.took_all()
        got = broker.got
        assert got[:1] == ["a"] and sorted(got) == sorted("abcdefghix")
        assert [t for t in got if t != "x"] == list("abcdefghi")
        # Each callback ran after its last message reached the broker.
        for name, seen in broker.acked:
            if name != "x":
                assert name[-1] in got[:seen]
        assert [name for name in broker.acked_names if name != "x"] == ["abc", "efg", "hi"]
        assert client.inflight == 0


async def test_an_empty_batch_with_a_callback_is_refused() -> None:
    client = MqttClient("127.0.0.1", 1, "t")
    with pytest.raises(ValueError, match="on_ack"):
        client.publish_many([], on_ack=lambda: None)
    client.publish_many([])
    assert client.published == 0


async def test_a_batch_callback_waits_for_the_batch_s_last_message() -> None:
    """publish_many's callback belongs to its last message: a broker that acknowledges only
    the first of two and then closes the connection must leave it uncalled (the outbox
    would otherwise store a position the broker never acknowledged)."""
    server, port = await broker_acking([b"P1"], then_close=True)
    client = MqttClient("127.0.0.1", port, "t")
    called: list[str] = []
    try:
        await client.connect()
        client.publish_many(
            [("a", b"1", False), ("b", b"2", False)], on_ack=lambda: called.append("ab")
        )
        assert client.closed is not None
        await asyncio.wait([client.closed], timeout=10)
        assert client.closed.done()
        assert called == []
    finally:
        await client.disconnect()
        server.close()
