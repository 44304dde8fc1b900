"""The MQTT face of a node: keeps a connection to the broker (back-off with jitter, Last Will,
resubscribe and republish retained state on every connect), answers requests through the
engine, serves ``replay`` from the log, and runs the outbox publisher."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from typing import Any

import structlog

from cti.api import documents as payloads
from cti.api import execute as replies
from cti.api.requests import BadRequest, parse_action, parse_json
from cti.app.engine import Engine
from cti.app.follower import supervised
from cti.app.node import decode
from cti.domain import INTERNAL_KINDS
from cti.mqtt.client import MqttClient, Will
from cti.mqtt.client import protocol as p
from cti.mqtt.face.outbox import Outbox
from cti.mqtt.topics import Topics
from cti.store import EventStore, StoreError

log = structlog.get_logger(__name__)
REPLAY_LIMIT = 1000
REPLY_KEYS = frozenset({"reply_to", "replyTo", "correlation"})


def reply_address(doc: dict[str, Any]) -> tuple[str | None, bytes | None]:
    """MQTT 3.1.1 clients put the reply address in the payload."""
    reply_to = doc.get("reply_to", doc.get("replyTo"))
    if reply_to is not None and (
        not isinstance(reply_to, str) or not reply_to or any(ch in reply_to for ch in "+#")
    ):
        reply_to = None
    corr = doc.get("correlation")
    correlation = json.dumps(corr).encode() if corr is not None else None
    return reply_to, correlation


class MqttFace:
    def __init__(
        self,
        engine: Engine,
        store: EventStore,
        host: str,
        port: int,
        *,
        version: int = 5,
        started: str = "",
    ) -> None:
        self.engine = engine
        self.node = engine.node
        self.store = store
        self.host, self.port, self.version = host, port, version
        self.topics = Topics(self.node.site.node)
        self.outbox = Outbox(self.node, store, self.topics)
        self.started = started
        self.client: MqttClient | None = None
        self.connected = asyncio.Event()
        self._stopping = False
        self._announced = 0  # the seq the retained status shows
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None

    name = "mqtt"

    async def start(self) -> None:
        """Connect and serve in the background (reconnecting with back-off); see ``connected``."""
        self._stopping = False
        self._runner = asyncio.create_task(supervised("mqtt-face", self.run), name="mqtt-face")

    async def run(self) -> None:
        delay = 0.2
        while not self._stopping:
            client = MqttClient(
                self.host,
                self.port,
                f"cti-{self.node.site.node}",
                will=Will(
                    self.topics.status, payloads.status(self.node.site.node, "offline"), True
                ),
                on_message=self._on_message,
                version=self.version,
            )
            try:
                await client.connect()
                filters = [(self.topics.requests, 1), (self.topics.replay, 1)]
                if self.version == 5:
                    # Retained states of devices no longer configured arrive once, here, and
                    # are cleared (no ghost devices); our own state publishes are not echoed.
                    filters.append((self.topics.device_states, p.NO_LOCAL))
                await client.subscribe(filters)
            except (OSError, TimeoutError, ConnectionError, p.ProtocolError) as exc:
                log.warning("mqtt.connect_failed", error=str(exc), retry_in=round(delay, 2))
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.2
            self.client = client
            self._publish_status(client)
            self.connected.set()
            log.info(
                "mqtt.connected",
                broker=f"{self.host}:{self.port}",
                resume_from=self.outbox.acked + 1,
            )
            saver = asyncio.create_task(self._save_position(client))
            try:
                await self.outbox.run(client)
                assert client.closed is not None
                with contextlib.suppress(ConnectionError):
                    await client.closed
            finally:
                saver.cancel()
                self.connected.clear()
                if client.connected:  # the outbox failed: this connection must not linger
                    with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                        await client.disconnect()
                self._save_position_now()

    def _save_position_now(self) -> None:
        """Store the outbox position; a store that cannot (disk full) is logged and tried again
        later: publishing goes on, a crash meanwhile only repeats events (at least once)."""
        try:
            self.outbox.save_position()
        except StoreError as exc:
            log.error("mqtt.position_not_saved", acked=self.outbox.acked, error=str(exc))

    def _publish_status(self, client: MqttClient) -> None:
        self._announced = self.outbox.acked
        client.publish(
            self.topics.status,
            payloads.status(
                self.node.site.node,
                "online",
                seq=self.outbox.acked,
                epoch=self.store.epoch,
                started=self.started,
            ),
            retain=True,
        )

    async def _save_position(self, client: MqttClient) -> None:
        """Store the outbox position often, and keep the retained status's seq fresh."""
        ticks = 0
        while client.connected:
            await asyncio.sleep(0.2)
            # On the loop, not in a thread: the outbox's store connection is also used here
            # (reads, the final save on stop), and two threads must not interleave on it.
            self._save_position_now()
            ticks += 1
            if ticks % 5 == 0 and self.outbox.acked != self._announced:
                try:
                    self._publish_status(client)
                except Exception:  # the status waits for the next tick; the position does not
                    log.exception("mqtt.status_not_published")

    async def stop(self) -> None:
        """Publish what is committed, mark the node offline, disconnect."""
        self._stopping = True
        client = self.client
        if client is not None and client.connected:
            for _ in range(100):
                if self.outbox.acked >= self.node.state.seq:
                    break
                await asyncio.sleep(0.02)
            client.publish(
                self.topics.status, payloads.status(self.node.site.node, "offline"), retain=True
            )
            with contextlib.suppress(ConnectionError, OSError, TimeoutError):  # broker gone
                await client.drain()
                await client.disconnect()
        for task in list(self._tasks):  # requests still being answered
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        self._save_position_now()

    # -- requests -------------------------------------------------------------------------
    def _on_message(self, message: p.Message) -> None:
        device = self.topics.device_of_state(message.topic)
        if device is not None:
            if message.payload and device not in self.node.site.devices and self.client:
                log.info("mqtt.clear_stale_state", device=device)
                self.client.publish(message.topic, b"", retain=True)
            return
        if message.retain:
            # A retained request would fire again on every reconnect: never run it, clear it.
            log.warning("mqtt.retained_request_dropped", topic=message.topic)
            if self.client is not None and message.payload:
                self.client.publish(message.topic, b"", retain=True)
            return
        task = asyncio.create_task(self._handle(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, message: p.Message) -> None:
        reply_to = message.properties.get(p.RESPONSE_TOPIC)
        correlation = message.properties.get(p.CORRELATION_DATA)
        in_payload = False
        try:
            if message.topic == self.topics.replay:
                doc = parse_json(message.payload)
                if reply_to is None:
                    reply_to, correlation = reply_address(doc)
                    in_payload = True
                body = self._replay(doc)
            else:
                service = self.topics.service_of(message.topic) or ""
                doc = parse_json(message.payload)
                if reply_to is None:
                    reply_to, correlation = reply_address(doc)
                    in_payload = True
                action = parse_action(
                    service, {k: v for k, v in doc.items() if k not in REPLY_KEYS}
                )
                body = await replies.execute(self.engine, action)
        except BadRequest as bad:
            body = replies.error(bad.code, bad.message)
            if reply_to is None:
                with contextlib.suppress(BadRequest):
                    reply_to, correlation = reply_address(parse_json(message.payload))
                    in_payload = True
        except Exception:  # input must never take the node down
            log.exception("mqtt.request_crashed", topic=message.topic)
            body = replies.error("generic", "internal error")
        log.debug("mqtt.request", topic=message.topic, ok=body.get("ok"))
        if not isinstance(reply_to, str) or self.client is None:
            return
        props: dict[int, object] = {}
        if correlation is not None:
            if in_payload:
                body["correlation"] = json.loads(correlation)  # type: ignore[arg-type]
            else:
                props[p.CORRELATION_DATA] = correlation
        self.client.publish(reply_to, payloads.dumps(body), props=props or None)

    def _replay(self, doc: dict[str, Any]) -> dict[str, Any]:
        start = doc.get("fromSeq", doc.get("from_seq", 1))
        limit = doc.get("limit", REPLAY_LIMIT)
        for name, value in (("fromSeq", start), ("limit", limit)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise BadRequest("invalidParameterValue", f"{name} must be a non-negative integer")
            if value >= 2**62:
                raise BadRequest("invalidParameterValue", f"{name} must be below 2**62")
        if limit == 0:
            raise BadRequest("invalidParameterValue", "limit must be at least 1")
        limit = min(limit, REPLAY_LIMIT)
        records = self.store.read(max(start, 1), limit)
        events = [payloads.event_doc(decode(r)) for r in records if r.kind not in INTERNAL_KINDS]
        last = self.store.last_seq()
        next_seq = records[-1].seq + 1 if records else max(start, 1)
        return {
            "ok": True,
            "result": {
                "events": events,
                "nextSeq": next_seq,
                "lastSeq": last,
                "epoch": self.store.epoch,
                "complete": next_seq > last,
            },
        }
