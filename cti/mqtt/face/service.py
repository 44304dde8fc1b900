"""The MQTT face of a node: keeps a connection to the broker (back-off with jitter, Last Will,
resubscribe and republish retained state on every connect; several members of a broker
cluster tried in turn), answers requests through the engine, serves ``replay`` from the log,
and runs the outbox publisher."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog

from cti.accounts import access
from cti.api import documents as payloads
from cti.api import execute as replies
from cti.api.chat import ChatService
from cti.api.in_progress import PerAccount
from cti.api.journal import JournalService, journal_users
from cti.api.requests import (
    PAGE_SERVICES,
    BadRequest,
    PageRequest,
    parse_action,
    parse_json,
    parse_page,
    payload_limit,
)
from cti.app.engine import Engine
from cti.app.follower import supervised
from cti.app.node import Committed, decode
from cti.app.threads import finished
from cti.domain import INTERNAL_KINDS
from cti.kernel.refusal import Refusal
from cti.mqtt.access import node_client_id, node_user
from cti.mqtt.client import MqttClient, Will
from cti.mqtt.client import protocol as p
from cti.mqtt.face.outbox import Outbox, same_document
from cti.mqtt.limits import MAX_PACKET, MAX_PENDING, REPLY_BYTES
from cti.mqtt.topics import Request, Topics
from cti.store import EventStore, StoreError

log = structlog.get_logger(__name__)
REPLY_KEYS = frozenset({"reply_to", "replyTo", "correlation"})
# replay and trace pages of one account being read (or waiting for the pages thread) at once:
# more are refused resourceBusy, so one account cannot keep the thread for itself; a few, not
# one, because an account may have several sessions (browser tabs, a UI's gap fill and its
# history view) that page at the same moment.
PAGES_PER_ACCOUNT = 4


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


def client_id(node: str, password: str | None) -> str:
    """The node's client id (specs/security.md, "The node's client id"): derived from its broker
    password, so no other account can guess it and take the node's session over. Without a
    password (an anonymous broker, where anyone may sign in as anything anyway) the plain
    ``cti-{node}``: every process of the node shares it, so a new active node of a hot-standby
    pair still ends a paused old one's connection before that one could publish again."""
    if password:
        return node_client_id(node, password)
    return node_user(node)


