"""The UI client: sign in, send requests, watch devices, your own events and lamps
(specs/client.md).

Built on aiomqtt, not on the node's own MQTT client (cti/mqtt/client/): UI developers get a
maintained, well-known library with its documentation and community; the node's client
exists for publishing speed (pipelined QoS 1 at tens of thousands of messages a second),
which a UI does not need.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any, Final, cast
from urllib.parse import urlparse

import aiomqtt
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cti.api.chat import (
    ChatConversationsResult,
    ChatMessageDoc,
    ChatMessagesResult,
    ChatReadDoc,
    SendChatResult,
)
from cti.api.directory import MAX_PART
from cti.api.documents import DeviceStateDoc, LampDoc, StatusDoc
from cti.api.journal import JournalCountsDoc, JournalResult
from cti.chat.sessions import REFRESH_S
from cti.client.errors import CtiError, NoReply, NotConnected, Refused, SignInRefused
from cti.client.streams import Held, Streams
from cti.client.updates import (
    CallRef,
    ChatMessage,
    ChatRead,
    Connected,
    DeviceEvent,
    DeviceState,
    Disconnected,
    JournalCounts,
    Lamp,
    Online,
    OwnEvent,
    Reset,
    Status,
    Update,
)
from cti.mqtt.signin import account_of
from cti.mqtt.topics import Topics

__all__ = ["CtiClient"]

log = structlog.get_logger(__name__)

PORTS: Final = {"mqtt": 1883, "mqtts": 8883}
TIMEOUT: Final = 10.0  # seconds to wait for a reply, and for the broker to answer CONNECT
# The broker drops a request not delivered within this time (MQTT 5 Message Expiry), so a
# command queued while the node was away never fires long after the user gave up on it.
EXPIRY: Final = 10
REPLAY_LIMIT: Final = 1000  # events per replay page (the node's maximum)
BACKOFF: Final = (0.2, 5.0)  # first and longest wait between reconnects (seconds), jittered
# CONNACK reason codes that mean "not with these credentials" (MQTT 5; MQTT 3.1.1: 4 and 5).
CREDENTIALS: Final = frozenset({0x86, 0x87, 4, 5})
# "Unsupported protocol version": a 3.1.1-only broker refusing MQTT 5 (paho reads its 3.1.1
# code 1 as 0x84).
UNSUPPORTED_VERSION: Final = frozenset({0x84, 1})


async def _drop(conn: aiomqtt.Client) -> None:
    """Disconnect, whatever state the connection is in."""
    with contextlib.suppress(aiomqtt.MqttError):
        await conn.__aexit__(None, None, None)
    # aiomqtt keeps why a connection ended in a future only its message iterator reads;
    # read it here too, or asyncio reports it as never retrieved.
    # (getattr: a private attribute, which a later aiomqtt may not have.)
    ended = getattr(conn, "_disconnected", None)
    if isinstance(ended, asyncio.Future) and ended.done() and not ended.cancelled():
        ended.exception()


def _abandon(conn: aiomqtt.Client) -> None:
    """Close a connection that is still being made, without waiting for the broker (which
    would take ``timeout`` when it has not answered CONNECT: aiomqtt waits for a
    disconnection it never gets)."""
    paho = getattr(conn, "_client", None)  # private, as in _drop
    if paho is None:
        return
    # aiomqtt's disconnect callback reads the CONNACK future, which the cancellation
    # cancelled: it would raise CancelledError in an event loop callback. A fresh one
    # tells it the connection was never made.
    if isinstance(getattr(conn, "_connected", None), asyncio.Future):
        conn._connected = asyncio.get_running_loop().create_future()
    with contextlib.suppress(Exception):
        paho.disconnect()


class _Closed:
    """Ends :meth:`CtiClient.updates` (the client was closed)."""


class CtiClient:
    """A signed-in connection to a cti node, for UIs.

    ::

        async with CtiClient("mqtt://127.0.0.1:1883", user="331", password="Bernd-2026!") as c:
            await c.watch("331")
            made = await c.make_call("331", "332")
            async for update in c.updates():
                ...

    ``url`` is ``mqtt://HOST[:PORT]`` (1883) or ``mqtts://HOST[:PORT]`` (8883, TLS, the
    broker's certificate verified against ``ca_file``, or the system's CAs without one);
    several, comma-separated, are the members of one broker cluster, tried in turn.
    The connection uses MQTT 5 with a clean session (the client fills gaps from the node's
    log itself, so it needs no broker-side session) and reconnects by itself. A broker that
    speaks only MQTT 3.1.1 (NATS) gets 3.1.1, the reply address then in the request's payload
    (``protocol`` tells which one is in use).
    """

    def __init__(
        self,
        url: str,
        *,
        user: str,
        password: str,
        node: str = "node1",
        ca_file: Path | str | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        members = [urlparse(part.strip()) for part in url.split(",")]
        for parsed in members:
            if parsed.scheme not in PORTS or not parsed.hostname:
                raise ValueError(
                    f"url must look like mqtt://HOST:PORT or mqtts://HOST:PORT: {url!r}"
                )
        if len({parsed.scheme for parsed in members}) > 1:
            raise ValueError(f"the members of one broker cluster share a scheme: {url!r}")
        parsed = members[0]
        if ca_file is not None and parsed.scheme != "mqtts":
            raise ValueError("ca_file is for mqtts:// URLs")
        self.url = url
        self.user = user  # the sign-in name: ``331``, or ``331@branch`` on a shared broker
        self.account = account_of(user)  # the name in the topics
        self._password = password
        # Several URLs: the members of one broker cluster (NATS), tried in turn; a member
        # that fails is left for the next one (specs/client.md).
        self._members = [(m.hostname or "", m.port or PORTS[m.scheme]) for m in members]
        self._member = 0
        self._tls: ssl.SSLContext | None = None
        if parsed.scheme == "mqtts":
            try:  # verifies the chain against ca_file (or the system's CAs) and the host name
                self._tls = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(f"ca_file {ca_file}: {exc}") from None
        # Over TLS every request goes to the secure topic, which only the broker's TLS
        # listener lets an account write: the node then knows it came encrypted, and
        # changePassword is accepted (USER-02, specs/security.md).
        self.secure = parsed.scheme == "mqtts"
        self.timeout = timeout
        self.topics = Topics(node)
        self.id = f"cti-client-{self.account}-{uuid.uuid4().hex[:8]}"
        self.inbox = f"{self.topics.inbox(self.account)}/{self.id}"
        self._streams = Streams()
        self._lamps: set[str] = set()  # lamp topic filters watched
        self._documents: set[str] = set()  # the user's own documents watched (the journal)
        self._conn: aiomqtt.Client | None = None
        self._runner: asyncio.Task[None] | None = None
        self._pending: dict[bytes, asyncio.Future[dict[str, Any]]] = {}
        self.protocol = aiomqtt.ProtocolVersion.V5  # V311 once a broker refused MQTT 5
        self._queue: asyncio.Queue[Update | CtiError | _Closed] = asyncio.Queue()
        self._sync_wanted = asyncio.Event()
        self._subscribing = 0  # watch() subscriptions not yet acknowledged
        self._online = asyncio.Event()  # a usable online status came on this connection
        self._status: StatusDoc | None = None
        self._refresh = False  # after a reset: subscribe again for the retained documents
        self._failure: CtiError | None = None  # why the client gave up (sign-in refused)
        self._closing = False
        # Chat (IM-01): this client's session marker, and the messages seen per partner
        # (what a reconnect fetches beyond); live messages held while that fetch runs.
        self.session_topic = self.topics.session(self.account, self.id)
        self._chat_watched = False
        self._chat_seen: dict[str, int] = {}
        self._chat_hold: list[ChatMessageDoc] | None = None
        self._chat_ready = False  # watch_chat() knows where each conversation stood
        self._chat_gap: asyncio.Task[None] | None = None  # fetching what a gap left out
        self._connections = 0

    # -- connecting ---------------------------------------------------------------------------
    async def __aenter__(self) -> CtiClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Sign in (raises :class:`SignInRefused` or :class:`NotConnected`), then keep the
        connection up in the background until :meth:`close`."""
        if self._runner is not None:
            raise RuntimeError("already connected")
        self._closing = False
        self._failure = None
        self._queue = asyncio.Queue()
        for tried in range(1, len(self._members) + 1):
            try:
                conn = await self._connect()
                break
            except NotConnected:
                if tried == len(self._members):
                    raise
        self._runner = asyncio.create_task(self._run(conn), name=f"cti-client-{self.user}")

    async def close(self) -> None:
        """Disconnect; :meth:`updates` ends, waiting requests raise :class:`NotConnected`."""
        self._closing = True
        conn = self._conn
        if conn is not None:  # a clean disconnect sends no Will: clear the marker ourselves
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                await asyncio.wait_for(
                    conn.publish(self.session_topic, b"", qos=1, retain=True), self.timeout
                )
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        if self._conn is not None:  # the runner was cancelled before it began serving it
            await _drop(self._conn)
            self._conn = None
        self._fail_pending(NotConnected("the client was closed"))
        self._queue.put_nowait(_Closed())

    @property
    def connected(self) -> bool:
        """Whether a connection is up now (requests can go out)."""
        return self._conn is not None

    def _mqtt_client(self) -> aiomqtt.Client:
        host, port = self._members[self._member]
        return aiomqtt.Client(
            host,
            port,
            username=self.user,
            password=self._password,
            identifier=self.id,
            protocol=self.protocol,
            clean_start=True,
            timeout=self.timeout,
            keepalive=REFRESH_S,
            tls_context=self._tls,
            # The session marker goes with the connection: the broker clears it when this
            # client vanishes (specs/chat.md "Online").
            will=aiomqtt.Will(self.session_topic, None, qos=1, retain=True),
        )

    async def _connect(self) -> aiomqtt.Client:
        """One connection with every subscription in place, or SignInRefused/NotConnected
        (and the next member of a broker cluster is the one to try next)."""
        try:
            return await self._connect_member()
        except NotConnected:
            self._member = (self._member + 1) % len(self._members)
            raise

    async def _connect_member(self) -> aiomqtt.Client:
        conn = self._mqtt_client()
        try:
            await conn.__aenter__()
        except asyncio.CancelledError:  # close() while connecting: drop what may be open
            _abandon(conn)
            raise
        except aiomqtt.MqttCodeError as exc:
            code = getattr(exc.rc, "value", exc.rc)
            if code in UNSUPPORTED_VERSION and self.protocol is aiomqtt.ProtocolVersion.V5:
                log.info("cti_client.fallback_to_3.1.1", url=self.url)
                self.protocol = aiomqtt.ProtocolVersion.V311
                return await self._connect_member()
            if code in CREDENTIALS:
                raise SignInRefused(f"{self.url} refused {self.user!r}: {exc}") from None
            raise NotConnected(f"{self.url} refused the connection: {exc}") from None
        except aiomqtt.MqttError as exc:
            raise NotConnected(f"cannot connect to {self.url}: {exc}") from None
        try:
            # Hold live updates until the gap since the last connection is filled; the
            # status first, so its retained document (with the epoch) comes before any
            # state of this connection.
            self._streams.hold()
            self._online.clear()
            await conn.subscribe(self.inbox, qos=1)
            await conn.subscribe(self.topics.status, qos=1)
            # Until nothing is missing: watch() and watch_lamps() called while this
            # connection is being made add topics it does not subscribe themselves.
            subscribed: set[str] = set()
            self._connections += 1
            if self._chat_watched and self._connections > 1:
                self._chat_hold = []  # live messages wait for the fetch of the missed ones
            while topics := [
                t
                for t in self._device_topics(self._streams.devices)
                + self._own_topics()
                + sorted(self._lamps)
                + sorted(self._documents)
                if t not in subscribed
            ]:
                await conn.subscribe([(t, 1) for t in topics])
                subscribed.update(topics)
        except aiomqtt.MqttError as exc:
            await _drop(conn)
            raise NotConnected(f"{self.url}: subscribing failed: {exc}") from None
        except BaseException:  # cancelled (close()): do not leave the connection open
            await _drop(conn)
            raise
        try:  # signed in on one more client (IM-01): what makes the user "online"
            await self._announce(conn)
        except aiomqtt.MqttError as exc:
            await _drop(conn)
            raise NotConnected(f"{self.url}: announcing the session failed: {exc}") from None
        self._conn = conn  # requests may go out from now on
        self._sync_wanted.set()
        self._emit(Connected())
        return conn

    async def _run(self, conn: aiomqtt.Client) -> None:
        """:meth:`_keep_up`; if it fails unexpectedly, :meth:`updates` and requests say so
        instead of the client going silent."""
        try:
            await self._keep_up(conn)
        except Exception as exc:
            log.exception("cti_client.crashed", user=self.user)
            self._give_up(CtiError(f"the client stopped: {exc!r}"))

    def _give_up(self, failure: CtiError) -> None:
        self._failure = failure
        self._queue.put_nowait(failure)

    async def _keep_up(self, conn: aiomqtt.Client) -> None:
        """Serve the connection; when it drops, reconnect with back-off (jittered, so a
        thousand UIs do not come back in the same millisecond after a broker restart)."""
        while True:
            reason = await self._serve(conn)
            if self._closing:
                return
            log.info("cti_client.disconnected", user=self.user, reason=reason)
            self._emit(Disconnected(reason))
            delay = BACKOFF[0]
            while True:
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                try:
                    conn = await self._connect()
                    break
                except SignInRefused as exc:  # retrying cannot help
                    self._give_up(exc)
                    return
                except NotConnected as exc:
                    log.info("cti_client.reconnect_failed", error=str(exc))
                    delay = min(delay * 2, BACKOFF[1])

    async def _serve(self, conn: aiomqtt.Client) -> str:
        """Read the connection until it drops; returns why it did."""
        syncer = asyncio.create_task(self._syncer(conn))
        refresher = asyncio.create_task(self._refresh_session(conn))
        chat_sync = asyncio.create_task(self._chat_sync()) if self._chat_hold is not None else None
        try:
            async for message in conn.messages:
                self._dispatch(message)
            return "closed"
        except aiomqtt.MqttError as exc:
            return str(exc.__cause__ or exc)
        finally:
            self._conn = None
            maybe = [syncer, refresher, chat_sync, self._chat_gap]
            tasks = [t for t in maybe if t is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._fail_pending(
                NotConnected(
                    "the connection was lost before the reply came: the request may or may "
                    "not have been carried out"
                )
            )
            await _drop(conn)

    # -- requests ----------------------------------------------------------------------------
    async def request(self, service: str, /, **fields: Any) -> Any:
        """Send a request of the signed-in account; its ``result`` (an object for commands,
        a list for some queries, e.g. snapshotDevice). Raises :class:`Refused` (with the
        node's code, message and details), :class:`NotConnected` or :class:`NoReply`.

        Field names as in specs/mqtt.md (camelCase or snake_case)."""
        reply = await self._request(service, fields)
        if reply.get("ok") is True:
            return reply.get("result")
        error = reply.get("error")
        if not isinstance(error, dict):
            raise Refused("generic", f"a reply without result or error: {reply}")
        details = error.get("details")
        raise Refused(
            str(error.get("code")),
            str(error.get("message", "")),
            details if isinstance(details, dict) else None,
        )

    async def _request(self, service: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The reply document: MQTT 5 Response Topic (this client's own inbox) and
        Correlation Data (which of our requests it answers), with a Message Expiry; over
        MQTT 3.1.1 ``reply_to`` and ``correlation`` (hex) in the payload, which the node
        echoes in the reply (no expiry there)."""
        conn = self._conn
        if conn is None:
            raise self._failure or NotConnected(f"not connected to {self.url} (reconnecting)")
        correlation = uuid.uuid4().bytes
        props: Properties | None = None
        if self.protocol is aiomqtt.ProtocolVersion.V5:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]  # paho
            props.ResponseTopic = self.inbox
            props.CorrelationData = correlation
            props.MessageExpiryInterval = EXPIRY
        else:
            fields = {**fields, "reply_to": self.inbox, "correlation": correlation.hex()}
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[correlation] = reply
        topic = self.topics.request(self.account, service, secure=self.secure)
        try:
            await conn.publish(topic, json.dumps(fields).encode(), qos=1, properties=props)
            return await asyncio.wait_for(reply, self.timeout)
        except aiomqtt.MqttError as exc:
            raise NotConnected(f"{service} not sent: {exc}") from None
        except TimeoutError:
            raise NoReply(
                f"no reply to {service} within {self.timeout:g} s: is node "
                f"{self.topics.node} running?"
            ) from None
        finally:
            self._pending.pop(correlation, None)

    def _fail_pending(self, error: CtiError) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    # The common services, typed. Anything else: request(service, **fields).
    async def make_call(self, calling: str, called: str) -> CallRef:
        """Call ``called`` from ``calling`` (one of your devices); the new call."""
        return cast(CallRef, await self.request("makeCall", calling=calling, called=called))

    async def answer_call(self, call: int, device: str) -> CallRef:
        return cast(CallRef, await self.request("answerCall", call=call, device=device))

    async def clear_connection(self, call: int, device: str) -> None:
        """Hang up ``device`` in ``call`` (the others may stay connected)."""
        await self.request("clearConnection", call=call, device=device)

    async def hold_call(self, call: int, device: str) -> None:
        await self.request("holdCall", call=call, device=device)

    async def retrieve_call(self, call: int, device: str) -> None:
        await self.request("retrieveCall", call=call, device=device)

    async def change_password(self, old: str, new: str) -> None:
        """Change the signed-in account's password (USER-02). Only over TLS (``mqtts://``);
        on plain MQTT the node refuses it ``encryptionRequired``. The client signs in with
        the new one from now on, so a reconnect still works."""
        await self.request("changePassword", oldPassword=old, newPassword=new)
        self._password = new

    # -- directories (DIR-01, DIR-04, DIR-06; specs/directory.md) -------------------------------
    async def search_directory(self, text: str, limit: int = 20) -> dict[str, Any]:
        """Search your personal, the internal and the system directory by the first letters
        of a name or by number: ``{"counts": {...}, "complete", "hits": [...], ...}``. Call it
        on every key press; drop answers to texts no longer shown."""
        result = await self.request("searchDirectory", user=self.user, text=text, limit=limit)
        return cast(dict[str, Any], result)

    async def add_contact(self, name: str, **fields: str) -> int:
        """Add a contact to your personal directory (``company``, ``business``, ``mobile``,
        ``home``, ``other``, ``email``); its id."""
        result = await self.request("addContact", user=self.user, name=name, **fields)
        return int(result["id"])

    async def import_contacts(
        self,
        data: bytes,
        *,
        file_format: str = "csv",
        encoding: str = "utf-8",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Import a contacts file (its bytes, as saved) into your personal directory; the
        report: added, updated, unchanged, keptManual, rejected and the rejected lines.
        A file bigger than one request may carry goes in parts first (uploadContactsPart).
        Raises :class:`Refused` ``unusableFile`` for a file that cannot be read at all."""
        fields: dict[str, Any] = {"format": file_format, "encoding": encoding, "dryRun": dry_run}
        if len(data) <= MAX_PART:
            fields["data"] = base64.b64encode(data).decode("ascii")
        else:
            upload = uuid.uuid4().hex
            for n, start in enumerate(range(0, len(data), MAX_PART), 1):
                part = base64.b64encode(data[start : start + MAX_PART]).decode("ascii")
                await self.request(
                    "uploadContactsPart", user=self.user, upload=upload, part=n, data=part
                )
            fields["upload"] = upload
        result = await self.request("importContacts", user=self.user, **fields)
        return cast(dict[str, Any], result)

    async def identify_caller(self, number: str) -> str | None:
        """The name you know ``number`` by (personal, internal, then system directory)."""
        result = await self.request("identifyCaller", user=self.user, number=number)
        name = result.get("name")
        return None if name is None else str(name)

    # The journal (JOUR-01..05, specs/journal.md): your own only.
    async def get_journal(
        self, folder: str = "all", *, limit: int = 50, before: int | None = None
    ) -> JournalResult:
        """A page of your journal, newest first: ``folder`` open, missed, answered, all or
        overdue; ``before`` the ``nextBefore`` of the previous page."""
        fields: dict[str, Any] = {"user": self.user, "folder": folder, "limit": limit}
        if before is not None:
            fields["before"] = before
        return cast(JournalResult, await self.request("getJournal", **fields))

    async def journal_counts(self) -> JournalCountsDoc:
        return cast(JournalCountsDoc, await self.request("getJournalCounts", user=self.user))

    async def set_journal_note(
        self,
        entry: int,
        note: str | None,
        *,
        remind_at: int | None = None,
        remind_in: int | None = None,
    ) -> None:
        """A note on an entry with an optional reminder (ms UTC, or seconds from now);
        no note and no reminder clears it (JOUR-03)."""
        fields: dict[str, Any] = {"user": self.user, "entry": entry, "note": note}
        if remind_at is not None:
            fields["remindAt"] = remind_at
        if remind_in is not None:
            fields["remindIn"] = remind_in
        await self.request("setJournalNote", **fields)

    async def mark_journal_entry_done(self, entry: int) -> None:
        await self.request("markJournalEntryDone", user=self.user, entry=entry)

    async def delete_journal_entry(self, entry: int) -> None:
        await self.request("deleteJournalEntry", user=self.user, entry=entry)

    async def delete_journal_entries_older_than(self, days: int) -> None:
        await self.request("deleteJournalEntriesOlderThan", user=self.user, days=days)

    async def clear_journal(self) -> None:
        await self.request("clearJournal", user=self.user)

    async def call_back(self, entry: int, device: str | None = None) -> CallRef:
        """Call the party of a journal entry back from ``device`` (default: your number)."""
        fields: dict[str, Any] = {"user": self.user, "entry": entry}
        if device is not None:
            fields["device"] = device
        return cast(CallRef, await self.request("callBackJournalEntry", **fields))

    async def save_journal_contact(self, entry: int, name: str | None = None) -> Any:
        """Save the party of an entry as a personal contact (the directory's answer)."""
        fields: dict[str, Any] = {"user": self.user, "entry": entry}
        if name is not None:
            fields["name"] = name
        return await self.request("saveJournalContact", **fields)

    async def watch_journal(self) -> None:
        """Receive the counts of your journal's folders (:class:`JournalCounts`) now and
        after every change: the badge of a UI (JOUR-02)."""
        topic = self.topics.journal(self.account)
        if topic in self._documents:
            return
        self._documents.add(topic)
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(aiomqtt.MqttError):  # lost: the next connection subscribes
                await conn.subscribe(topic, qos=1)

    # -- chat (IM-01..03, specs/chat.md) -------------------------------------------------------
    async def _announce(self, conn: aiomqtt.Client) -> None:
        body = json.dumps({"client": self.id, "refreshS": REFRESH_S}).encode()
        await conn.publish(self.session_topic, body, qos=1, retain=True)

    async def _refresh_session(self, conn: aiomqtt.Client) -> None:
        """Refresh the marker: the node forgets a session not seen for three refreshes (a
        marker whose Will was lost with a broker)."""
        while True:
            await asyncio.sleep(REFRESH_S)
            with contextlib.suppress(aiomqtt.MqttError):
                await self._announce(conn)

    async def send_chat(self, to: str, text: str, client_id: str | None = None) -> SendChatResult:
        """Send a chat message (IM-01). ``client_id``: yours, to retry safely (the same id
        again answers the stored message); default: a new one. Refused with ``partnerOffline``
        when ``to`` is signed in nowhere (IM-02)."""
        cid = client_id or uuid.uuid4().hex
        result: SendChatResult = await self.request(
            "sendChatMessage", to=to, text=text, clientId=cid
        )
        return result

    async def chat_messages(
        self, partner: str, since_seq: int = 0, limit: int = 100
    ) -> ChatMessagesResult:
        """The conversation with ``partner`` after ``since_seq``, oldest first."""
        result: ChatMessagesResult = await self.request(
            "getChatMessages", partner=partner, sinceSeq=since_seq, limit=limit
        )
        return result

    async def chat_conversations(self) -> ChatConversationsResult:
        result: ChatConversationsResult = await self.request("getChatConversations")
        return result

    async def mark_chat_read(self, partner: str, seq: int) -> int:
        """Read up to ``seq``: every client of yours gets :class:`ChatRead`."""
        result = await self.request("markChatRead", partner=partner, seq=seq)
        return int(result["readSeq"])

    async def watch_chat(self) -> None:
        """Receive your chat messages and read marks (:class:`ChatMessage`,
        :class:`ChatRead`) from now on; after a lost connection, the messages missed
        meanwhile are fetched from the node (``getChatMessages`` since the last seen)."""
        topic = self.topics.chat(self.account)
        if self._chat_watched:
            return
        self._chat_watched = True
        self._documents.add(topic)
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await conn.subscribe(topic, qos=1)
        # What is already there is history, not news: the next fetch starts after it.
        for conv in (await self.chat_conversations())["conversations"]:
            partner = conv["partner"]
            self._chat_seen[partner] = max(self._chat_seen.get(partner, 0), conv["lastSeq"])
        self._chat_ready = True

    async def watch_online(self, *users: str) -> None:
        """Receive whether ``users`` (everyone without arguments) are signed in anywhere."""
        topics = {self.topics.online(u) for u in users} or {self.topics.online("+")}
        new = sorted(topics - self._documents)
        self._documents.update(new)
        conn = self._conn
        if new and conn is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await conn.subscribe([(t, 1) for t in new])

    def _on_chat(self, doc: dict[str, Any]) -> None:
        if doc.get("event") == "chatRead":
            self._emit(ChatRead(cast(ChatReadDoc, doc)))
        elif doc.get("event") == "chatMessage" and isinstance(doc.get("seq"), int):
            message = cast(ChatMessageDoc, doc)
            if self._chat_hold is not None:
                self._chat_hold.append(message)
            elif (
                self._chat_ready and message["seq"] > self._chat_seen.get(message["partner"], 0) + 1
            ):
                # A gap: a message the node stored but could not publish (its broker
                # connection dropped after the commit; a retry then answers a duplicate,
                # which is not published again). Fetch what is missing, then this one.
                self._chat_hold = [message]
                self._chat_gap = asyncio.create_task(self._chat_sync())
            else:
                self._emit_chat([message])

    def _emit_chat(self, messages: list[ChatMessageDoc]) -> None:
        """Each message once, in seq order per conversation."""
        for message in sorted(messages, key=lambda m: (m["partner"], m["seq"])):
            partner = message["partner"]
            if message["seq"] > self._chat_seen.get(partner, 0):
                self._chat_seen[partner] = message["seq"]
                self._emit(ChatMessage(message))

    async def _chat_sync(self) -> None:
        """After a reconnect: the messages missed while away, then the held live ones."""
        fetched: list[ChatMessageDoc] = []
        complete = False
        try:
            conversations = (await self.chat_conversations())["conversations"]
            for conv in conversations:
                partner = conv["partner"]
                since = self._chat_seen.get(partner, 0)
                while conv["lastSeq"] > since:
                    page = await self.chat_messages(partner, since_seq=since)
                    if not page["messages"]:
                        break  # beyond the history kept (IM-03)
                    fetched += page["messages"]
                    since = page["messages"][-1]["seq"]
                mark = ChatReadDoc(event="chatRead", partner=partner, readSeq=conv["readSeq"])
                self._emit(ChatRead(mark))
            complete = True
        except CtiError as exc:  # the connection went again: the next one fetches anew
            log.info("cti_client.chat_sync_failed", error=str(exc))
        finally:
            held, self._chat_hold = self._chat_hold or [], None
            # Incomplete: only what was fetched (held ones may lie beyond a gap).
            self._emit_chat(fetched + held if complete else fetched)

    # -- watching ----------------------------------------------------------------------------
    async def watch(self, *devices: str) -> None:
        """Receive the state and events of ``devices`` from now on (and after every
        reconnect). Only your own devices: for any other the broker delivers nothing
        (specs/security.md); their busy lamps are for everyone (:meth:`watch_lamps`)."""
        new = sorted(set(devices) - self._streams.devices)
        if not new:
            return
        self._streams.devices.update(new)
        await self._subscribe_streams(self._device_topics(new))

    async def watch_own(self) -> None:
        """Receive the signed-in user's own events (``users/{user}/events``: presence,
        profile, mailbox) as :class:`OwnEvent` updates, from now on and after every reconnect:
        each once, in ``seq`` order, gaps filled from the log as for :meth:`watch`."""
        if self.account in self._streams.owners:
            return
        self._streams.owners.add(self.account)
        await self._subscribe_streams(self._own_topics())

    async def _subscribe_streams(self, topics: list[str]) -> None:
        """Subscribe to the topics of newly watched streams, and fill what they missed."""
        conn = self._conn
        if conn is None:
            return  # the next connection subscribes
        # Events of the new streams published before the subscription is in place are only
        # in the log: hold, subscribe, fill from the log, release.
        # A fill in progress must not release (and let live events of the other streams
        # move `covered` past what the new ones missed) before the subscription is in place.
        self._streams.hold()
        self._subscribing += 1
        try:
            with contextlib.suppress(aiomqtt.MqttError):  # lost: the next connection subscribes
                await conn.subscribe([(t, 1) for t in topics])
        finally:
            self._subscribing -= 1
            self._sync_wanted.set()

    async def watch_lamps(self, *devices: str) -> None:
        """Receive the busy lamps of ``devices`` (all devices without arguments): what every
        user may see of anyone's phone (CALL-10)."""
        topics = {self.topics.lamp(d) for d in devices} or {self.topics.lamp("+")}
        new = sorted(topics - self._lamps)
        self._lamps.update(new)
        conn = self._conn
        if new and conn is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await conn.subscribe([(t, 1) for t in new])

    async def updates(self) -> AsyncIterator[Update]:
        """Every update in order: states, events (each once, in ``seq`` order per device and
        of your own, gaps filled from the log after a reconnect), lamps, the node's status, and
        :class:`Connected` / :class:`Disconnected` / :class:`Reset`. Ends when the client is
        closed; raises :class:`SignInRefused` if a reconnect is refused. One consumer."""
        while True:
            item = await self._queue.get()
            if isinstance(item, _Closed):
                self._queue.put_nowait(item)  # for the next reader too
                return
            if isinstance(item, CtiError):
                self._queue.put_nowait(item)  # for the next reader too
                raise item
            yield item

    def _device_topics(self, devices: set[str] | list[str]) -> list[str]:
        return [
            t
            for d in sorted(devices)
            for t in (self.topics.device_state(d), self.topics.device_events(d))
        ]

    def _own_topics(self) -> list[str]:
        return [self.topics.user_events(u) for u in sorted(self._streams.owners)]

    def _emit(self, *updates: Update) -> None:
        for update in updates:
            self._queue.put_nowait(update)

    # -- what arrives ------------------------------------------------------------------------
    def _dispatch(self, message: aiomqtt.Message) -> None:
        topic = str(message.topic)
        payload = message.payload
        if not isinstance(payload, bytes | bytearray) or not payload:
            return  # a cleared retained message
        try:
            doc = json.loads(payload)
        except ValueError:
            log.warning("cti_client.bad_payload", topic=topic)
            return
        if not isinstance(doc, dict):
            return
        if topic == self.inbox:
            correlation = getattr(message.properties, "CorrelationData", None)
            if correlation is None and isinstance(doc.get("correlation"), str):
                with contextlib.suppress(ValueError):  # MQTT 3.1.1: echoed in the payload
                    correlation = bytes.fromhex(doc.pop("correlation"))
            future = self._pending.get(bytes(correlation)) if correlation else None
            if future is not None and not future.done():
                future.set_result(doc)
            return  # else a late reply to a request that timed out
        if topic == self.topics.status:
            self._on_status(cast(StatusDoc, doc), retained=bool(message.retain))
            return
        if topic == self.topics.chat(self.account):
            self._on_chat(doc)
            return
        online = self.topics.base + "/online/"
        if topic.startswith(online) and isinstance(doc.get("online"), bool):
            self._emit(Online(topic[len(online) :], bool(doc["online"])))
            return
        if topic == self.topics.journal(self.account):
            self._emit(JournalCounts(cast(JournalCountsDoc, doc)))
            return
        update = self._update(topic, doc)
        if update is not None:
            self._emit(*self._streams.live(update))

    def _update(self, topic: str, doc: dict[str, Any]) -> Held | None:
        rest = topic.removeprefix(self.topics.base + "/").split("/")
        if not isinstance(doc.get("seq"), int):
            log.warning("cti_client.bad_document", topic=topic)
            return None
        try:
            if len(rest) == 2 and rest[0] == "lamps":
                return Lamp(rest[1], cast(LampDoc, doc))
            if len(rest) == 3 and rest[0] == "devices" and rest[2] == "state":
                return DeviceState(rest[1], cast(DeviceStateDoc, doc))
            if len(rest) == 3 and rest[0] == "devices" and rest[2] == "events":
                return DeviceEvent(rest[1], int(doc["seq"]), str(doc["event"]), doc)
            if len(rest) == 3 and rest[0] == "users" and rest[2] == "events":
                return OwnEvent(rest[1], int(doc["seq"]), str(doc["event"]), doc)
        except (KeyError, TypeError, ValueError):
            log.warning("cti_client.bad_document", topic=topic)
        return None

    def _on_status(self, doc: StatusDoc, *, retained: bool) -> None:
        epoch, seq = doc.get("epoch"), doc.get("seq")
        if doc.get("state") != "online" or not isinstance(epoch, str) or not isinstance(seq, int):
            self._online.clear()  # the node is away: replay requests would go unanswered
            self._status = doc
            self._emit(Status(doc))
            return
        before = self._status
        self._status = doc
        streams = self._streams
        if streams.epoch is None:
            streams.epoch = epoch
        elif epoch != streams.epoch:
            previous = streams.epoch
            self._reset(epoch)
            self._emit(Reset(epoch, previous))
        elif (
            before is None
            or before.get("state") != "online"
            or before.get("started") != doc.get("started")
        ):
            # The node (re)started or came back: it publishes at least once from where
            # the broker last acknowledged; look at the log instead of trusting that.
            streams.hold()
            self._sync_wanted.set()
        if not retained:
            streams.status_seen(seq)
        self._online.set()
        self._emit(Status(doc))

    def _reset(self, epoch: str) -> None:
        log.warning("cti_client.epoch_changed", epoch=epoch, previous=self._streams.epoch)
        self._streams.reset(epoch)
        self._refresh = True
        self._sync_wanted.set()

    # -- filling gaps ------------------------------------------------------------------------
    async def _syncer(self, conn: aiomqtt.Client) -> None:
        """Whenever a gap may have opened (this connection is new, a device was watched, the
        node restarted, the epoch changed): page through the log from ``covered`` until the
        replay is complete, then release what was held, in seq order."""
        while True:
            await self._sync_wanted.wait()
            await self._online.wait()  # the node answers, and its status tells where we are
            self._sync_wanted.clear()
            try:
                if self._refresh:
                    # A new log: the retained documents again, to start from the retained
                    # state (a subscription made again delivers them again).
                    self._refresh = False
                    topics = self._device_topics(self._streams.devices) + sorted(self._lamps)
                    if topics:
                        await conn.subscribe([(t, 1) for t in topics])
                released = await self._fill()
            except NoReply:  # the node went away mid-way: again when it is back
                log.info("cti_client.replay_unanswered")
                self._sync_wanted.set()
                continue
            except (NotConnected, aiomqtt.MqttError):
                return  # the connection is gone: the next one fills the gap
            except Refused as exc:  # the node will not say: go on live, say so
                log.error("cti_client.replay_refused", code=exc.code, message=exc.message)
                released = self._release_unfilled()
            except Exception:  # a reply this client does not understand: as refused
                log.exception("cti_client.replay_failed")
                released = self._release_unfilled()
            if released is not None:
                self._emit(*released)

    def _release_unfilled(self) -> list[Update]:
        """Go on live without the log: the held updates, ``covered`` where a fill would
        have started (not 0: a later fill would replay the whole log)."""
        status_seq = self._status.get("seq") if self._status is not None else None
        start = self._streams.start(status_seq if isinstance(status_seq, int) else 0)
        return self._streams.release([], start - 1)

    async def _fill(self) -> list[Update] | None:
        """The released updates; None if something asked for another fill meanwhile."""
        streams, status = self._streams, self._status
        if status is None or "seq" not in status:  # went offline just now: when it is back
            self._sync_wanted.set()
            return None
        start = streams.start(status["seq"])
        if not streams.devices and not streams.owners:  # nothing whose events could be missing
            return streams.release([], start - 1)
        events: list[dict[str, Any]] = []
        while True:
            page = await self.request("replay", fromSeq=start, limit=REPLAY_LIMIT)
            if page["epoch"] != streams.epoch:
                # The log was recreated and its status has not reached us yet.
                previous = streams.epoch or ""
                self._reset(page["epoch"])
                streams.covered = page["lastSeq"]  # start from the retained state
                self._emit(Reset(page["epoch"], previous))
                return None
            events += page["events"]
            if page["complete"]:
                break
            start = page["nextSeq"]
        if self._sync_wanted.is_set() or self._subscribing:
            return None  # a device was watched meanwhile: fill again, for it too
        # Later events are published after the reply, so they come live (specs/mqtt.md).
        published = page.get("publishedSeq", page["lastSeq"])
        return streams.release(events, published)
