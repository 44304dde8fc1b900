"""Which acknowledgement moves the outbox's saved position (issue 18, item 11).

The outbox counts the PUBACK of a batch's last message as covering the whole batch and all
before it (a broker acknowledges a connection's QoS 1 messages in order); the client ends the
connection on any PUBACK that breaks that order. If the position ever ran ahead of what the
broker acknowledged, a crash would skip events the broker never took.

A small TCP proxy sits between the node's MQTT face and a real Mosquitto. It cuts the byte
stream into MQTT packets (fixed header, remaining length) in both directions and can hold the
broker's PUBACKs back, hand them to the node one at a time, out of order or not at all, and
keep the node's PUBLISHes from the broker. Each scenario ends with a crash (the proxy cut
mid-flight, the node's tasks cancelled without a clean stop, as after kill -9) and a new node
on the same SQLite log; a subscriber connected to the broker throughout must then have seen
every committed event at least once, in order per topic once repeats are dropped.

Nothing sleeps for timing: every wait is for a condition, bounded by TIMEOUT.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import attrs
import pytest

from cti.app.clock import SystemClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Accepted, Node
from cti.calls import commands as c
from cti.domain import INTERNAL_KINDS
from cti.kernel.messages import Command
from cti.mqtt.client import MqttClient
from cti.mqtt.face.outbox import POSITION_KEY
from cti.mqtt.face.service import MqttFace
from cti.store import SqliteStore
from tests.mqtt.conftest import BASE, TIMEOUT, CtiClient, Mosquitto, seed_tester
from tests.waiting import until

EVENTS = f"{BASE}/events"  # every published event, one JSON array per batch
STATUS = f"{BASE}/status"
PER_EVENT = (f"{BASE}/devices/+/events", f"{BASE}/calls/+/events")
PUBLISH, PUBACK = 3, 4  # MQTT packet types
CALL = 1  # the call each test makes: the first of its log


def stored_position(path: Path) -> int:
    """The outbox position on disk: where a node started now would publish from (read as a
    tool would, so it works while a life runs and after it crashed)."""
    with SqliteStore.open_readonly(path) as log:
        return int(log.get_meta(POSITION_KEY) or 0)


# -- the proxy ----------------------------------------------------------------------------
@attrs.frozen
class Packet:
    """One MQTT packet as it crossed the proxy (MQTT 5: the face's protocol)."""

    raw: bytes
    kind: int
    pid: int | None = None  # PUBACK, and PUBLISH at QoS 1
    topic: str | None = None  # PUBLISH
    retain: bool = False
    payload: bytes = b""

    @classmethod
    def parse(cls, raw: bytes, header: int) -> Packet:
        kind, body = raw[0] >> 4, raw[header:]
        if kind == PUBACK:
            return cls(raw, kind, pid=int.from_bytes(body[:2], "big"))
        if kind != PUBLISH:
            return cls(raw, kind)
        n = int.from_bytes(body[:2], "big")
        topic, pos = body[2 : 2 + n].decode(), 2 + n
        pid = None
        if (raw[0] >> 1) & 3:
            pid, pos = int.from_bytes(body[pos : pos + 2], "big"), pos + 2
        props, pos = read_varint(body, pos)
        return cls(raw, kind, pid, topic, bool(raw[0] & 1), body[pos + props :])


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """An MQTT variable byte integer at ``pos``: (value, position after it)."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        assert shift <= 21, "malformed variable byte integer"


def cut_packets(buffer: bytearray) -> list[Packet]:
    """The complete packets at the front of ``buffer``, taken out of it (the rest waits for
    more bytes). Written here rather than borrowed from the client under test."""
    packets: list[Packet] = []
    while len(buffer) >= 2:
        length = shift = 0
        end = 1
        while True:
            if end >= len(buffer):
                return packets
            byte = buffer[end]
            end += 1
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
            assert shift <= 21, "malformed remaining length"
        if end + length > len(buffer):
            break
        packets.append(Packet.parse(bytes(buffer[: end + length]), end))
        del buffer[: end + length]
    return packets


Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Session:
    """One connection of the node through the proxy, a pump for each direction. What the
    flags hold is kept in order: ``release``, ``drop`` or nothing decides its fate."""

    def __init__(self, node: Streams, broker: Streams) -> None:
        self._node, self._broker = node, broker
        self.hold_acks = False  # broker->node PUBACKs wait in held_acks
        self.hold_publishes = False  # node->broker PUBLISHes never reach the broker
        self.held_acks: list[Packet] = []
        self.held_publishes: list[Packet] = []
        self.published: list[Packet] = []  # every QoS 1 PUBLISH the node sent, held or not
        self.acks_forwarded = 0
        self._tasks = [
            asyncio.create_task(self._pump(node[0], broker[1], self._upstream)),
            asyncio.create_task(self._pump(broker[0], node[1], self._downstream)),
        ]

    @property
    def unacked(self) -> int:
        """The node's QoS 1 messages of this connection whose PUBACK it was not given."""
        return len(self.published) - self.acks_forwarded

    def _upstream(self, packet: Packet) -> bool:
        if packet.kind == PUBLISH and packet.pid is not None:
            self.published.append(packet)
            if self.hold_publishes:
                self.held_publishes.append(packet)
                return False
        return True

    def _downstream(self, packet: Packet) -> bool:
        if packet.kind == PUBACK:
            if self.hold_acks:
                self.held_acks.append(packet)
                return False
            self.acks_forwarded += 1
        return True

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        forward: Callable[[Packet], bool],
    ) -> None:
        buffer = bytearray()
        try:
            while chunk := await reader.read(1 << 16):
                buffer += chunk
                for packet in cut_packets(buffer):
                    if forward(packet):
                        writer.write(packet.raw)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.abort()  # one side gone: the other sees the connection die, as through TCP

    def release(self, pid: int | None = None) -> Packet:
        """Hand the node one held PUBACK: the oldest, or the one for ``pid`` (reordering)."""
        index = 0 if pid is None else [p.pid for p in self.held_acks].index(pid)
        packet = self.held_acks.pop(index)
        self._node[1].write(packet.raw)
        self.acks_forwarded += 1
        return packet

    def drop(self, pid: int | None) -> None:
        """Lose a held PUBACK: the node never gets it."""
        self.held_acks.pop([p.pid for p in self.held_acks].index(pid))

    def abort(self) -> None:
        """Both connections reset at once; whatever is held is lost."""
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        for _, writer in (self._node, self._broker):
            writer.transport.abort()
        self.held_acks.clear()
        self.held_publishes.clear()

    async def finished(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)


