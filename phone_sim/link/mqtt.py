"""Phones in their own process, talking to a running ``cti serve`` through the broker.

Events come from the node-wide batched topic ``cti/{node}/events`` (one message per commit
batch, deduplicated by ``seq``), states from the retained ``devices/+/state`` topics. After a
reconnect the events missed meanwhile are fetched with ``replay``, so a phone never misses a
hang-up."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Callable

import orjson
import structlog

from cti.mqtt.client import (
    ConnectionLost,
    ConnectionRefused,
    Endpoint,
    MqttClient,
    SubscriptionRefused,
)
from cti.mqtt.client import protocol as p
from cti.mqtt.signin import account_of
from cti.mqtt.topics import Topics
from phone_sim.link.base import Doc, EventsListener, StateListener, Unreachable

log = structlog.get_logger(__name__)
REQUEST_EXPIRY = 10  # seconds: a request stuck in the broker is dropped, not run late
TIMEOUT = 10.0
STATUS_WAIT = TIMEOUT  # seconds a connect waits for the node's retained status (`_synced`)
DEFAULT_USER = "phone-sim"  # the example office's integrator account for phone_sim


class MqttLink:
    def __init__(self, endpoint: Endpoint, node: str = "node1", *, name: str = "sim") -> None:
        # phone_sim acts for every phone: it signs in as an integrator (specs/security.md).
        self.endpoint, self.node = endpoint, node
        self.user = endpoint.username or DEFAULT_USER
        self.account = account_of(self.user)  # `phone-sim@branch` on a shared broker
        self.topics = Topics(node)
        self.id = f"phone-sim-{name}-{uuid.uuid4().hex[:8]}"
        self.inbox = f"{self.topics.inbox(self.account)}/{self.id}"
        self.version = 5
        self.last_seq = 0
        self._member = 0  # which member of the broker cluster (endpoint.members) to dial
        self._client: MqttClient | None = None
        self._on_events: EventsListener | None = None
        self._on_state: StateListener | None = None
        self._pending: dict[bytes, asyncio.Future[Doc]] = {}
        self._ids = itertools.count(1)
        self._synced: asyncio.Event | None = None
        # The node's state in its retained status, cti/{node}/status ("online", "offline";
        # None: none arrived, no node of that name (a wrong --node) or one never run here).
        self.node_state: str | None = None
        self._closing = False
        self._keeper: asyncio.Task[None] | None = None
        # Messages on topics the link does not own (the physical-phone inputs).
        self.on_other: Callable[[str, bytes], None] | None = None
        self.connects = 0  # how many times connected: retained outputs are republished after
        self._extra: list[str] = []  # topics subscribed for on_other, again on every connect
        # While catching up after a reconnect, live batches wait here so nothing is skipped.
        self._held: list[Doc] | None = None
        # The broker refused our account on a reconnect (a password changed meanwhile, the
        # account removed): no retry can help, so every request says so from then on.
        self._refused: ConnectionRefused | None = None

    def listen(self, on_events: EventsListener, on_state: StateListener) -> None:
        self._on_events, self._on_state = on_events, on_state

    @property
    def node_online(self) -> bool:
        """The node's retained status says online (read while starting, kept up to date)."""
        return self.node_state == "online"

    async def start(self) -> None:
        """Connect to the first member that takes us; raises the broker's ConnectionRefused
        (at once when it is about our account: every member would say the same), the last
        member's SubscriptionRefused (it took us, but not our subscriptions), else
        Unreachable with the last member's error."""
        for tried in range(1, len(self.endpoint.members) + 1):
            try:
                await self._connect()
                break
            except ConnectionRefused as exc:
                if exc.credentials or tried == len(self.endpoint.members):
                    raise
            except SubscriptionRefused:  # the broker answered: not "cannot reach"
                if tried == len(self.endpoint.members):
                    raise
            except (OSError, TimeoutError, ConnectionError, p.ProtocolError) as exc:
                if tried == len(self.endpoint.members):
                    raise Unreachable(exc) from exc
        self._keeper = asyncio.create_task(self._keep_connected(), name="phone-sim-link")

    async def _connect(self) -> None:
        member = self.endpoint.member(self._member)
        client = member.client(self.id, on_message=self._on_message, version=self.version)
        try:
            await client.connect(TIMEOUT)  # falls back to 3.1.1 by itself (NATS's MQTT listener)
        except (OSError, TimeoutError, ConnectionError, p.ProtocolError):
            self._member += 1  # the next member of a broker cluster next time
            raise
        self.version = client.version
        self._client = client
        self.connects += 1
        self._synced = asyncio.Event()
        try:
            # Refused, the link would be deaf to replies or events: not connected, then.
            await client.subscribe(
                [(self.inbox, 1), (self.topics.events, 1), (self.topics.device_states, 1)]
                + [(t, 1) for t in self._extra],
                required=True,
            )
            # Retained states of the subscription above are sent before the broker handles
            # the next SUBSCRIBE, so the retained status arriving means every state has.
            await client.subscribe([(self.topics.status, 1)], required=True)
        except (OSError, TimeoutError, ConnectionError, p.ProtocolError):
            self._member += 1
            if client.connected:  # connected, but a subscription refused (or unanswered)
                with contextlib.suppress(OSError, TimeoutError, ConnectionError):
                    await client.disconnect()
            raise
        with contextlib.suppress(TimeoutError):  # no status: node_state tells the caller
            await asyncio.wait_for(self._synced.wait(), STATUS_WAIT)

    async def _keep_connected(self) -> None:
        while not self._closing:
            client = self._client
            assert client is not None and client.closed is not None
            with contextlib.suppress(ConnectionError):
                await asyncio.shield(client.closed)
            if self._closing:
                return
            why = client.closed.exception() if not client.closed.cancelled() else None
            lost = "connection to the broker lost" + (f": {why}" if why else "")
            refused = why.refused if isinstance(why, ConnectionLost) else None
            for future in self._pending.values():
                if not future.done():  # with the reason: a refused request says so
                    future.set_exception(ConnectionLost(lost, refused))
            resume = self.last_seq + 1
            self._held = []
            delay = 0.1
            while not self._closing:
                try:
                    await self._connect()
                    break
                except (OSError, TimeoutError, ConnectionError, p.ProtocolError) as exc:
                    # Told by its reason code (MQTT 5 0x86/0x87, 3.1.1 4/5), not its words.
                    if isinstance(exc, ConnectionRefused) and exc.credentials:
                        log.warning("phone_sim.reconnect_refused", error=str(exc))
                        self._refused = exc
                        return
                    log.warning("phone_sim.reconnect_failed", error=str(exc))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
            await self._catch_up(resume)

    async def _catch_up(self, resume: int) -> None:
        """Events published while we were away, from the node's log, then the live batches
        that arrived meanwhile (duplicates dropped by seq)."""
        attempts = 0
        while not self._closing:
            try:
                reply = await self.request("replay", {"fromSeq": resume})
            except (ConnectionError, TimeoutError) as exc:
                attempts += 1
                if attempts >= 5:
                    log.warning("phone_sim.catch_up_failed", from_seq=resume, error=str(exc))
                    break
                continue
            if not reply.get("ok"):
                log.warning("phone_sim.catch_up_refused", error=reply.get("error"))
                break
            result = reply["result"]
            self._deliver(result["events"])
            resume = max(resume, result["nextSeq"])
            if result["complete"]:
                break
        held, self._held = self._held or [], None
        self._deliver(held)

    async def close(self) -> None:
        self._closing = True
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        if self._client is not None and self._client.connected:
            await self._client.disconnect()

    async def request(self, service: str, fields: Doc) -> Doc:
        return await self._call(self.topics.request(self.account, service), fields)

    def publish(self, topic: str, body: bytes, *, retain: bool = False) -> bool:
        """Outputs of the physical-phone bridge (displays, lamps, ringers); False when not
        connected (the caller publishes again after the reconnect)."""
        if self._client is None or not self._client.connected:
            return False
        self._client.publish(topic, body, retain=retain)
        return True

    async def subscribe(self, topic: str) -> None:
        """A topic for ``on_other``, kept across reconnects; SubscriptionRefused if the
        broker refuses it."""
        self._extra.append(topic)
        if self._client is not None and self._client.connected:
            await self._client.subscribe([(topic, 1)], required=True)

    async def _call(self, topic: str, fields: Doc) -> Doc:
        client = self._client
        if self._refused is not None:  # a new one each time: a raise grows its traceback
            raise ConnectionRefused(self._refused.reason, str(self._refused), self._refused.user)
        if client is None or not client.connected:
            raise ConnectionError("not connected to the broker")
        correlation = str(next(self._ids)).encode()
        future: asyncio.Future[Doc] = asyncio.get_running_loop().create_future()
        self._pending[correlation] = future
        try:
            if self.version == 5:
                props: dict[int, object] = {
                    p.RESPONSE_TOPIC: self.inbox,
                    p.CORRELATION_DATA: correlation,
                    p.MESSAGE_EXPIRY: REQUEST_EXPIRY,
                }
                client.publish(topic, orjson.dumps(fields), props=props)
            else:
                body = {**fields, "reply_to": self.inbox, "correlation": correlation.decode()}
                client.publish(topic, orjson.dumps(body))
            return await asyncio.wait_for(future, TIMEOUT)
        finally:
            self._pending.pop(correlation, None)

    def _on_message(self, message: p.Message) -> None:
        topic = message.topic
        if topic == self.topics.events:
            docs = orjson.loads(message.payload)
            if self._held is not None:
                self._held.extend(docs)
            else:
                self._deliver(docs)
        elif topic == self.inbox:
            doc = orjson.loads(message.payload)
            corr = message.properties.get(p.CORRELATION_DATA)
            if corr is None and "correlation" in doc:
                corr = str(doc.pop("correlation")).encode()
            future = self._pending.get(corr) if isinstance(corr, bytes) else None
            if future is not None and not future.done():
                future.set_result(doc)
        elif topic == self.topics.status:
            try:
                state = orjson.loads(message.payload).get("state") if message.payload else None
            except (orjson.JSONDecodeError, AttributeError):  # not the node's document
                state = None
            self.node_state = state if isinstance(state, str) else None
            if self._synced is not None:
                self._synced.set()
        elif self.topics.device_of_state(topic) is not None:
            if message.payload and self._on_state is not None:
                self._on_state(orjson.loads(message.payload))
        elif self.on_other is not None:
            self.on_other(topic, message.payload)

    def _deliver(self, docs: list[Doc]) -> None:
        fresh = [d for d in docs if d["seq"] > self.last_seq]
        if not fresh:
            return
        self.last_seq = fresh[-1]["seq"]
        if self._on_events is not None:
            self._on_events(fresh)
