"""Fixtures of the MQTT integration tests.

- ``broker``: a private mosquitto (MQTT 5) on a free loopback port with its own config and
  persistence off, which a test may SIGKILL and restart on the same port.
- ``node_face``: an in-process node (SQLite log in ``tmp_path``, system clock), its engine and
  the MQTT face running against ``broker``.
- :class:`CtiClient`: an independent MQTT client (aiomqtt/paho) as a UI would use it: it
  collects everything under ``cti/node1/#`` and does request/response with MQTT 5 Response
  Topic + Correlation Data, or MQTT 3.1.1 style with ``reply_to`` in the payload.

Nothing here sleeps for timing: every wait is for a condition, bounded by a timeout. The
waits use ``asyncio.timeout``, not ``asyncio.wait_for``: on Python 3.11 ``wait_for`` returns the
result instead of raising when its task is cancelled in the same loop iteration as the awaited
thing completes (fixed in 3.12), and a cancelled load worker then ran on forever
(tests/mqtt/test_client_harness.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import getpass
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import aiomqtt
import attrs
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cti.accounts.commands import AccountSeed, SeedAccounts
from cti.accounts.model import Role
from cti.accounts.passwords import hash_password
from cti.app.clock import SystemClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node
from cti.mqtt.broker import free_port, mosquitto_binary, wait_listening
from cti.mqtt.client import MqttClient
from cti.mqtt.face.service import MqttFace
from cti.mqtt.passwords import mosquitto_hash
from cti.site.model import Site
from cti.store import SqliteStore

NODE = "node1"
BASE = f"cti/{NODE}"
TIMEOUT = 5.0  # seconds any single awaited condition may take before the test fails
REPO = Path(__file__).resolve().parents[2]
TESTER = "tester"  # the integrator account the tests' clients sign in as
TESTER_PASSWORD = "Tester-2026!"
V5 = aiomqtt.ProtocolVersion.V5
SEEDED = 2  # the internal events of seeding the tester: the first published seq is 3


@functools.cache
def tester_seed() -> AccountSeed:
    """The tests' integrator account, hashed once per session (hashing is slow on purpose)."""
    return AccountSeed(
        name=TESTER,
        display_name="Test harness",
        role=Role.INTEGRATOR,
        devices=(),
        licences=frozenset(),
        password=hash_password(TESTER_PASSWORD),
        broker_password=mosquitto_hash(TESTER_PASSWORD),
        must_change=False,
    )


def seed_tester(node: Node) -> None:
    """Seed the tests' integrator (SEEDED internal events)."""
    assert node.execute(SeedAccounts(accounts=(tester_seed(),))).ok
    assert node.state.seq == SEEDED


def site_with_tester(directory: Path) -> Path:
    """The example office with the tests' integrator as its only account (its [[users]]
    would add seeding events before the tests' first seq: only SEEDED ones here)."""
    text = (REPO / "cti" / "sites" / "example.toml").read_text()
    head, _, rest = text.partition("[[users]]")
    rest = rest[rest.index("[csta]") :] if "[csta]" in rest else ""
    tester = (
        f'[[users]]\nname = "{TESTER}"\nrole = "integrator"\n'
        f'password = "{TESTER_PASSWORD}"\nmust_change = false\n\n'
    )
    path = directory / "site-with-tester.toml"
    path.write_text(head + tester + rest)
    return path