class Proxy:
    """Listens on a loopback port and opens one Session to the broker per connection."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.sessions: list[Session] = []
        self.accepting = True  # when False, a connection is reset as soon as it is made
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.accepting:
            writer.transport.abort()
            return
        try:
            broker = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        session = Session((reader, writer), broker)
        self.sessions.append(session)
        await session.finished()

    async def session(self, number: int) -> Session:
        """The ``number``-th connection of the node (1: the first), once it is made."""
        await until(lambda: len(self.sessions) >= number, f"connection {number} via the proxy")
        return self.sessions[number - 1]

    def cut(self) -> None:
        """The node's network is gone: every connection reset, no new one taken."""
        self.accepting = False
        for session in self.sessions:
            session.abort()

    async def close(self) -> None:
        self.cut()
        await asyncio.gather(*(s.finished() for s in self.sessions))
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


# -- the node, life after life on one log ----------------------------------------------------
@attrs.define
class Life:
    """One run of the node process: the log, node, engine and MQTT face, on this loop."""

    node: Node
    engine: Engine
    face: MqttFace
    task: asyncio.Task[None]
    store: SqliteStore
    over: bool = False

    @property
    def client(self) -> MqttClient:
        client = self.face.client
        assert client is not None, "the face never connected"
        return client

    async def crash(self, proxy: Proxy) -> None:
        """As kill -9: the connection dies mid-flight (no DISCONNECT, nothing held reaches
        anyone), the face never runs ``stop()`` (no final publish, no offline status). Its
        cancelled run loop still saves ``acked`` once on the way out: the furthest position
        any kill -9 could have left on disk, so the tests' checks are the strictest."""
        proxy.cut()
        await self.end()

    async def end(self) -> None:
        self.over = True
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.engine.stop()  # nothing is queued: this only ends its tasks
        self.store.close()  # and the face's sibling connection with it

    async def close(self) -> None:
        """Teardown: a clean stop if the test left this life running."""
        if self.over:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.face.stop(), TIMEOUT)
        await self.end()


