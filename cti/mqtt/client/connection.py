"""A small asyncio MQTT client for the engine: pipelined QoS 1 publishing with per-message
ack callbacks, subscriptions, keep-alive, user name and password, TLS. MQTT 5 by default;
a broker that speaks only 3.1.1 (NATS's MQTT listener) refuses MQTT 5 with the 3.1.1 code 1,
and the client then connects again as 3.1.1 (``version`` tells which one it got).

It never retries by itself: when the connection drops, unacked messages are simply not acked,
and the outbox publisher, which knows what the broker confirmed, publishes them again.

    async with MqttClient("broker", 8883, "me", username="330", password=..., tls=Tls(ca)) as c:
        await c.subscribe([("cti/node1/status", 1)])
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import attrs
import structlog

from cti.mqtt.client import protocol as p
from cti.mqtt.client.errors import (
    ConnectionLost,
    ConnectionRefused,
    PublishRefused,
    SubscriptionRefused,
)

log = structlog.get_logger(__name__)
Ack = Callable[[], None]
# MQTT 3.1.1 CONNACK return codes as the MQTT 5 reason codes of the same meaning.
_V311_UNACCEPTABLE_VERSION = 1
_V311_REASONS = {1: 0x84, 2: 0x85, 3: 0x88, 4: 0x86, 5: 0x87}
# CONNACK refusals in words, for the one line a tool prints. Mosquitto answers a wrong
# password "not authorized" (0x87) as often as "bad user name or password" (0x86).
_REFUSALS = {
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized: wrong user name or password?",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
}


def refusal(code: int, user: str | None = None) -> ConnectionRefused:
    """The error for a CONNACK that refuses with ``code``, its ``reason`` in MQTT 5 terms;
    ``user``: who the CONNECT signed in as.

    MQTT 5's failures are 0x80 and above, so a code below is a 3.1.1 return code whatever
    version we asked for (a 3.1.1-only broker may answer an MQTT 5 CONNECT in its own format):
    4 and 5 are refusals of who we are, as 0x86 and 0x87 are."""
    reason = _V311_REASONS.get(code, code) if code < 0x80 else code
    words = _REFUSALS.get(reason)
    return ConnectionRefused(
        reason,
        f"broker refused the connection (reason {reason:#x}" + (f": {words})" if words else ")"),
        user,
    )


@attrs.frozen
class Will:
    """The message the broker publishes for us if the connection dies (QoS 1)."""

    topic: str
    payload: bytes
    retain: bool = False


@attrs.frozen
class Tls:
    """TLS to the broker, verifying its certificate against ``ca_file`` (default: the
    system's CAs) and its name against ``server_hostname`` (default: the host we dial)."""

    ca_file: Path | None = None
    server_hostname: str | None = None

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(
            cafile=None if self.ca_file is None else str(self.ca_file)
        )


class MqttClient:
    def __init__(
        self,
        host: str,
        port: int,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: Tls | None = None,
        keepalive: int = 30,
        will: Will | None = None,
        on_message: Callable[[p.Message], None] | None = None,
        version: int = 5,
        max_packet_size: int | None = None,
        fallback: bool = True,
    ) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self.username, self.password, self.tls = username, password, tls
        self.keepalive, self.will, self.on_message = keepalive, will, on_message
        self.version = version
        self.fallback = fallback  # MQTT 5 refused as an unknown protocol level: try 3.1.1
        self.max_packet_size = max_packet_size  # announced: the broker drops bigger messages
        self.closed: asyncio.Future[None] | None = None
        self.reached = False  # a TCP connection to the broker was made (it may refuse us)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._out = bytearray()
        self._flush_scheduled = False
        self._next_id = 0
        self.published = 0  # messages handed to publish() (the benchmarks count them per call)
        self._window = 65535
        self._inflight: set[int] = set()  # packet ids of QoS 1 messages sent, not acked
        # The same ids in the order sent, which is the order the broker acknowledges them in;
        # those before _head are acknowledged (a list, so a run of PUBACKs is checked against
        # it in one comparison), and _base messages were acknowledged before _order[0].
        self._order: list[int] = []
        self._head = 0
        self._base = 0
        # Ack callbacks by the number of the message they wait for (counted from the first
        # sent on the connection): a few per batch, not one entry per message.
        self._acks: deque[tuple[int, Ack]] = deque()
        # Messages waiting for room in the broker's window: runs of (topic, payload, retain),
        # each with its properties (a run of one) and the callback of its last message.
        self._waiting: deque[
            tuple[list[tuple[str, bytes, bool]], dict[int, object] | None, Ack | None]
        ] = deque()
        self._queued = 0  # messages in _waiting
        self._subacks: dict[int, asyncio.Future[bytes]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._heard = 0.0  # loop time the broker was last heard from

    @property
    def connected(self) -> bool:
        return self.closed is not None and not self.closed.done()

    @property
    def inflight(self) -> int:
        return len(self._inflight) + self._queued

    async def __aenter__(self) -> MqttClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def connect(self, timeout: float = 5.0) -> None:
        """Connect; raises ConnectionRefused (CONNACK failure), OSError / TimeoutError (no
        broker there) or ssl.SSLError (its certificate does not verify)."""
        ssl_context = None if self.tls is None else self.tls.context()
        # asyncio.timeout, not wait_for, here and below: on Python 3.11 wait_for returns the
        # result instead of raising when its task is cancelled in the loop iteration in which
        # the awaited thing completes, and a face stopped then would go on serving.
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                self.host,
                self.port,
                ssl=ssl_context,
                server_hostname=None if self.tls is None else self.tls.server_hostname,
            )
        self._reader, self._writer = reader, writer
        self.reached = True
        will = None if self.will is None else (self.will.topic, self.will.payload, self.will.retain)
        writer.write(
            p.connect(
                self.client_id,
                keepalive=self.keepalive,
                will=will,
                version=self.version,
                username=self.username,
                password=self.password,
                max_packet_size=self.max_packet_size,
            )
        )
        try:
            async with asyncio.timeout(timeout):
                packet = await self._read_packet()
        except asyncio.IncompleteReadError:
            writer.close()
            raise ConnectionLost("the broker closed the connection before CONNACK") from None
        except TimeoutError:
            writer.close()
            raise TimeoutError(f"no CONNACK within {timeout:g} s") from None
        except BaseException:  # cancelled: not a socket left open
            writer.close()
            raise
        if packet.type is not p.PacketType.CONNACK or len(packet.body) < 2:
            writer.close()
            got = packet.type.name if packet.type is not p.PacketType.CONNACK else "one cut short"
            raise p.ProtocolError(f"expected CONNACK, got {got}")
        code = packet.body[1]
        if code == _V311_UNACCEPTABLE_VERSION and self.version == 5 and self.fallback:
            # No MQTT 5 reason code is 1: this is a 3.1.1 broker answering in its own format.
            writer.close()
            log.info("mqtt.fallback_to_3.1.1", broker=f"{self.host}:{self.port}")
            self.version = 4
            await self.connect(timeout)
            return
        if code:
            writer.close()
            raise refusal(code, self.username)
        if self.version == 5:
            try:
                props, _ = p.decode_properties(packet.body, 2)
            except (IndexError, ValueError, struct.error) as exc:
                writer.close()
                raise p.ProtocolError(f"malformed CONNACK properties: {exc!r}") from None
            self._window = int(props.get(p.RECEIVE_MAXIMUM, 65535))  # type: ignore[call-overload]
        self.closed = asyncio.get_running_loop().create_future()
        self._heard = asyncio.get_running_loop().time()
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="mqtt-read"),
            asyncio.create_task(self._ping_loop(), name="mqtt-ping"),
        ]

    async def disconnect(self) -> None:
        if self._writer is not None and self.connected:
            self._send(p.DISCONNECT)
            self._flush()
            with contextlib.suppress(ConnectionError):
                await self._writer.drain()
        await self._close(None)

    async def _close(self, exc: BaseException | None) -> None:
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        if self._writer is not None:
            self._writer.close()
        if self.closed is not None and not self.closed.done():
            if exc is None:
                self.closed.set_result(None)
            else:
                self.closed.set_exception(exc)
                self.closed.exception()  # retrieved here; the owner reads it from `closed`
        for fut in self._subacks.values():
            if not fut.done():
                fut.set_exception(ConnectionLost("connection closed"))
        self._inflight.clear()
        self._order.clear()
        self._head = self._base = 0
        self._acks.clear()
        self._waiting.clear()
        self._queued = 0

    # -- publishing ---------------------------------------------------------------------------
    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        props: dict[int, object] | None = None,
        on_ack: Ack | None = None,
    ) -> None:
        """Queue a message; ``on_ack`` runs when the broker has it (QoS 1) or once written."""
        self.published += 1
        if self.version != 5:
            props = None
        if qos == 0:
            self._send(
                p.publish(topic, payload, qos=0, retain=retain, props=props, version=self.version)
            )
            if on_ack is not None:
                on_ack()
            return
        if self._waiting or len(self._inflight) >= self._window:
            # Behind what already waits, never before it: the broker must get them in order.
            self._waiting.append(([(topic, payload, retain)], props, on_ack))
            self._queued += 1
            return
        self._send_qos1(topic, payload, retain, props, on_ack)

    def publish_many(
        self, messages: Sequence[tuple[str, bytes, bool]], *, on_ack: Ack | None = None
    ) -> None:
        """Queue QoS 1 messages ``(topic, payload, retain)`` without properties, in order:
        the same as one :meth:`publish` each, ``on_ack`` given to the last, in a fraction of
        the CPU time (the packets are built in one loop and written as one buffer)."""
        if not messages:
            if on_ack is not None:
                raise ValueError("publish_many: on_ack needs a message to wait for")
            return
        self.published += len(messages)
        room = 0 if self._waiting else self._window - len(self._inflight)
        if room >= len(messages):
            self._send_run(messages, [] if on_ack is None else [(len(messages) - 1, on_ack)])
            return
        if room > 0:
            self._send_run(messages[:room], [])
        rest = list(messages[max(room, 0) :])
        self._waiting.append((rest, None, on_ack))
        self._queued += len(rest)

    def _send_qos1(
        self,
        topic: str,
        payload: bytes,
        retain: bool,
        props: dict[int, object] | None,
        on_ack: Ack | None,
    ) -> None:
        pid = self._packet_id()
        self._inflight.add(pid)
        if on_ack is not None:
            self._acks.append((self._base + len(self._order), on_ack))
        self._order.append(pid)
        if props and self.version == 5:
            packet = p.publish(
                topic,
                payload,
                qos=1,
                retain=retain,
                packet_id=pid,
                props=props,
                version=self.version,
            )
        else:
            packet = p.publish_qos1(topic, payload, pid, retain, self.version)
        self._send(packet)

    def _send_run(
        self, messages: Sequence[tuple[str, bytes, bool]], acks: list[tuple[int, Ack]]
    ) -> None:
        """Send QoS 1 messages without properties; ``acks``: (index in ``messages``,
        callback)."""
        data, ids = p.publish_qos1_many(
            messages, self._next_id, self._inflight, self._subacks, self.version
        )
        self._next_id = ids[-1]
        first = self._base + len(self._order)
        self._order += ids
        for index, on_ack in acks:
            self._acks.append((first + index, on_ack))
        self._send(data)

    def _packet_id(self) -> int:
        while True:
            self._next_id = self._next_id % 65535 + 1
            if self._next_id not in self._inflight and self._next_id not in self._subacks:
                return self._next_id

    async def subscribe(
        self, filters: list[tuple[str, int]], timeout: float = 5.0, *, required: bool = False
    ) -> bytes:
        """The SUBACK's body after the packet id; ``required``: raise SubscriptionRefused if
        the broker refused any of the filters."""
        pid = self._packet_id()
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._subacks[pid] = fut
        self._send(p.subscribe(pid, filters, version=self.version))
        try:
            async with asyncio.timeout(timeout):
                body = await fut
        finally:
            self._subacks.pop(pid, None)
        codes = p.suback_codes(body, self.version)
        if required and len(codes) != len(filters):  # which one was refused is unknowable
            error = p.ProtocolError(f"a SUBACK of {len(codes)} codes for {len(filters)} filters")
            await self._close(ConnectionLost(str(error)))  # a ProtocolError ends the connection
            raise error
        if required and any(code >= 0x80 for code in codes):
            refused = [
                topic for (topic, _), code in zip(filters, codes, strict=False) if code >= 0x80
            ]
            raise SubscriptionRefused(refused)
        return body

    async def unsubscribe(self, filters: list[str], timeout: float = 5.0) -> None:
        pid = self._packet_id()
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._subacks[pid] = fut  # UNSUBACK shares the packet ids (and this table) with SUBACK
        self._send(p.unsubscribe(pid, filters, version=self.version))
        try:
            async with asyncio.timeout(timeout):
                await fut
        finally:
            self._subacks.pop(pid, None)

    async def drain(self) -> None:
        self._flush()
        if self._writer is not None:
            await self._writer.drain()

    def _send(self, data: bytes) -> None:
        # Many small packets become one write per loop iteration.
        self._out += data
        if not self._flush_scheduled:
            self._schedule_flush()

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._out and self._writer is not None and not self._writer.is_closing():
            self._writer.write(bytes(self._out))
        self._out.clear()

    # -- reading ------------------------------------------------------------------------------
    async def _read_packet(self) -> p.Packet:
        assert self._reader is not None
        first = (await self._reader.readexactly(1))[0]
        length = shift = 0
        for _ in range(4):
            byte = (await self._reader.readexactly(1))[0]
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
        body = await self._reader.readexactly(length) if length else b""
        try:
            kind = p.PacketType(first >> 4)
        except ValueError:
            raise p.ProtocolError(f"unexpected packet type {first >> 4}") from None
        return p.Packet(kind, first & 0x0F, body)

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    async def _read_loop(self) -> None:
        # Read big chunks and cut packets out of them: at tens of thousands of PUBACKs a
        # second, one await per packet (or per header byte) would cost more than the work.
        assert self._reader is not None
        buffer = bytearray()
        loop = asyncio.get_running_loop()
        try:
            while True:
                chunk = await self._reader.read(1 << 16)
                if not chunk:
                    raise ConnectionError("broker closed the connection")
                self._heard = loop.time()  # the broker is alive (the ping loop looks)
                buffer += chunk
                pos = 0
                end = len(buffer)
                while pos < end:
                    first = buffer[pos]
                    # PUBACKs are most of what a publisher reads (one per message at tens of
                    # thousands a second): a run of them is taken at once.
                    if first == 0x40 and pos + 3 < end and buffer[pos + 1] == 2:
                        pids = p.puback_run(buffer, pos, end)
                        pos += 4 * len(pids)
                        self._puback_run(pids)
                        continue
                    # And PUBLISHes most of what a receiver reads.
                    if first & 0xF0 == 0x30:
                        messages, nxt = p.publish_run(buffer, pos, end, self.version)
                        if messages:
                            pos = nxt
                            self._received(messages)
                            continue
                    if buffer[pos] == 0x40 and pos + 1 < end and 2 <= buffer[pos + 1] <= 4:
                        nxt = pos + 2 + buffer[pos + 1]
                        if nxt > end:
                            break
                        reason = buffer[pos + 4] if buffer[pos + 1] >= 3 else 0
                        self._puback((buffer[pos + 2] << 8) | buffer[pos + 3], reason)
                        pos = nxt
                        continue
                    parsed = p.split_packet(buffer, pos)
                    if parsed is None:
                        break
                    packet, pos = parsed
                    self._dispatch(packet)
                del buffer[:pos]
                if self._waiting:
                    self._fill()
        except (ConnectionError, p.ProtocolError) as exc:
            log.warning("mqtt.connection_lost", error=str(exc) or type(exc).__name__)
            refused = exc.reason if isinstance(exc, PublishRefused) else None
            await self._close(ConnectionLost(str(exc) or "connection lost", refused))
        except Exception as exc:
            # A packet the parsers choke on (a PUBLISH cut short: IndexError, struct.error,
            # bad UTF-8) or a bug in an on_message handler: the connection ends, so its owner
            # reconnects, instead of a dead reader behind a connection that looks alive.
            log.error("mqtt.read_failed", error=repr(exc), exc_info=True)
            await self._close(ConnectionLost(f"reading from the broker failed: {exc!r}"))

    def _puback(self, pid: int, reason: int = 0) -> None:
        # The outbox counts one ack as covering everything sent before it, which holds only
        # if the broker took the message and acks in order (MQTT 5 4.6): anything else ends
        # the connection, and the outbox publishes again from what was confirmed.
        if reason >= 0x80:
            raise PublishRefused(pid, reason)
        if self._head < len(self._order):
            if pid != self._order[self._head]:
                raise p.ProtocolError(f"PUBACK {pid} out of order")
            self._acked([pid])

    def _puback_run(self, pids: list[int]) -> None:
        head = self._head
        if self._order[head : head + len(pids)] == pids:
            self._acked(pids)
        else:  # one at a time, to fail on the one out of order (or ignore a stray one)
            for pid in pids:
                self._puback(pid)

    def _acked(self, pids: list[int]) -> None:
        """The oldest messages in flight, ``pids``, are acknowledged: their callbacks run."""
        self._inflight.difference_update(pids)
        head = self._head = self._head + len(pids)
        done = self._base + head
        if head == len(self._order) or (head > 4096 and 2 * head > len(self._order)):
            del self._order[:head]  # all acked, or a long acked prefix: amortized O(1)
            self._base, self._head = done, 0
        acks = self._acks
        while acks and acks[0][0] < done:
            acks.popleft()[1]()

    def _fill(self) -> None:
        """Send what waits for room in the broker's window (after a run of PUBACKs), the
        runs without properties together in one buffer."""
        room = self._window - len(self._inflight)
        waiting = self._waiting
        run: list[tuple[str, bytes, bool]] = []
        acks: list[tuple[int, Ack]] = []
        while waiting and room > 0:
            messages, props, on_ack = waiting[0]
            if props:  # a run of one
                if run:
                    self._send_run(run, acks)
                    run, acks = [], []
                waiting.popleft()
                self._send_qos1(*messages[0], props, on_ack)
                taken = 1
            elif len(messages) <= room:
                waiting.popleft()
                run += messages
                if on_ack is not None:
                    acks.append((len(run) - 1, on_ack))
                taken = len(messages)
            else:
                run += messages[:room]
                waiting[0] = (messages[room:], None, on_ack)
                taken = room
            room -= taken
            self._queued -= taken
        if run:
            self._send_run(run, acks)

    def _received(self, messages: list[p.Message]) -> None:
        """Acknowledge and hand on PUBLISHes, as _dispatch does each."""
        out = self._out
        on_message = self.on_message
        for message in messages:
            if message.qos == 1:
                out += (0x40020000 | message.packet_id).to_bytes(4, "big")  # its PUBACK
                self._schedule_flush()
            if on_message is not None:
                on_message(message)

    def _dispatch(self, packet: p.Packet) -> None:
        if packet.type is p.PacketType.PUBACK:
            reason = packet.body[2] if len(packet.body) >= 3 else 0
            self._puback((packet.body[0] << 8) | packet.body[1], reason)
        elif packet.type is p.PacketType.PUBLISH:
            message = p.decode_publish(packet, version=self.version)
            if message.qos == 1:
                self._send(p.puback(message.packet_id))
            if self.on_message is not None:
                self.on_message(message)
        elif packet.type in (p.PacketType.SUBACK, p.PacketType.UNSUBACK):
            (pid,) = struct.unpack_from("!H", packet.body, 0)
            fut = self._subacks.get(pid)
            if fut is not None and not fut.done():
                fut.set_result(packet.body[2:])

    async def _ping_loop(self) -> None:
        # A broker answers every PINGREQ: one not heard for a whole keepalive (two pings) is
        # gone, though a vanished machine sends no RST and the kernel would keep the
        # connection for its retransmission time (~15 minutes) while nothing gets through.
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.keepalive / 2)
            silent = loop.time() - self._heard
            if silent > self.keepalive:
                log.warning(
                    "mqtt.broker_silent",
                    broker=f"{self.host}:{self.port}",
                    seconds=round(silent, 1),
                )
                await self._close(ConnectionLost(f"no answer from the broker in {silent:.1f} s"))
                return
            self._send(p.PINGREQ)