# -- the broker ----------------------------------------------------------------------------
class Mosquitto:
    """A private mosquitto child process; ``kill`` (SIGKILL) and ``start`` reuse the port."""

    kind = "mosquitto"
    mqtt5 = True

    def __init__(self, workdir: Path) -> None:
        binary = mosquitto_binary()
        if binary is None:  # a missing broker fails the suite, it never skips it
            pytest.fail("mosquitto is not installed: apt-get install -y mosquitto (see README)")
        self.binary = binary
        self.host = "127.0.0.1"
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        self.configure()
        self.log = workdir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def configure(self, *, allow_anonymous: bool = True, extra: str = "") -> None:
        """Write the config the next :meth:`start` uses (persistence always off); ``extra``
        is appended (say, a password_file or a second listener)."""
        self.conf.write_text(
            f"listener {self.port} {self.host}\n"
            # Started by root, mosquitto drops to the user "mosquitto", who cannot read files
            # in a private directory (password files, keys): stay who started it.
            f"user {getpass.getuser()}\n"
            f"allow_anonymous {'true' if allow_anonymous else 'false'}\n"
            "persistence false\n"
            "max_queued_messages 100000\n"
            "set_tcp_nodelay true\n" + extra
        )

    async def start(self) -> None:
        assert self.proc is None, "already running"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.conf), "-v"], stdout=out, stderr=out
            )
        await wait_listening(self.host, self.port, timeout=TIMEOUT)

    @property
    def passwords(self) -> Path:
        """The password file :meth:`signed_in_only` writes (rewrite it and SIGHUP to change)."""
        return self.conf.parent / "passwords"

    async def signed_in_only(self, accounts: dict[str, str], *, online: str | None = None) -> None:
        """Restart knowing only ``accounts`` (user: password, in a password file), no
        anonymous clients; ``online``: then, signed in as the first account, a node of that
        name's retained online status (a phone-sim link starts without waiting for it)."""
        passwords = self.passwords
        passwords.write_text("".join(f"{u}:{mosquitto_hash(pw)}\n" for u, pw in accounts.items()))
        self.stop()
        self.configure(allow_anonymous=False, extra=f"password_file {passwords}\n")
        await self.start()
        if online is not None:
            user, password = next(iter(accounts.items()))
            async with MqttClient(
                self.host, self.port, "st", username=user, password=password
            ) as client:
                await retain_online(client, online)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, every connection drops, retained messages are lost."""
        assert self.proc is not None, "not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(TIMEOUT)
        self.proc = None

    async def restart(self) -> None:
        """A fresh mosquitto on the same port (after :meth:`kill`)."""
        if self.proc is not None:
            self.kill()
        await self.start()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
            self.proc = None


async def retain_online(client: MqttClient, node: str, state: str = "online") -> None:
    """Publish node ``node``'s retained status (``state``: online, or offline as a stopped
    node's) and wait for the broker to take it."""
    acked = asyncio.Event()
    body = f'{{"state":"{state}"}}'.encode()
    client.publish(f"cti/{node}/status", body, retain=True, on_ack=acked.set)
    await asyncio.wait_for(acked.wait(), 10)


class Nats:
    """A private nats-server whose MQTT listener (3.1.1 only, QoS 0/1, retained messages in
    JetStream) is the broker; the same ``start``/``kill``/``restart``/``stop`` as
    :class:`Mosquitto`. Killed, it loses its retained messages too (its store is wiped on
    restart), as a mosquitto without persistence does."""

    kind = "nats"
    mqtt5 = False

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not os.access(binary, os.X_OK):  # a missing broker fails the suite, never skips it
            pytest.fail("nats-server is not installed: apt-get install -y nats-server")
        self.binary = binary
        self.host = "127.0.0.1"
        self.port = free_port()
        self.store = workdir / "jetstream"
        self.conf = workdir / "nats.conf"
        self.conf.write_text(
            f'server_name: "test-{self.port}"\n'
            f"listen: {self.host}:{free_port()}\n"
            f'jetstream {{ store_dir: "{self.store}" }}\n'
            f'mqtt {{ listen: "{self.host}:{self.port}" }}\n'
        )
        self.log = workdir / "nats.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        assert self.proc is None, "already running"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.conf)], stdout=out, stderr=out
            )
        await wait_listening(self.host, self.port, timeout=TIMEOUT)

    def kill(self) -> None:
        assert self.proc is not None, "not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(TIMEOUT)
        self.proc = None
        shutil.rmtree(self.store, ignore_errors=True)

    async def restart(self) -> None:
        if self.proc is not None:
            self.kill()
        await self.start()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
            self.proc = None


Broker = Mosquitto | Nats
BROKERS = {"mosquitto": Mosquitto, "nats": Nats}