class Lives:
    """Starts lives of the node on one SQLite log; teardown ends those still running."""

    def __init__(self, path: Path, host: str) -> None:
        self.path, self.host = path, host
        self.all: list[Life] = []

    async def start(self, port: int) -> Life:
        """A node on the log, its face connected to ``port`` (the proxy or the broker)."""
        store = SqliteStore(self.path)
        node = Node(load_site(), store, SystemClock())
        if node.state.seq == 0:
            seed_tester(node)
        engine = Engine(node)
        await engine.start()
        face = MqttFace(engine, store.sibling(), self.host, port)
        task = asyncio.create_task(face.run(), name="mqtt-face")
        life = Life(node, engine, face, task, store)
        self.all.append(life)
        await asyncio.wait_for(face.connected.wait(), TIMEOUT)
        return life


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Mosquitto]:
    """Mosquitto as the embedded broker is set up for in-flight messages (cti/mqtt/broker.py):
    a Receive Maximum of 1000, so every batch held here is on the wire, not waiting in the
    client for a window of 20 to open."""
    workdir = tmp_path / "broker"
    workdir.mkdir()
    mosq = Mosquitto(workdir)
    mosq.configure(extra="max_inflight_messages 1000\n")
    await mosq.start()
    try:
        yield mosq
    finally:
        mosq.stop()


