"""Instant messaging on the faces (IM-01..03, specs/chat.md): the chat's requests, answered by
the chat's own store and writer (cti.chat.chat_db), never by the node's call log; who is online
from the clients' session markers (cti.chat.sessions).

- ``sendChatMessage``: to a partner who is online (IM-02: else ``partnerOffline``, unless the
  site allows store-and-forward, ``[chat] store_and_forward``); idempotent by ``clientId``;
  stored (committed) before it is published to both users' ``users/{u}/chat`` and answered.
- ``getChatMessages``: a conversation of the sender's since a ``seq`` (what a client fetches
  after a reconnect), with the partner's online state (IM-01) and the read watermark.
- ``getChatConversations``: the sender's conversations with unread counts.
- ``markChatRead``: moves the sender's read watermark; published to all the sender's clients.

Every request is about the sender's own conversations: ``user`` (optional) must be the sender
(no role reads another's chat: not even integrators, who see every call), and the broker lets
each user read only their own ``users/{user}/chat`` (specs/security.md).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypedDict

import attrs
import structlog

from cti.accounts.access import change_first
from cti.accounts.events import AccountRemoved
from cti.accounts.model import PEOPLE
from cti.api import documents as payloads
from cti.app.clock import Clock
from cti.app.feed import PAGE
from cti.app.follower import supervised
from cti.app.node import Node
from cti.chat import model
from cti.chat.chat_db import ChatDb, ChatWriter, Conversation, Sent, StoreFailed
from cti.chat.model import HISTORY, MAX_TEXT, Message, partner_of
from cti.chat.sessions import REFRESH_S, Sessions
from cti.kernel.messages import Command, Query
from cti.kernel.refusal import Refusal, invalid_field
from cti.mqtt.topics import Topics

log = structlog.get_logger(__name__)
# Chat requests being answered at once; the others wait, parked, for a turn. Chat and call
# control share the node's event loop: without a bound, a flood of chat requests would take
# nearly every turn of it from the engine's callers (bench section 9).
CONCURRENCY = 32
# Chat requests in hand (answered or waiting for a turn): beyond, refused resourceBusy at
# once. Each is one of the MQTT face's MAX_PENDING (1,000) while it waits; without this
# bound a chat store that stalls (a disk, a database that stopped answering) would take every
# one of them, and the face would turn away call control's requests as well.
MAX_IN_HAND = 500
# topic, payload, retain
Publish = Callable[[str, bytes, bool], None]


# -- what travels ---------------------------------------------------------------------------
class ChatMessageDoc(TypedDict):
    """A message (event ``chatMessage`` on ``users/{u}/chat``, for both users, and an item of
    ``getChatMessages``). ``partner``: the other user, seen from the topic's (or the asker's)
    side; ``seq``: its place in the conversation, assigned by the node; ``at``: the node's
    time, ms since the epoch; ``clientId``: the sender's id of it."""

    event: Literal["chatMessage"]
    partner: str
    seq: int
    sender: str
    recipient: str
    text: str
    at: int
    clientId: str


class ChatReadDoc(TypedDict):
    """The user's read watermark of a conversation moved (event ``chatRead`` on the user's own
    ``users/{u}/chat``: every client of the user shows the same unread count)."""

    event: Literal["chatRead"]
    partner: str
    readSeq: int


class OnlineDoc(TypedDict):
    """Whether a user is signed in on any client (IM-01): retained ``online/{user}``, for every
    signed-in user; ``online`` false when the last session ended or timed out."""

    user: str
    online: bool


class SendChatResult(TypedDict):
    partner: str
    seq: int
    at: int
    clientId: str
    duplicate: bool  # the same clientId was sent before: this is that message
    partnerOnline: bool  # false only with store-and-forward (IM-02 option)


class ChatMessagesResult(TypedDict):
    partner: str
    partnerOnline: bool
    messages: list[ChatMessageDoc]  # oldest first, seq > sinceSeq
    lastSeq: int  # the conversation's newest seq: more to fetch while the last item is below
    readSeq: int  # the asker's read watermark


class ChatConversationDoc(TypedDict):
    partner: str
    partnerOnline: bool
    lastSeq: int
    readSeq: int
    unread: int
    kept: int  # messages of it the user keeps (IM-03: 100 in all conversations together)


class ChatConversationsResult(TypedDict):
    user: str
    conversations: list[ChatConversationDoc]  # the newest message first


class ChatReadResult(TypedDict):
    partner: str
    readSeq: int