async def running_broker(kind: str, tmp_path: Path) -> AsyncIterator[Broker]:
    workdir = tmp_path / "broker"
    workdir.mkdir()
    server = BROKERS[kind](workdir)
    await server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=sorted(BROKERS))
async def broker(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Broker]:
    """Each test of the broker-neutral contract runs against Mosquitto (MQTT 5) and a
    nats-server (MQTT 3.1.1 only): specs/mqtt.md says what differs."""
    async for server in running_broker(request.param, tmp_path):
        yield server


@pytest.fixture
async def mosquitto(tmp_path: Path) -> AsyncIterator[Mosquitto]:
    """For tests of what only Mosquitto does (its config, password files, ACLs, TLS)."""
    async for server in running_broker("mosquitto", tmp_path):
        assert isinstance(server, Mosquitto)
        yield server


# -- the node with its MQTT face ------------------------------------------------------------
@attrs.define
class NodeFace:
    site: Site
    node: Node
    engine: Engine
    face: MqttFace
    task: asyncio.Task[None]
    store: SqliteStore
    reader: SqliteStore
    path: Path


@pytest.fixture
async def node_face(broker: Broker, tmp_path: Path) -> AsyncIterator[NodeFace]:
    site = load_site()
    path = tmp_path / f"{site.node}.db"
    store = SqliteStore(path)
    reader = store.sibling()
    node = Node(site, store, SystemClock())
    seed_tester(node)
    engine = Engine(node)
    await engine.start()
    face = MqttFace(engine, reader, broker.host, broker.port)
    task = asyncio.create_task(face.run(), name="mqtt-face")
    try:
        await asyncio.wait_for(face.connected.wait(), TIMEOUT)
        yield NodeFace(site, node, engine, face, task, store, reader, path)
    finally:
        await asyncio.wait_for(face.stop(), TIMEOUT)
        if broker.proc is not None:
            # With the broker up, a stopped face leaves its run loop by itself.
            done, _ = await asyncio.wait([task], timeout=TIMEOUT)
            assert task in done, "MqttFace.run did not return after stop()"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.stop()
        store.close()
        reader.close()


async def cut_face_connection(nf: NodeFace) -> None:
    """Drop the face's broker connection as a network failure would (the broker publishes
    its will); return once it has connected again by itself."""
    old = nf.face.client
    assert old is not None and old._writer is not None
    old._writer.transport.abort()
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while nf.face.client is old or not nf.face.connected.is_set():
        assert asyncio.get_running_loop().time() < deadline, "the face did not reconnect"
        await asyncio.sleep(0.01)  # polling a condition, bounded: not a timing sleep


# -- the test client -------------------------------------------------------------------------
class SubscriptionRefused(AssertionError):
    """The broker's SUBACK refused a filter of a :class:`CtiClient`."""


@attrs.frozen
class Msg:
    topic: str
    payload: bytes
    retain: bool
    correlation: bytes | None

    @property
    def doc(self) -> Any:
        return json.loads(self.payload) if self.payload else None


def _echoed_correlation(payload: bytes) -> bytes | None:
    """The ``correlation`` an MQTT 3.1.1 reply echoes in its payload."""
    try:
        doc = json.loads(payload)
    except ValueError:
        return None
    corr = doc.get("correlation") if isinstance(doc, dict) else None
    return corr.encode() if isinstance(corr, str) else None


def matches(topic: str, pattern: str) -> bool:
    """MQTT topic filter matching (``+`` one level, ``#`` the rest)."""
    t, f = topic.split("/"), pattern.split("/")
    for i, part in enumerate(f):
        if part == "#":
            return True
        if i >= len(t) or (part != "+" and part != t[i]):
            return False
    return len(t) == len(f)