@pytest.fixture
async def proxy(broker: Mosquitto) -> AsyncIterator[Proxy]:
    proxy = Proxy(broker.host, broker.port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture
async def lives(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[Lives]:
    node_lives = Lives(tmp_path / "node1.db", broker.host)
    try:
        yield node_lives
    finally:
        for life in node_lives.all:
            await life.close()


@pytest.fixture
async def subscriber(broker: Mosquitto) -> AsyncIterator[CtiClient]:
    """Everything under cti/node1/, connected straight to the broker before the first life."""
    async with CtiClient(broker.host, broker.port, name="subscriber") as client:
        yield client


# -- steps -----------------------------------------------------------------------------------
@attrs.frozen
class Sent:
    """A batch the outbox put on the wire."""

    seqs: tuple[int, ...]
    last: Packet  # its last message: the one whose PUBACK the outbox waits for

    @property
    def seq(self) -> int:
        return self.seqs[-1]


async def settle(life: Life, subscriber: CtiClient, start: int = 0) -> None:
    """Until the face is idle: everything committed acknowledged, nothing in flight, and the
    retained status caught up with it (the status refresh then sends nothing while packets
    are held, so every message the proxy sees belongs to a batch)."""
    seq = life.node.state.seq
    await subscriber.wait_for(
        STATUS, lambda d: d["state"] == "online" and d.get("seq") == seq, start=start
    )
    await until(
        lambda: life.face.outbox.acked == seq and life.client.inflight == 0,
        "the face has everything acknowledged",
    )


async def send_batch(life: Life, session: Session, command: Command) -> Sent:
    """Commit ``command`` and wait until the outbox has put its batch through the proxy.
    Call it only while no PUBACK is on its way to the node: then the client's count of
    unacknowledged messages and the proxy's agree exactly when the whole batch has passed."""
    client = life.client
    before = client.inflight
    outcome = await life.engine.execute(command)
    assert isinstance(outcome, Accepted), outcome
    # The outbox publishes a batch in one synchronous step when it sees the commit.
    await until(lambda: client.inflight > before, "the outbox published the batch")
    await until(lambda: session.unacked == client.inflight, "the batch passed the proxy")
    sent = Sent(tuple(e.seq for e in outcome.events), session.published[-1])
    assert sent.seq == life.node.state.seq  # nothing else was committed meanwhile
    assert sent.last.topic != STATUS
    return sent


async def hand_over(session: Session, client: MqttClient) -> Packet:
    """Release the oldest held PUBACK and wait until the client has taken it."""
    waiting = client.inflight
    released = session.release()
    await until(lambda: client.inflight == waiting - 1, "the client took the PUBACK")
    return released


async def three_batches(life: Life, session: Session) -> tuple[Sent, Sent, Sent]:
    """A call made (3 events), answered (1), cleared (2): one commit, one batch each."""
    made = await send_batch(life, session, c.MakeCall(calling="330", called="331"))
    answered = await send_batch(life, session, c.AnswerCall(call=CALL, device="331"))
    cleared = await send_batch(life, session, c.ClearConnection(call=CALL, device="330"))
    assert [len(b.seqs) for b in (made, answered, cleared)] == [3, 1, 2]
    return made, answered, cleared


def event_seqs(subscriber: CtiClient, start: int = 0) -> list[int]:
    """The seqs of the event batches the subscriber got (from message ``start`` on)."""
    docs = [m.doc for m in subscriber.messages[start:] if m.topic == EVENTS]
    return [event["seq"] for doc in docs for event in doc]


def first_seen(seqs: Iterable[int]) -> list[int]:
    """What a subscriber keeps when it drops a seq it has already seen."""
    return list(dict.fromkeys(seqs))  # a dict keeps the first insertion of each key


async def assert_all_delivered(life: Life, subscriber: CtiClient) -> None:
    """Every event in the log reached the subscriber at least once; after dropping repeats,
    in seq order on the batch topic and on every device and call topic."""
    expected = [r.seq for r in life.store.read(1) if r.kind not in INTERNAL_KINDS]
    await until(
        lambda: set(expected) <= set(event_seqs(subscriber)), "every event at the subscriber"
    )
    assert first_seen(event_seqs(subscriber)) == expected
    for pattern in PER_EVENT:
        for topic in {m.topic for m in subscriber.on(pattern)}:
            seqs = first_seen(d["seq"] for d in subscriber.docs(topic))
            assert seqs == sorted(seqs), (topic, seqs)


async def restart(lives: Lives, broker: Mosquitto, subscriber: CtiClient) -> tuple[Life, int]:
    """A new life on the same log, straight to the broker; (it, the subscriber's mark)."""
    mark = len(subscriber.messages)
    life = await lives.start(broker.port)
    await settle(life, subscriber, start=mark)
    return life, mark


# -- the scenarios ---------------------------------------------------------------------------
async def test_only_the_first_batchs_ack_moves_the_position_past_it(
    broker: Mosquitto, proxy: Proxy, lives: Lives, subscriber: CtiClient
) -> None:
    """Three batches in flight, the broker has them all, its PUBACKs are held. Handed over
    one at a time, none but the first batch's last PUBACK moves the position, and that one
    to exactly the batch's last seq; a crash then leaves that position, and the new life
    publishes again from the seq after it."""
    life = await lives.start(proxy.port)
    await settle(life, subscriber)
    session = await proxy.session(1)
    session.hold_acks = True
    before = life.face.outbox.acked
    first, _, third = await three_batches(life, session)
    # The broker took all three (the subscriber has them); the node knows of none.
    await subscriber.wait_for(EVENTS, lambda doc: doc[-1]["seq"] == third.seq)
    assert life.face.outbox.acked == before

    while (await hand_over(session, life.client)).pid != first.last.pid:
        assert life.face.outbox.acked == before, "moved before the batch's last PUBACK"
        assert stored_position(lives.path) <= before
    assert life.face.outbox.acked == first.seq
    await until(lambda: stored_position(lives.path) == first.seq, "the saver stored the position")
    assert session.held_acks, "later batches' PUBACKs are still held"

    await life.crash(proxy)
    # Never beyond: the PUBACKs of the later batches were lost with the connection.
    assert stored_position(lives.path) == first.seq

    life, mark = await restart(lives, broker, subscriber)
    online = await subscriber.wait_for(STATUS, lambda d: d["state"] == "online", start=mark)
    assert online["seq"] == first.seq
    assert event_seqs(subscriber, mark)[0] == first.seq + 1  # resumed where it stood
    await assert_all_delivered(life, subscriber)
    await until(lambda: stored_position(lives.path) == third.seq, "the position caught up")


async def test_batches_the_broker_never_took_are_not_covered_by_the_position(
    broker: Mosquitto, proxy: Proxy, lives: Lives, subscriber: CtiClient
) -> None:
    """The broker takes the first batch; the proxy keeps the next two from it. The first
    batch's acknowledgement arrives while they are outstanding: the position moves to the
    first batch and no further, a crash leaves it there, and the new life publishes the two
    (the subscriber sees them for the first time)."""
    life = await lives.start(proxy.port)
    await settle(life, subscriber)
    session = await proxy.session(1)
    session.hold_acks = True
    first = await send_batch(life, session, c.MakeCall(calling="330", called="331"))
    session.hold_publishes = True
    second = await send_batch(life, session, c.AnswerCall(call=CALL, device="331"))
    third = await send_batch(life, session, c.ClearConnection(call=CALL, device="330"))
    await subscriber.wait_for(EVENTS, lambda doc: doc[-1]["seq"] == first.seq)
    held = {p.pid for p in session.held_publishes}
    assert {second.last.pid, third.last.pid} <= held

    while session.held_acks:  # only the first batch's: the broker has nothing else
        session.release()
    await until(lambda: life.face.outbox.acked == first.seq, "the first batch acknowledged")
    await until(lambda: stored_position(lives.path) == first.seq, "the saver stored the position")

    await life.crash(proxy)
    assert stored_position(lives.path) == first.seq
    assert not set(second.seqs + third.seqs) & set(event_seqs(subscriber))

    life, mark = await restart(lives, broker, subscriber)
    assert event_seqs(subscriber, mark)[0] == first.seq + 1
    await assert_all_delivered(life, subscriber)
    await until(lambda: stored_position(lives.path) == third.seq, "the position caught up")


@pytest.mark.parametrize("fault", ["reordered", "dropped"])
async def test_a_puback_out_of_order_costs_the_connection_not_the_position(
    broker: Mosquitto, proxy: Proxy, lives: Lives, subscriber: CtiClient, fault: str
) -> None:
    """With the first batch acknowledged and two more in flight, the third batch's last
    PUBACK comes before the second's ("reordered"), or the second's is lost ("dropped") and
    the third's follow. Taking either as covering the second batch would move the position
    past what the broker confirmed: the client ends the connection instead, the position
    stays at the first batch, the face publishes again from there on its next connection,
    and after a crash and restart nothing is missing."""
    life = await lives.start(proxy.port)
    await settle(life, subscriber)
    session = await proxy.session(1)
    session.hold_acks = True
    first, second, third = await three_batches(life, session)
    await subscriber.wait_for(EVENTS, lambda doc: doc[-1]["seq"] == third.seq)
    while session.release().pid != first.last.pid:
        pass
    await until(lambda: life.face.outbox.acked == first.seq, "the first batch acknowledged")

    proxy.accepting = False  # the face reconnects at once: look before it can
    old = life.client
    if fault == "reordered":
        session.release(third.last.pid)
    else:
        while session.held_acks[0].pid != second.last.pid:
            session.release()
        session.drop(second.last.pid)
        session.release()  # the third batch's first PUBACK, with the second's missing
    assert old.closed is not None
    await until(old.closed.done, "the client ended the connection")
    assert "out of order" in str(old.closed.exception())
    assert life.face.outbox.acked == first.seq
    await until(lambda: not life.face.connected.is_set(), "the face saw the connection end")
    assert stored_position(lives.path) == first.seq

    mark = len(subscriber.messages)
    proxy.accepting = True
    await proxy.session(2)  # passes everything
    await settle(life, subscriber, start=mark)
    assert event_seqs(subscriber, mark)[0] == first.seq + 1
    await until(lambda: stored_position(lives.path) == third.seq, "the saver stored the position")

    await life.crash(proxy)
    assert stored_position(lives.path) == third.seq
    life, _ = await restart(lives, broker, subscriber)
    await assert_all_delivered(life, subscriber)