# -- requests ------------------------------------------------------------------------------
@attrs.frozen(kw_only=True)
class SendChatMessage(Command):
    """Send ``text`` (plain text, at most 2,000 characters, no control characters but line
    break and tab) to ``to`` (IM-01/02). ``clientId``: the sender's unique id of the message;
    sending it again (a retry) answers the stored message, storing nothing new."""

    SERVICE: ClassVar[str] = "sendChatMessage"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = SendChatResult
    to: str
    text: str = attrs.field(metadata={"max_length": MAX_TEXT})
    client_id: str = attrs.field(metadata={"max_length": model.MAX_CLIENT_ID})
    user: str | None = None


@attrs.frozen(kw_only=True)
class GetChatMessages(Query):
    """The conversation with ``partner``: the messages the sender keeps with ``seq`` above
    ``sinceSeq`` (0: all), oldest first, at most ``limit`` (1..100)."""

    SERVICE: ClassVar[str] = "getChatMessages"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ChatMessagesResult
    partner: str
    since_seq: int = 0
    limit: int = HISTORY
    user: str | None = None


@attrs.frozen(kw_only=True)
class GetChatConversations(Query):
    """The sender's conversations, newest first, with unread counts and online states."""

    SERVICE: ClassVar[str] = "getChatConversations"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ChatConversationsResult
    user: str | None = None


@attrs.frozen(kw_only=True)
class MarkChatRead(Command):
    """The sender has read the conversation with ``partner`` up to ``seq``: the watermark
    moves up (never down) and every client of the sender is told (``chatRead``)."""

    SERVICE: ClassVar[str] = "markChatRead"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ChatReadResult
    partner: str
    seq: int
    user: str | None = None


REQUESTS = (SendChatMessage, GetChatMessages, GetChatConversations, MarkChatRead)
ChatRequest = SendChatMessage | GetChatMessages | GetChatConversations | MarkChatRead


def message_doc(message: Message, reader: str) -> ChatMessageDoc:
    return ChatMessageDoc(
        event="chatMessage",
        partner=partner_of(message.conv, reader),
        seq=message.seq,
        sender=message.sender,
        recipient=message.recipient,
        text=message.text,
        at=message.at,
        clientId=message.client_id,
    )


def _forget(db: ChatDb, owner: str) -> None:
    db.forget(owner)


def _forget_all_but(db: ChatDb, keep: set[str]) -> list[str]:
    return db.forget_all_but(keep)


def _ok(result: object) -> dict[str, Any]:
    # ``seq`` of a reply is the call log's position elsewhere; chat has none there: 0.
    return {"ok": True, "result": result, "seq": 0}


def _refused(refusal: Refusal) -> dict[str, Any]:
    body: dict[str, Any] = {"code": refusal.name, "message": refusal.message}
    if refusal.details:
        body["details"] = dict(refusal.details)
    return {"ok": False, "error": body}