def _log_save_failure(save: asyncio.Future[None]) -> None:
    """A save that failed other than as a store (which it logs itself): a fault, logged
    whole; the next tick tries again."""
    if not save.cancelled() and (exc := save.exception()) is not None:
        log.error("mqtt.position_save_failed", exc_info=exc)


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
        username: str | None = None,
        password: str | None = None,
        status_fields: Callable[[], Mapping[str, Any]] | None = None,
        journal: JournalService | None = None,
        may_connect: Callable[[], Awaitable[bool]] | None = None,
        more_brokers: Sequence[tuple[str, int]] = (),
    ) -> None:
        """``status_fields``: more fields of the retained status document (the disk warning,
        cti/ops/disk.py); asked about once a second, and the status is republished when
        they change. ``journal``: the node's journal, which answers the journal's requests
        and whose folder counts are published (may be set later, before ``start``).
        ``may_connect``: asked before every connect; False ends the face (a fenced writer
        must not take the node's client id, and its Last Will, from the node that took over:
        cti/app/standby.py). ``more_brokers``: other members of the same broker cluster
        (NATS), tried in turn when one cannot be reached; ``host`` and ``port`` then name the
        member in use."""
        self.engine = engine
        self.node = engine.node
        self.store = store
        self.host, self.port, self.version = host, port, version
        self.brokers = [(host, port), *more_brokers]
        self._member = 0  # the index in ``brokers`` of the member to dial next
        self._asked = version  # asked again on every connect; ``version`` is what we got
        self._credentials = (username, password)  # the node's own account on the broker
        self._client_id = client_id(self.node.site.node, password)
        self.topics = Topics(self.node.site.node)
        self.outbox = Outbox(self.node, store, self.topics)
        self.started = started
        self.client: MqttClient | None = None
        self.connected = asyncio.Event()
        self._stopping = False
        self._announced = 0  # the seq the retained status shows
        self._status_fields = status_fields or dict
        self.journal = journal
        self.chat: ChatService | None = None  # the node's chat (IM-01..03), set before start
        self._announced_fields: Mapping[str, Any] = {}  # the extra fields it shows
        self._tasks: set[asyncio.Task[None]] = set()
        self._overloaded = False  # refusing requests as busy (logged once per episode)
        self._runner: asyncio.Task[None] | None = None
        self._may_connect = may_connect
        self.announce = True  # stop() marks the node offline (not when fenced)
        # The connection whose retained request messages from before it subscribed are in.
        self._settled: MqttClient | None = None
        # replay's and trace's pages are read in a thread of their own, on a connection of
        # their own: ``store`` is the outbox's, used on the loop (_paged).
        self._pages = store.sibling(readonly=True)
        self._pages_executor: ThreadPoolExecutor | None = None
        self._paging = PerAccount(PAGES_PER_ACCOUNT)  # pages being read, or waiting to be
        self._saving: asyncio.Future[None] | None = None  # the outbox position being saved

    name = "mqtt"

    async def start(self) -> None:
        """Connect and serve in the background (reconnecting with back-off); see ``connected``."""
        self._stopping = False
        self._runner = asyncio.create_task(supervised("mqtt-face", self.run), name="mqtt-face")

    def _next_member(self) -> None:
        """Dial the next member of the broker cluster."""
        self._member = (self._member + 1) % len(self.brokers)

    async def run(self) -> None:
        delay = 0.2
        failed = 0  # connects failed in a row
        while not self._stopping:
            if self._may_connect is not None and not await self._may_connect():
                log.error("mqtt.not_connecting", reason="this node no longer writes its log")
                return
            self.host, self.port = self.brokers[self._member]
            client = MqttClient(
                self.host,
                self.port,
                self._client_id,
                will=Will(
                    self.topics.status, payloads.status(self.node.site.node, "offline"), True
                ),
                version=self._asked,
                username=self._credentials[0],
                password=self._credentials[1],
                max_packet_size=MAX_PACKET,
            )
            client.on_message = functools.partial(self._on_message, client)
            try:
                await client.connect()
                self.version = client.version  # 4 when the broker speaks only 3.1.1
                # Our own publishes are not echoed (no local), and a retained message keeps
                # its flag (retain as published: else the broker clears it on everything but
                # what is retained when we subscribe, and a retained request or spoof made
                # while we are connected would look like a plain one).
                v5 = p.NO_LOCAL | p.RETAIN_AS_PUBLISHED if self.version == 5 else 0
                # QoS 1 on an MQTT 5 broker; QoS 0 on a 3.1.1 one (NATS): with our clean
                # session QoS 1 would add no redelivery beyond this connection, but NATS
                # would make a replicated JetStream consumer per filter on every connect,
                # which after a cluster member's death can take long (specs/mqtt.md).
                qos = 1 | v5 if self.version == 5 else 0
                requests = [(self.topics.requests, qos), (self.topics.secure_requests, qos)]
                # A refusal would leave the node deaf to requests: another connection instead.
                await client.subscribe(requests, required=True)
                if self.chat is not None:
                    # Who is online: the clients' retained session markers (specs/chat.md).
                    self.chat.connected(functools.partial(_publish, client))
                    await client.subscribe([(self.topics.sessions, qos)], required=True)
                if self.version == 5:
                    # What arrives on these was published by someone else: a stale state of a
                    # device no longer configured (cleared: no ghost devices) or a spoof
                    # (corrected; a spoofed event batch would otherwise stay on the broker).
                    await client.subscribe([(t, v5) for t in self.topics.watched])
                    # The broker sends the retained messages of a subscription right after
                    # its SUBACK, before anything else: once a later SUBACK is back, a
                    # retained request is one published now, not one left from before
                    # (specs/mqtt.md). (MQTT 3.1.1 flags only the latter as retained.)
                    self._settled = client
                else:
                    # MQTT 3.1.1 has no "no local": subscribed for good, every message we
                    # publish would come back. Look once, at the retained messages the broker
                    # sends right after the SUBACK, and unsubscribe (specs/mqtt.md).
                    watched = list(self.topics.watched)
                    await client.subscribe([(t, 0) for t in watched])
                    await client.unsubscribe(watched)
                if self.chat is not None:  # a later SUBACK: the retained markers are in
                    self.chat.settled()
            except (OSError, TimeoutError, ConnectionError, p.ProtocolError) as exc:
                if client.connected:  # connected, but the subscription was refused
                    with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                        await client.disconnect()
                broker = f"{self.host}:{self.port}"
                self._next_member()
                failed += 1
                # A member that cannot be reached: the others at once. One that answered
                # but failed us (a cluster electing leaders): wait, not to add to its load.
                if failed % len(self.brokers) and not client.reached:
                    log.warning("mqtt.connect_failed", broker=broker, error=str(exc))
                    continue
                log.warning(
                    "mqtt.connect_failed", broker=broker, error=str(exc), retry_in=round(delay, 2)
                )
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 5.0)
                continue
            delay, failed = 0.2, 0
            self.client = client
            self._publish_status(client)
            self._publish_journal(client, everyone=True)
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
                if self.chat is not None:
                    self.chat.disconnected()
                if client.connected:  # the outbox failed: this connection must not linger
                    with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                        await client.disconnect()
                await self._save_position_last()
                # The member that dropped us is tried last: it may be the one that died.
                self._next_member()

    def _save_position_now(self) -> None:
        """Store the outbox position (in a worker thread); a store that cannot (disk full) is
        logged and tried again later: publishing goes on, a crash meanwhile only repeats
        events (at least once)."""
        try:
            self.outbox.save_position()
        except StoreError as exc:
            log.error("mqtt.position_not_saved", acked=self.outbox.acked, error=str(exc))

    def _save_position_soon(self) -> None:
        """Start a save in a worker thread, unless one is still running (a database that does
        not answer: it is waited for, not asked again behind it)."""
        if self._saving is None or self._saving.done():
            self._saving = asyncio.ensure_future(asyncio.to_thread(self._save_position_now))
            self._saving.add_done_callback(_log_save_failure)

    async def _save_position_last(self) -> None:
        """A save of the final position, after the one still running; waited for even when
        cancelled, so the store is not closed under it (a stop)."""
        if self._saving is not None and not self._saving.done():
            await finished(self._saving)
        self._saving = asyncio.ensure_future(asyncio.to_thread(self._save_position_now))
        await finished(self._saving)

    def _publish_status(self, client: MqttClient) -> None:
        self._announced = self.outbox.acked
        self._announced_fields = dict(self._status_fields())
        body = payloads.status(
            self.node.site.node,
            "online",
            seq=self.outbox.acked,
            epoch=self.store.epoch,
            started=self.started,
            **self._announced_fields,
        )
        self.outbox.retained[self.topics.status] = body
        client.publish(self.topics.status, body, retain=True)

    def _publish_journal(self, client: MqttClient, *, everyone: bool = False) -> None:
        """The retained counts of the journals that changed (JOUR-02), each for its user
        alone; on connect every user's. Coalesced: at most one per user every tick."""
        if self.journal is None:
            return
        touched = self.journal.db.take_touched()
        users = journal_users(self.node.site) if everyone or "*" in touched else sorted(touched)
        for user in users:
            topic = self.topics.journal(user)
            body = payloads.dumps(self.journal.counts(user))
            self.outbox.retained[topic] = body
            client.publish(topic, body, retain=True)

    async def _save_position(self, client: MqttClient) -> None:
        """Store the outbox position often, and keep the retained status's seq fresh."""
        ticks = 0
        while client.connected:
            await asyncio.sleep(0.2)
            self._save_position_soon()
            try:
                self._publish_journal(client)
            except Exception:  # the counts wait for the next change; the rest goes on
                log.exception("mqtt.journal_counts_not_published")
            ticks += 1
            moved = self.outbox.acked != self._announced
            if ticks % 5 == 0 and (moved or self._status_fields() != self._announced_fields):
                try:
                    self._publish_status(client)
                except Exception:  # the status waits for the next tick; the position does not
                    log.exception("mqtt.status_not_published")

    async def stop(self) -> None:
        """Publish what is committed, mark the node offline, disconnect."""
        self._stopping = True
        client = self.client
        if client is not None and client.connected and self.announce:
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
        elif client is not None and client.connected:  # fenced: leave, saying nothing
            with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                await client.disconnect()
        for task in list(self._tasks):  # requests still being answered
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pages_executor is not None:  # a page being read ends before the store closes
            executor, self._pages_executor = self._pages_executor, None
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        await self._save_position_last()

    # -- what arrives ---------------------------------------------------------------------------
    def _on_message(self, client: MqttClient, message: p.Message) -> None:
        if self.chat is not None and self.chat.on_session(message.topic, message.payload):
            return
        request = self.topics.parse_request(message.topic)
        if request is None:
            self._guard(client, message)
            return
        if message.retain:
            # A retained request would fire again on every (re)subscription: clear it (on
            # the connection it came by: self.client is set only once subscribed). One
            # published while we are subscribed runs once; one left from before does not.
            if not message.payload:
                return  # a clear (ours, or the sender's own)
            client.publish(message.topic, b"", retain=True)
            if self._settled is not client:
                log.warning("mqtt.retained_request_dropped", topic=message.topic)
                return
            log.warning("mqtt.retained_request_cleared", topic=message.topic)
        if len(self._tasks) >= MAX_PENDING:
            self._busy(message, request)
            return
        self._overloaded = False
        task = asyncio.create_task(self._handle(message, request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _busy(self, message: p.Message, request: Request) -> None:
        """Too many requests in hand: answer at once, without queueing (an MQTT 5 reply
        address only: reading one from the payload would be work a flood could cause)."""
        if not self._overloaded:
            log.warning("mqtt.requests_refused_busy", pending=len(self._tasks))
            self._overloaded = True
        reply_to = message.properties.get(p.RESPONSE_TOPIC)
        if self.client is None or not isinstance(reply_to, str):
            return
        if not self.topics.is_inbox_of(request.user, reply_to):
            reply_to = self.topics.inbox(request.user)
        correlation = message.properties.get(p.CORRELATION_DATA)
        body = replies.error(
            "resourceBusy", f"the node is answering {MAX_PENDING} requests: try again"
        )
        props = {p.CORRELATION_DATA: correlation} if correlation is not None else None
        self.client.publish(reply_to, payloads.dumps(body), props=props)

    def _guard(self, client: MqttClient, message: p.Message) -> None:
        """A message someone else published on a topic only the node writes (a broker without
        the node's ACLs): put the truth back (specs/security.md)."""
        topic = message.topic
        device = self.topics.device_of_state(topic)
        if device is not None and device not in self.node.site.devices:
            if message.payload:
                log.info("mqtt.clear_stale_state", device=device)
                client.publish(topic, b"", retain=True)
            return
        if self.client is not client:
            return  # still connecting: the status and every state are published anew now
        truth = self.outbox.retained.get(topic)
        if truth is None and self.chat is not None:
            truth = self.chat.retained.get(topic)  # the online documents
        if truth is not None:
            if not same_document(message.payload, truth):
                log.warning("mqtt.spoof_corrected", topic=topic)
                client.publish(topic, truth, retain=True)
        elif message.retain and message.payload:  # no retained message belongs there
            log.warning("mqtt.spoof_cleared", topic=topic)
            client.publish(topic, b"", retain=True)

    async def _handle(self, message: p.Message, request: Request) -> None:
        reply_to = message.properties.get(p.RESPONSE_TOPIC)
        correlation = message.properties.get(p.CORRELATION_DATA)
        in_payload = False
        checked = False  # reply_to is known to be the user's inbox or below it
        try:
            if not request.valid:
                raise BadRequest(
                    "serviceNotSupported",
                    f"no service {request.service!r}: requests go to "
                    + self.topics.request(request.user, "{service}", secure=request.secure),
                )
            doc = parse_json(message.payload, payload_limit(request.service))
            if reply_to is None:
                reply_to, correlation = reply_address(doc)
                in_payload = True
            if isinstance(reply_to, str) and not self.topics.is_inbox_of(request.user, reply_to):
                # The node would publish there under its own identity (specs/security.md).
                log.warning("mqtt.reply_address_refused", user=request.user, reply_to=reply_to)
                reply_to = self.topics.inbox(request.user)
                raise BadRequest(
                    "invalidReplyAddress", f"replies go to {reply_to} or a topic below it"
                )
            checked = True
            fields = {k: v for k, v in doc.items() if k not in REPLY_KEYS}
            if request.service in PAGE_SERVICES:
                body = await self._paged(request.service, fields, request.user)
            else:
                action = parse_action(request.service, fields)
                body = await replies.execute(
                    self.engine,
                    action,
                    request.user,
                    secure=request.secure,
                    journal=self.journal,
                    chat=self.chat,
                )
        except BadRequest as bad:
            body = replies.error(bad.code, bad.message)
            if reply_to is None:
                with contextlib.suppress(BadRequest):
                    # MQTT 3.1.1: the address is in the payload, even in one over the
                    # service's limit (the broker bounds it at MAX_PACKET).
                    doc = parse_json(message.payload, MAX_PACKET)
                    reply_to, correlation = reply_address(doc)
                    in_payload, checked = True, False
        except Refusal as refusal:
            body = replies.refused(refusal)
        except Exception:  # input must never take the node down
            log.exception("mqtt.request_crashed", topic=message.topic)
            body = replies.error("generic", "internal error")
        log.debug("mqtt.request", topic=message.topic, ok=body.get("ok"))
        if not isinstance(reply_to, str) or self.client is None:
            return
        if not checked and not self.topics.is_inbox_of(request.user, reply_to):
            reply_to = self.topics.inbox(request.user)
        props: dict[int, object] = {}
        if correlation is not None:
            if in_payload:
                body["correlation"] = json.loads(correlation)  # type: ignore[arg-type]
            else:
                props[p.CORRELATION_DATA] = correlation
        self.client.publish(reply_to, payloads.dumps(body), props=props or None)

    async def _paged(self, service: str, doc: dict[str, Any], user: str) -> dict[str, Any]:
        """A page of the log's events for ``replay`` or ``trace``, read, decoded and filtered
        in the pages thread (on the loop a 1,000-event page held every other request up),
        at most PAGES_PER_ACCOUNT at a time per account: more meanwhile are refused
        ``resourceBusy``, so one account cannot queue the thread full (specs/mqtt.md).

        replay: all events for integrators and monitors; for a user what their topics
        carried: their devices' events and their own (presence, profile, mailbox), not those
        of another person whose phone they control (the page may then hold fewer than
        ``limit``; ``nextSeq`` says where to go on). trace, the operator view (issue 17): one
        call's or one device's events, for administrators, monitors and integrators
        (``access.traceable``); users are refused and replay their own devices' events."""
        state = self.node.state
        wanted: Callable[[Committed], bool]
        internal: frozenset[str] = frozenset()
        if service == "replay":
            scope = access.readable(self.node.site, state, user)  # on the loop: reads the state
            page = parse_page(service, doc)

            def wanted(item: Committed) -> bool:
                return access.may_read(scope, user, item.event)

        else:
            access.traceable(state, user)
            page = parse_page(service, doc)
            call, device = page.call, page.device
            if call is not None:
                # The call's own events, and the transfer or conference that merged it into
                # another (a consultation call's end): a client follows `secondaryCall` there;
                # with the switch's timers on the call (INTERNAL, never published: trace only).
                def wanted(item: Committed) -> bool:
                    event = item.event
                    return call in (
                        getattr(event, "call", None),
                        getattr(event, "secondary_call", None),
                    )

                internal = payloads.TRACE_INTERNAL_KINDS
            else:
                # What the device's own event topic carried: a person's own events (presence,
                # profile, mailbox) are theirs, not their phone's (PRES-04; replay gives them
                # to integrators and monitors, who read every user's).
                def wanted(item: Committed) -> bool:
                    return device in item.event.topic_devices()

        def busy(reading: int) -> BadRequest:
            return BadRequest(
                "resourceBusy",
                f"{reading} replay or trace pages of {user} are being read: ask again once a"
                " reply is in",
            )

        with self._paging.slot(user, busy):
            loop = asyncio.get_running_loop()
            events, next_seq = await loop.run_in_executor(
                self._pages_thread(), read_page, self._pages, page, wanted, internal
            )
        # From here to the publish in _handle nothing awaits: the outbox publishes nothing in
        # between, so every event after publishedSeq is published after this reply
        # (specs/mqtt.md), as when the whole page was read on the loop.
        last = self.store.last_seq()
        return {
            "ok": True,
            "result": {
                "events": events,
                "nextSeq": next_seq,
                "lastSeq": last,
                "publishedSeq": min(self.outbox.sent, last),
                "epoch": self.store.epoch,
                "complete": next_seq > last,
            },
        }

    def _pages_thread(self) -> ThreadPoolExecutor:
        """The one thread that reads pages: the only user of ``_pages`` (an SQLite connection
        must not be used by two threads at once); made anew after ``stop``."""
        if self._pages_executor is None:
            self._pages_executor = ThreadPoolExecutor(1, thread_name_prefix="cti-pages")
        return self._pages_executor


def read_page(
    store: EventStore,
    page: PageRequest,
    wanted: Callable[[Committed], bool],
    internal: frozenset[str],
) -> tuple[list[dict[str, Any]], int]:
    """The events of a page that ``wanted`` keeps (INTERNAL ones only of the kinds in
    ``internal``) and the seq to go on from; in the pages thread, on its own connection."""
    start = page.from_seq
    first = store.first_seq()
    if first > 1 and start < first:  # retention moved them out (specs/store.md)
        raise BadRequest(
            "invalidParameterValue", f"events before seq {first} are archived: from {first}"
        )
    records = store.read(max(start, 1), page.limit)
    events: list[dict[str, Any]] = []
    size = 0
    next_seq = records[-1].seq + 1 if records else max(start, 1)
    for record in records:
        if size > REPLY_BYTES:  # the reply stays below the broker's packet limit
            next_seq = record.seq
            break
        if record.kind in INTERNAL_KINDS and record.kind not in internal:
            continue
        item = decode(record)
        if wanted(item):
            event = payloads.event_doc(item)
            events.append(event)
            size += len(payloads.dumps(event))
    return events, next_seq


def _publish(client: MqttClient, topic: str, body: bytes, retain: bool) -> None:
    client.publish(topic, body, retain=retain)