class CtiClient:
    """A UI-like MQTT client on aiomqtt. Use as ``async with CtiClient(host, port) as c``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        filters: Iterable[str] = (f"{BASE}/#",),
        version: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5,
        name: str = "ui",
        user: str = TESTER,
        password: str | None = None,
        tls: Path | None = None,
        node: str = NODE,
        qos: int = 1,
    ) -> None:
        self.host, self.port, self.version = host, port, version
        self.user, self.password, self.tls = user, password, tls
        # On a shared broker `331@branch` signs in; its topics name the account, 331.
        self.account, self.base = user.partition("@")[0], f"cti/{node}"
        self.filters = list(filters)
        self.qos = qos  # of every subscription (the inbox's too)
        self.id = f"test-{name}-{uuid.uuid4().hex[:8]}"
        self.inbox = f"{self.base}/users/{self.account}/inbox/{self.id}"
        self.messages: list[Msg] = []
        # Replies by correlation, as they arrive: a request finds its own at once, however
        # many messages came (scanning them all per waiter and message was quadratic and
        # starved the loop of a test with thousands of messages and dozens of requests).
        self.replies: dict[bytes, Msg] = {}
        self._changed = asyncio.Condition()
        self._client: aiomqtt.Client | None = None
        self._reader: asyncio.Task[None] | None = None
        self.lost: BaseException | None = None

    def _new_client(self) -> aiomqtt.Client:
        return aiomqtt.Client(
            self.host,
            self.port,
            identifier=self.id,
            protocol=self.version,
            timeout=TIMEOUT,
            username=self.user if self.password is not None else None,
            password=self.password,
            tls_params=None if self.tls is None else aiomqtt.TLSParameters(ca_certs=str(self.tls)),
        )

    async def __aenter__(self) -> CtiClient:
        self._client = self._new_client()
        try:
            await self._client.__aenter__()
        except aiomqtt.MqttCodeError as exc:
            # A 3.1.1-only broker (NATS): as a UI would, fall back (cti.client does too).
            if getattr(exc.rc, "value", exc.rc) != 0x84 or self.version != V5:
                raise
            self.version = aiomqtt.ProtocolVersion.V311
            self._client = self._new_client()
            await self._client.__aenter__()
        self._reader = asyncio.create_task(self._read())
        for pattern in [self.inbox, *self.filters]:
            granted = await self._client.subscribe(pattern, qos=self.qos)
            # A refused filter (a NATS member without its JetStream consumer) would leave
            # the test waiting for what never comes: say so at once.
            codes = [getattr(code, "value", code) for code in granted]
            if any(code >= 0x80 for code in codes):
                await self.__aexit__(None, None, None)
                raise SubscriptionRefused(f"{pattern}: {codes}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self._client.__aexit__(None, None, None)

    @property
    def client(self) -> aiomqtt.Client:
        assert self._client is not None
        return self._client

    async def _read(self) -> None:
        try:
            async for message in self.client.messages:
                props = message.properties
                corr = getattr(props, "CorrelationData", None) if props is not None else None
                payload = message.payload
                assert isinstance(payload, bytes | bytearray)
                if corr is None and str(message.topic) == self.inbox:
                    corr = _echoed_correlation(payload)
                msg = Msg(str(message.topic), bytes(payload), bool(message.retain), corr)
                async with self._changed:
                    self.messages.append(msg)
                    if corr is not None and msg.topic == self.inbox:
                        self.replies.setdefault(bytes(corr), msg)
                    self._changed.notify_all()
        except aiomqtt.MqttError as exc:
            self.lost = exc
            async with self._changed:
                self._changed.notify_all()

    # -- reading what arrived --------------------------------------------------------------
    def on(self, pattern: str) -> list[Msg]:
        """Messages received on topics matching ``pattern``, in arrival order."""
        return [m for m in self.messages if matches(m.topic, pattern)]

    def docs(self, pattern: str) -> list[Any]:
        return [m.doc for m in self.on(pattern)]

    async def wait_for(
        self,
        pattern: str,
        predicate: Callable[[Any], bool] = lambda doc: True,
        *,
        start: int = 0,
        timeout: float = TIMEOUT,
    ) -> Any:
        """The decoded payload of the first message at index >= ``start`` on ``pattern`` that
        satisfies ``predicate``, waiting for it to arrive."""
        found: list[Msg] = []

        def check() -> bool:
            for m in self.messages[start:]:
                if matches(m.topic, pattern) and predicate(m.doc):
                    found.append(m)
                    return True
            if self.lost is not None:
                raise AssertionError(f"connection lost: {self.lost}")
            return False

        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(check)
            except TimeoutError:
                seen = [m.payload[:200] for m in self.on(pattern)][-5:]
                raise AssertionError(
                    f"nothing on {pattern} matched in {timeout} s; last: {seen}"
                ) from None
        return found[0].doc

    async def wait_for_msg(
        self, predicate: Callable[[Msg], bool], *, timeout: float = TIMEOUT
    ) -> Msg:
        found: list[Msg] = []

        def check() -> bool:
            found.extend(m for m in self.messages if predicate(m))
            if not found and self.lost is not None:
                raise AssertionError(f"connection lost: {self.lost}")
            return bool(found)

        async with self._changed, asyncio.timeout(timeout):
            await self._changed.wait_for(check)
        return found[0]

    async def reply(self, correlation: bytes, *, timeout: float = TIMEOUT) -> Msg:
        """The reply with ``correlation`` on this client's inbox, waiting for it."""

        def check() -> bool:
            if correlation not in self.replies and self.lost is not None:
                raise AssertionError(f"connection lost: {self.lost}")
            return correlation in self.replies

        async with self._changed, asyncio.timeout(timeout):
            await self._changed.wait_for(check)
        return self.replies[correlation]

    # -- requests ----------------------------------------------------------------------------
    async def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry: int | None = None,
        retain: bool = False,
    ) -> None:
        props = None
        if self.version == aiomqtt.ProtocolVersion.V5 and (response_topic or correlation):
            props = Properties(PacketTypes.PUBLISH)
            if response_topic is not None:
                props.ResponseTopic = response_topic
            if correlation is not None:
                props.CorrelationData = correlation
            if expiry is not None:
                props.MessageExpiryInterval = expiry
        await self.client.publish(topic, payload, qos=1, retain=retain, properties=props)

    async def raw_request(
        self, topic: str, payload: bytes, *, timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        """Publish ``payload`` to ``topic`` with an MQTT 5 reply address (3.1.1: in the JSON
        object ``payload``); the decoded reply."""
        if self.version != V5:
            # The reply address joins the object as it is (its size and spacing are part
            # of some tests), before the closing brace.
            body = payload.rstrip()
            assert body.endswith(b"}"), "over MQTT 3.1.1 a request must be a JSON object"
            hexed = uuid.uuid4().hex
            extra = json.dumps({"reply_to": self.inbox, "correlation": hexed})[1:-1].encode()
            comma = b"" if body[:-1].rstrip().endswith(b"{") else b","
            await self.publish(topic, body[:-1] + comma + extra + b"}")
            msg = await self.reply(hexed.encode(), timeout=timeout)
            doc = msg.doc
            assert isinstance(doc, dict)
            del doc["correlation"]  # echoed for us; the rest is what MQTT 5 would get
            return doc
        corr = uuid.uuid4().bytes
        await self.publish(topic, payload, response_topic=self.inbox, correlation=corr)
        msg = await self.reply(corr, timeout=timeout)
        doc = msg.doc
        assert isinstance(doc, dict)
        return doc

    def topic(self, service: str, *, secure: bool = False) -> str:
        """This client's request topic for ``service`` (specs/security.md)."""
        return f"{self.base}/users/{self.account}/{'secure/' if secure else ''}requests/{service}"

    async def request(self, service: str, **fields: Any) -> dict[str, Any]:
        """An MQTT 5 request on this client's own request topic; the decoded reply."""
        return await self.raw_request(self.topic(service), json.dumps(fields).encode())

    async def ok(self, service: str, **fields: Any) -> dict[str, Any]:
        """A request that must succeed; the reply."""
        reply = await self.request(service, **fields)
        assert reply.get("ok") is True, f"{service} {fields} refused: {reply}"
        return reply

    async def request_in_payload(
        self, service: str, correlation: Any, *, topic: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """An MQTT 3.1.1-style request: ``reply_to`` and ``correlation`` in the payload."""
        topic = topic or self.topic(service)
        body = {**fields, "reply_to": self.inbox, "correlation": correlation}
        await self.publish(topic, json.dumps(body).encode())
        doc = await self.wait_for(self.inbox, lambda d: d.get("correlation") == correlation)
        assert isinstance(doc, dict)
        return doc

    async def replay(self, from_seq: int, limit: int | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"fromSeq": from_seq}
        if limit is not None:
            fields["limit"] = limit
        return await self.raw_request(self.topic("replay"), json.dumps(fields).encode())

    async def replay_all(self, from_seq: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Every event from ``from_seq`` to the end of the log, page by page."""
        events: list[dict[str, Any]] = []
        while True:
            reply = await self.replay(from_seq, limit)
            assert reply["ok"] is True, reply
            result = reply["result"]
            events += result["events"]
            assert result["nextSeq"] > from_seq or result["complete"], result
            from_seq = result["nextSeq"]
            if result["complete"]:
                return events


async def retained(
    host: str,
    port: int,
    pattern: str,
    expected: Iterable[str],
    *,
    version: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5,
    password: str | None = None,
) -> dict[str, Any]:
    """What a fresh subscriber to ``pattern`` gets as retained messages: {topic: doc}, once
    every topic of ``expected`` has arrived (signed in as the tester if ``password``)."""
    want = set(expected)
    async with CtiClient(
        host, port, filters=[pattern], version=version, name="late", password=password
    ) as late:
        await late.wait_for_msg(lambda _: want <= {m.topic for m in late.on(pattern)})
        msgs = late.on(pattern)
        assert all(m.retain for m in msgs if m.topic in want), "expected retained messages"
        return {m.topic: m.doc for m in msgs}


async def retained_states(
    host: str,
    port: int,
    site: Site,
    *,
    version: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5,
    password: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The retained ``devices/{d}/state`` of every configured device, as a late UI sees it."""
    topics = {f"{BASE}/devices/{d}/state": d for d in site.devices}
    got = await retained(
        host, port, f"{BASE}/devices/+/state", topics, version=version, password=password
    )
    return {topics[t]: doc for t, doc in got.items() if t in topics}


@pytest.fixture
async def ui(broker: Broker, node_face: NodeFace) -> AsyncIterator[CtiClient]:
    """A client subscribed to everything of node1, connected after the face is online."""
    async with CtiClient(broker.host, broker.port) as client:
        yield client


# -- `cti serve` as a child process ----------------------------------------------------------
class Server:
    """``python -m cti.cli serve ...`` as a child process; stderr is collected line by line."""

    def __init__(self, *args: str) -> None:
        self.args = [sys.executable, "-m", "cti.cli", "serve", *args]
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "NO_COLOR": "1"}
        # No /healthz on the default port 9180 unless a test asks for one: nodes of the tests
        # must not collide with each other or with a node the developer runs.
        env.setdefault("CTI_HTTP_PORT", "0")
        env.setdefault("CTI_WEB_PORT", "0")  # nor the web client on 8180
        self.proc = await asyncio.create_subprocess_exec(
            *self.args,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._pump = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            async with self._changed:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()

    async def wait_line(self, predicate: Callable[[str], bool], timeout: float = 15) -> str:
        found: list[str] = []

        def check() -> bool:
            found.extend(line for line in self.lines if predicate(line))
            return bool(found) or (self.proc is not None and self.proc.returncode is not None)

        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(check)
            except TimeoutError:
                raise AssertionError(f"no such line in {timeout} s:\n{self.output}") from None
        assert found, f"server exited ({self.proc and self.proc.returncode}):\n{self.output}"
        return found[0]

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = 15) -> int:
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._pump is not None:
            await asyncio.wait_for(self._pump, timeout)
        return code

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._pump is not None:
            await asyncio.gather(self._pump, return_exceptions=True)


@pytest.fixture
async def servers() -> AsyncIterator[list[Server]]:
    """Servers a test starts are appended here and killed at teardown if still running."""
    started: list[Server] = []
    yield started
    for server in started:
        await server.kill()