class ChatService:
    """The chat of one node: answers its requests, tracks who is online, publishes. A face of
    ``cti serve`` (``start``: the writer and the session sweep, both supervised)."""

    name = "chat"

    def __init__(
        self,
        node: Node,
        db: ChatDb,
        clock: Clock,
        *,
        store_and_forward: bool = False,
        sessions: Sessions | None = None,
    ) -> None:
        self.node = node
        self.db = db
        self.writer = ChatWriter(db)
        self.clock = clock
        self.topics = Topics(node.site.node)
        self.store_and_forward = store_and_forward
        self.sessions = sessions or Sessions()
        self.publish: Publish | None = None  # the MQTT face's, while connected
        self.retained: dict[str, bytes] = {}  # the online documents, for the face's guard
        self._tasks: list[asyncio.Task[None]] = []
        self._gate = asyncio.Semaphore(CONCURRENCY)
        self._in_hand = 0  # requests answered or waiting for the gate (MAX_IN_HAND)

    # -- lifetime ------------------------------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(supervised("chat-writer", self.writer.run), name="chat-writer"),
            asyncio.create_task(supervised("chat-sessions", self._sweep), name="chat-sessions"),
            asyncio.create_task(
                supervised("chat-removals", self._forget_removed), name="chat-removals"
            ),
        ]

    async def _forget_removed(self) -> None:
        """A removed account's chat goes with it (:meth:`ChatDb.forget`): a user later given
        the same name (an internal number handed on) must not read the old one's messages.
        At (re)start every owner without an account; then each ``accountRemoved`` of the log,
        from the node's in-memory tail (fallen behind it: every owner without an account)."""
        seq = -1
        while True:
            batch = self.node.feed.read(seq + 1, PAGE) if seq >= 0 else None
            if batch is None:
                seq = self.node.feed.last_seq
                names = set(self.node.state.accounts.accounts)
                gone = await self.writer.submit(functools.partial(_forget_all_but, keep=names))
                for name in gone:
                    log.info("chat.account_forgotten", user=name)
            else:
                for item in batch:
                    if isinstance(item.event, AccountRemoved):
                        name = item.event.name
                        await self.writer.submit(functools.partial(_forget, owner=name))
                        log.info("chat.account_forgotten", user=name)
                    seq = item.seq
            await self.node.feed.wait_beyond(seq)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.db.close()

    async def _sweep(self) -> None:
        """Expire sessions not refreshed in time, on the node's clock (rule 2)."""
        while True:
            await self.clock.sleep_until(self.clock.now_ms() + REFRESH_S * 1000 // 3)
            self.expire()

    def expire(self) -> None:
        for user, client in self.sessions.expire(self.clock.now_ms()):
            log.info("chat.session_expired", user=user, client=client)
            self._send(self.topics.session(user, client), b"", retain=True)
        self._announce()
        # A removed account's online document goes with it (no ghost users).
        people = set(self.people())
        for user in [u for u in self._online_users() if u not in people]:
            topic = self.topics.online(user)
            del self.retained[topic]
            self._send(topic, b"", retain=True)

    def _online_users(self) -> list[str]:
        prefix = self.topics.online("")
        return [t[len(prefix) :] for t in self.retained if t.startswith(prefix)]

    # -- sessions (from the MQTT face) -----------------------------------------------------------
    def connected(self, publish: Publish) -> None:
        """A new connection to the broker: sessions are learnt anew from the retained
        markers, which arrive after the face subscribes ``topics.sessions``."""
        self.publish = publish
        self.sessions.resync()

    def settled(self) -> None:
        """The retained markers are in (a later SUBACK came back): sessions not among them
        ended while the node was not listening. Publish every person's online document."""
        self.sessions.settle()
        self._announce()
        for user in self.people():
            self._online_doc(user, self.sessions.online(user, self.clock.now_ms()))

    def disconnected(self) -> None:
        self.publish = None

    def on_session(self, topic: str, payload: bytes) -> bool:
        """A message on a session topic: True if it was one (handled)."""
        found = self.topics.session_of(topic)
        if found is None:
            return False
        user, client = found
        account = self.node.state.accounts.account(user)
        if account is None or account.role not in PEOPLE:
            return True  # machines' accounts (integrators, monitors) are never "online"
        if payload:
            for dropped in self.sessions.seen(user, client, self.clock.now_ms()):
                log.info("chat.session_dropped", user=user, client=dropped)
                self._send(self.topics.session(user, dropped), b"", retain=True)
        else:
            self.sessions.gone(user, client)
        self._announce(user)  # others' timeouts are the sweep's
        return True

    def people(self) -> list[str]:
        accounts = self.node.state.accounts.accounts.values()
        return sorted(a.name for a in accounts if a.role in PEOPLE)

    def _announce(self, user: str | None = None) -> None:
        """Publish the online documents that changed (of ``user`` only, if given)."""
        now = self.clock.now_ms()
        changes = self.sessions.changes(now, None if user is None else (user,))
        for name, online in sorted(changes.items()):
            log.info("chat.online", user=name, online=online)
            account = self.node.state.accounts.account(name)
            # A removed account's sessions end without a document.
            if account is not None and account.role in PEOPLE:
                self._online_doc(name, online)

    def _online_doc(self, user: str, online: bool) -> None:
        topic = self.topics.online(user)
        body = payloads.dumps(OnlineDoc(user=user, online=online))
        self.retained[topic] = body
        self._send(topic, body, retain=True)

    def _send(self, topic: str, body: bytes, *, retain: bool = False) -> None:
        if self.publish is not None:
            self.publish(topic, body, retain)

    def online(self, user: str) -> bool:
        return self.sessions.online(user, self.clock.now_ms())

    # -- requests ----------------------------------------------------------------------------
    async def execute(self, action: ChatRequest, principal: str | None) -> dict[str, Any]:
        if self._in_hand >= MAX_IN_HAND:
            return _refused(
                Refusal("resourceBusy", f"{MAX_IN_HAND} chat requests in hand: try again")
            )
        self._in_hand += 1
        try:
            async with self._gate:
                return await self._execute(action, principal)
        finally:
            self._in_hand -= 1

    async def _execute(self, action: ChatRequest, principal: str | None) -> dict[str, Any]:
        try:
            user = self._asker(action, principal)
            if isinstance(action, SendChatMessage):
                return _ok(await self._send_message(action, user))
            if isinstance(action, GetChatMessages):
                return _ok(await self._messages(action, user))
            if isinstance(action, GetChatConversations):
                return _ok(await self._conversations(user))
            return _ok(await self._mark_read(action, user))
        except Refusal as refusal:
            return _refused(refusal)
        except StoreFailed as exc:
            return _refused(Refusal("resourceOutOfService", str(exc), {"reason": exc.reason}))

    def _asker(self, action: ChatRequest, principal: str | None) -> str:
        """Whose conversations: the sender's own, whatever its role (see the module)."""
        user = action.user if action.user is not None else principal
        if user is None:
            raise invalid_field("user", "missing", "user is required on a face without accounts")
        if principal is not None and user != principal:
            raise model.not_permitted(f"{principal} may not act in {user}'s chat")
        account = self.node.state.accounts.account(user)
        if account is None or account.role not in PEOPLE:
            raise model.not_permitted(f"{user} is no user who chats")
        if principal is not None and account.must_change:
            raise change_first()
        return user

    def _partner(self, user: str, partner: str, field: str) -> str:
        account = self.node.state.accounts.account(partner)
        if account is None or account.role not in PEOPLE:
            raise Refusal(
                "unknownChatPartner", f"there is no user {partner} to chat with", {"field": field}
            )
        if partner == user:
            raise invalid_field(field, "self", "a conversation is between two users")
        return partner

    async def _send_message(self, action: SendChatMessage, user: str) -> SendChatResult:
        to = self._partner(user, action.to, "to")
        text = model.check_text(action.text)
        client_id = model.check_client_id(action.client_id)
        online = self.online(to)
        at = self.clock.now_ms()

        def send(db: ChatDb) -> Sent:
            return db.send(user, to, client_id, text, at)

        if not online and not self.store_and_forward:
            # IM-02; a retry of a message stored before the partner left is still answered.
            retry = await self.writer.submit(lambda db: db.retry(user, to, client_id, text))
            if retry is None:
                raise Refusal(
                    "partnerOffline",
                    f"{to} is not signed in: the message was not sent",
                    {"partner": to},
                )
            sent = retry
        else:
            sent = await self.writer.submit(send)
        message = sent.message
        if not sent.duplicate:  # persisted: now published, to both users' clients
            for reader in (message.sender, message.recipient):
                self._send(self.topics.chat(reader), payloads.dumps(message_doc(message, reader)))
        return SendChatResult(
            partner=message.recipient,
            seq=message.seq,
            at=message.at,
            clientId=message.client_id,
            duplicate=sent.duplicate,
            partnerOnline=online,
        )

    async def _messages(self, q: GetChatMessages, user: str) -> ChatMessagesResult:
        partner = self._partner(user, q.partner, "partner")
        if not 1 <= q.limit <= HISTORY:
            raise invalid_field("limit", "outOfRange", f"limit: from 1 to {HISTORY}")
        if q.since_seq < 0:
            raise invalid_field("sinceSeq", "outOfRange", "sinceSeq must not be negative")

        def read(db: ChatDb) -> tuple[list[Message], int, int]:
            return (
                db.messages(user, partner, q.since_seq, q.limit),
                db.last_seq(user, partner),
                db.read_seq(user, partner),
            )

        messages, last, read_seq = await self.writer.submit(read)
        return ChatMessagesResult(
            partner=partner,
            partnerOnline=self.online(partner),
            messages=[message_doc(m, user) for m in messages],
            lastSeq=last,
            readSeq=read_seq,
        )

    async def _conversations(self, user: str) -> ChatConversationsResult:
        found: list[Conversation] = await self.writer.submit(lambda db: db.conversations(user))
        return ChatConversationsResult(
            user=user,
            conversations=[
                ChatConversationDoc(
                    partner=c.partner,
                    partnerOnline=self.online(c.partner),
                    lastSeq=c.last_seq,
                    readSeq=c.read_seq,
                    unread=c.unread,
                    kept=c.kept,
                )
                for c in found
            ],
        )

    async def _mark_read(self, action: MarkChatRead, user: str) -> ChatReadResult:
        partner = self._partner(user, action.partner, "partner")
        if action.seq < 0:
            raise invalid_field("seq", "outOfRange", "seq must not be negative")
        read_seq: int = await self.writer.submit(lambda db: db.mark_read(user, partner, action.seq))
        doc = ChatReadDoc(event="chatRead", partner=partner, readSeq=read_seq)
        self._send(self.topics.chat(user), payloads.dumps(doc))
        return ChatReadResult(partner=partner, readSeq=read_seq)
