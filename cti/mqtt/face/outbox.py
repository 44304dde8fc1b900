"""Where events are published from: the transactional outbox, a follower of the log.

Events reach MQTT only after they are durable, in ``seq`` order, at QoS 1. The outbox tracks
which seqs the broker has acknowledged on every topic they go to (the broker acknowledges a
connection's messages in order, so the last message of a batch stands for all of it; the
client drops the connection if that ever does not hold), and stores that position
beside the log, so after a broker outage or an engine restart it resumes from there: every
subscriber sees every event at least once and drops duplicates by ``seq``.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import deque
from collections.abc import Awaitable

import structlog

from cti.accounts import events as accounts_events
from cti.accounts.model import PEOPLE
from cti.api import documents as payloads
from cti.app.feed import LogReader
from cti.app.node import Committed, Node
from cti.calls import events as ev
from cti.calls.views import device_view, touched_devices
from cti.conferences import views as conferences
from cti.directory import callers
from cti.favourites import views as favourites
from cti.mqtt.client import MqttClient
from cti.mqtt.limits import EVENTS_MESSAGE_BYTES
from cti.mqtt.topics import Topics
from cti.presence import events as presence_events
from cti.presence import view as presence_view
from cti.store import EventStore
from cti.voicemail import events as voicemail_events
from cti.voicemail.model import VoicemailFolder
from cti.voicemail.services import has_mailbox

log = structlog.get_logger(__name__)
POSITION_KEY = "outbox.published_seq"
# Events after which an account's retained profile is rendered again (USER-03).
PROFILE_EVENTS = (
    accounts_events.AccountCreated,
    accounts_events.AccountUpdated,
    accounts_events.AccountRemoved,
    accounts_events.ProfileChanged,
)


def presence_users(batch: list[Committed], accounts: set[str]) -> set[str]:
    """Users whose presence documents may have changed: presence events, the phone's DND
    (the one truth of presence DND), and accounts whose visibility may have changed."""
    out = set(accounts)
    for item in batch:
        event = item.event
        if isinstance(event, presence_events.PresenceEvent):
            out.add(event.user)
        elif isinstance(event, ev.DoNotDisturb):
            out.add(event.device)
    return out


def voicemail_users(batch: list[Committed], accounts: set[str]) -> set[str]:
    """Users whose mailbox counts may have changed (VM-02): every change of the folders is
    followed by ``messageWaiting``; a mailbox removed; accounts (a licence given or taken)."""
    out = set(accounts)
    for item in batch:
        event = item.event
        if isinstance(event, voicemail_events.MessageWaiting | voicemail_events.MailboxRemoved):
            out.add(event.mailbox)
    return out


MAX_INFLIGHT = 20_000


def event_arrays(bodies: list[bytes], limit: int = EVENTS_MESSAGE_BYTES) -> list[bytes]:
    """The batch's events as JSON arrays of at most ``limit`` bytes each (one event bigger
    than that alone), in order: a commit of a thousand commands must not exceed the
    broker's maximum packet size (cti/mqtt/limits.py), or the broker would drop it and
    disconnect the node, again on every retry."""
    arrays: list[bytes] = []
    chunk: list[bytes] = []
    size = 2
    for body in bodies:
        if chunk and size + len(body) + 1 > limit:
            arrays.append(b"[" + b",".join(chunk) + b"]")
            chunk, size = [], 2
        chunk.append(body)
        size += len(body) + 1
    if chunk:
        arrays.append(b"[" + b",".join(chunk) + b"]")
    return arrays


def same_document(old: bytes | None, new: bytes) -> bool:
    """Do two retained documents say the same, whenever they were made (``seq``, ``ts``)?"""
    if old is None:
        return False
    if old == new:
        return True
    try:
        a, b = json.loads(old), json.loads(new)
    except ValueError:
        return False
    if not isinstance(a, dict) or not isinstance(b, dict):
        return False
    moments = ("seq", "ts")
    return {k: v for k, v in a.items() if k not in moments} == {
        k: v for k, v in b.items() if k not in moments
    }


class Outbox:
    def __init__(self, node: Node, store: EventStore, topics: Topics) -> None:
        self.node = node
        self.site = node.site
        self.store = store  # a connection of the face's, read on the loop
        # The position is saved in a worker thread (MqttFace), on a connection only it uses:
        # a database that stops answering (a partition) must not hold the event loop.
        self._position = store.sibling()
        # Pages older than the in-memory tail (after a reconnect, or behind under load) are
        # read in a worker thread, on a connection nothing else uses.
        self.reader = LogReader(node.feed, store.sibling(readonly=True))
        self.topics = topics
        self.acked = int(store.get_meta(POSITION_KEY) or 0)
        self._saved = self.acked
        # The last seq handed to the connection: every later event is published after
        # whatever the face publishes now (a replay reply says so, specs/mqtt.md).
        self.sent = self.acked
        self._progress = asyncio.Event()
        self._tracking: deque[int] = deque()  # last seq of each batch not yet acknowledged
        self._run = 0  # which connection's acknowledgements count (older ones are ignored)
        # The last retained document of each topic, to tell a spoofed one (specs/security.md)
        # and to send a lamp only when it changed: a thousand UIs watch every lamp.
        self.retained: dict[str, bytes] = {}
        self._lamps: dict[str, tuple[str, bool]] = {}  # device: (summary, dnd) last sent
        self._topics: dict[str, tuple[str, str, str]] = {}  # see _device_topics
        self._conference_members = conferences.Members()

    # -- publishing -----------------------------------------------------------------------
    async def run(self, client: MqttClient) -> None:
        """Follow the log from the last acknowledged seq until the connection drops."""
        self._tracking.clear()
        self._run += 1
        self.sent = self.acked  # published again from there on this connection
        next_seq = self.acked + 1
        self.publish_all_states(client)
        while client.connected:
            batch = await self.reader.read_off_loop(next_seq)
            if not batch:
                await self._wait(client, self.node.feed.wait_beyond(next_seq - 1))
                continue
            self._publish(client, batch)
            next_seq = batch[-1].seq + 1
            while client.connected and client.inflight > MAX_INFLIGHT:
                self._progress.clear()
                await self._wait(client, self._progress.wait())

    async def _wait(self, client: MqttClient, what: Awaitable[object]) -> None:
        """Until ``what`` happens or the connection closes."""
        assert client.closed is not None
        waiter: asyncio.Future[object] = asyncio.ensure_future(what)
        closed: asyncio.Future[object] = client.closed  # type: ignore[assignment]
        try:
            await asyncio.wait([waiter, closed], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()

    def _publish(self, client: MqttClient, batch: list[Committed]) -> None:
        """Every message of the batch; only the last one asks for its acknowledgement: a
        broker acknowledges QoS 1 messages of a connection in the order it received them
        (MQTT 5 §4.6), so that ack covers the whole batch and everything before it."""
        bodies: list[bytes] = []  # each event's JSON, serialized once for every topic
        messages: list[tuple[str, bytes, bool]] = []  # all of them go in one publish_many
        for item in batch:
            for topic, body in self._event_messages(item, bodies):
                messages.append((topic, body, False))
        # Device states are coalesced per batch and reflect the node state right now.
        touched = touched_devices((x.event for x in batch), self.site) & self.site.devices.keys()
        last: list[tuple[str, bytes, bool]] = []
        for device in sorted(touched):
            last += self._retained_of(device)
        names = {x.event.name for x in batch if isinstance(x.event, PROFILE_EVENTS)}
        last += [self._profile_of(name) for name in sorted(names)]
        users = favourites.touched(self.node.state, (x.event for x in batch))
        last += [self._favourites_of(user) for user in sorted(users)]
        who = callers.touched(self.site, self.node.state, (x.event for x in batch))
        last += [self._callers_of(user) for user in sorted(who)]
        for user in sorted(presence_users(batch, names)):
            last += self._presence_of(user)
        members = self._conference_members.touched(self.node.state, (x.event for x in batch))
        last += [self._conferences_of(user) for user in sorted(members)]
        last += [self._voicemail_of(user) for user in sorted(voicemail_users(batch, names))]
        last[:0] = [(self.topics.events, array, False) for array in event_arrays(bodies)]
        seq = self.sent = batch[-1].seq
        if not last:  # only internal (timer) events: nothing to send, nothing to wait for
            if self._tracking:
                self._tracking[-1] = seq  # the pending batch's ack covers this one too
            else:
                self.acked = seq
            return
        self._tracking.append(seq)
        messages += last
        client.publish_many(messages, on_ack=functools.partial(self._ack, self._run))

    def _device_topics(self, device: str) -> tuple[str, str, str]:
        """A configured device's state, lamp and events topics, made once (every batch
        publishes on them)."""
        topics = self._topics.get(device)
        if topics is None:
            t = self.topics
            topics = self._topics[device] = (
                t.device_state(device),
                t.lamp(device),
                t.device_events(device),
            )
        return topics

    def _event_messages(self, item: Committed, bodies: list[bytes]) -> list[tuple[str, bytes]]:
        event = item.event
        if event.INTERNAL:
            return []
        body = payloads.event_json(item)
        bodies.append(body)
        out: list[tuple[str, bytes]] = []
        devices = self.site.devices
        if isinstance(event, ev.CallEvent):
            out.append((self.topics.call_events(event.call), body))
            for entry in event.local:
                if entry.device in devices:
                    out.append(
                        (
                            self._device_topics(entry.device)[2],
                            payloads.device_event(body, entry.device, entry.state),
                        )
                    )
        else:
            # A person's own event (presence, profile, mailbox) goes to their own event topic,
            # not to their phone's, which other accounts may read (a MULAP group's member).
            out.extend(
                (self._device_topics(d)[2], body) for d in event.topic_devices() if d in devices
            )
            owner = event.owned_by()
            if owner is not None:
                out.append((self.topics.user_events(owner), body))
        return out

    def _retained_of(self, device: str, *, every: bool = False) -> list[tuple[str, bytes, bool]]:
        """The device's state and, if it changed (or ``every``), its lamp; remembered."""
        view = device_view(self.site, self.node.state, device)
        seq = self.node.device_seq(device)  # its last change, not the log position
        now = self.node.clock.now_ms()
        state_topic, lamp_topic, _ = self._device_topics(device)
        body = payloads.device_state(self.site, view, seq, now)
        self.retained[state_topic] = body
        out = [(state_topic, body, True)]
        lamp = (view.summary, view.dnd)
        if every or self._lamps.get(device) != lamp:
            self._lamps[device] = lamp
            body = payloads.lamp(self.site, view, seq, now)
            self.retained[lamp_topic] = body
            out.append((lamp_topic, body, True))
        return out

    def _profile_of(self, name: str) -> tuple[str, bytes, bool]:
        """The retained profile of a person's account; empty (cleared) when there is none."""
        topic = self.topics.profile(name)
        account = self.node.state.accounts.account(name)
        if account is None or account.role not in PEOPLE:
            self.retained.pop(topic, None)
            return topic, b"", True
        body = payloads.profile(account, self.node.state.seq)
        self.retained[topic] = body
        return topic, body, True

    def _favourites_of(self, user: str) -> tuple[str, bytes, bool]:
        """The retained favourites of a person's account (DIR-05), for that user alone;
        empty (cleared) when there is no such account."""
        topic = self.topics.favourites(user)
        state = self.node.state
        account = state.accounts.account(user)
        if account is None or account.role not in PEOPLE:
            self.retained.pop(topic, None)
            return topic, b"", True
        body = payloads.favourites(favourites.view(state, user), state.seq)
        self.retained[topic] = body
        return topic, body, True

    def _callers_of(self, user: str) -> tuple[str, bytes, bool]:
        """Who a person's calls are with, named from their directories (DIR-06), for that
        user alone; empty (cleared) when there is no such account."""
        topic = self.topics.callers(user)
        state = self.node.state
        account = state.accounts.account(user)
        if account is None or account.role not in PEOPLE:
            self.retained.pop(topic, None)
            return topic, b"", True
        body = payloads.callers(callers.view(self.site, state, user), state.seq)
        self.retained[topic] = body
        return topic, body, True

    def _conferences_of(self, user: str) -> tuple[str, bytes, bool]:
        """The conferences a person is a member of (CONF-04), for that user alone; empty
        (cleared) when they are in none, or have no account."""
        topic = self.topics.conferences(user)
        state = self.node.state
        view = conferences.view(state, user)
        account = state.accounts.account(user)
        if not view or account is None or account.role not in PEOPLE:
            self.retained.pop(topic, None)
            return topic, b"", True
        body = payloads.conferences(user, view, state.seq)
        self.retained[topic] = body
        return topic, body, True

    def _voicemail_of(self, user: str) -> tuple[str, bytes, bool]:
        """The counts of a person's mailbox (VM-02), for that user alone; empty (cleared)
        when they have no mailbox (no licence, no account: removed with its mailbox)."""
        topic = self.topics.voicemail(user)
        state = self.node.state
        account = state.accounts.account(user)
        if account is None or account.role not in PEOPLE or not has_mailbox(state, self.site, user):
            self.retained.pop(topic, None)
            return topic, b"", True
        box = state.voicemail.of(user)
        new, old = box.count(VoicemailFolder.NEW), box.count(VoicemailFolder.OLD)
        body = payloads.voicemail(user, new, old, state.seq)
        self.retained[topic] = body
        return topic, body, True

    def _presence_of(self, user: str, *, every: bool = False) -> list[tuple[str, bytes, bool]]:
        """A user's presence (PRES-04/05): their own document and, if it says something new
        (or ``every``), what others see of it; none for a number that is no presence user.
        What others see of a hidden user stays the same document, its seq and time too: a new
        one at each of their changes would tell everyone when they changed (PRES-04)."""
        if presence_view.user_device(self.site, user) is None:
            return []
        state, now = self.node.state, self.node.clock.now_ms()
        out = [
            (
                self.topics.own_presence(user),
                payloads.presence(self.site, state, user, state.seq, now, own=True),
            )
        ]
        public = self.topics.presence(user)
        body = payloads.presence(self.site, state, user, state.seq, now, own=False)
        if every or not same_document(self.retained.get(public), body):
            out.append((public, body))
        for topic, body in out:
            self.retained[topic] = body
        return [(topic, body, True) for topic, body in out]

    def publish_all_states(self, client: MqttClient) -> None:
        """Retained states and lamps of every configured device, the profiles and favourites
        of every person's account, from the node state."""
        for device in sorted(self.site.devices):
            for topic, body, _ in self._retained_of(device, every=True):
                client.publish(topic, body, retain=True)
        self._conference_members.reset(self.node.state)
        for name, account in sorted(self.node.state.accounts.accounts.items()):
            if account.role in PEOPLE:
                for topic, body, _ in (
                    self._profile_of(name),
                    self._favourites_of(name),
                    self._callers_of(name),
                    self._conferences_of(name),  # empty: clears one of a past membership
                    self._voicemail_of(name),  # empty: no mailbox (any more)
                ):
                    client.publish(topic, body, retain=True)
        for user in sorted(self.site.devices):
            for topic, body, _ in self._presence_of(user, every=True):
                client.publish(topic, body, retain=True)

    def _ack(self, run: int) -> None:
        """The last message of the oldest unacknowledged batch has been acknowledged."""
        if run != self._run:
            return  # a late acknowledgement on a connection given up: it tracks nothing now
        if self._tracking:
            self.acked = self._tracking.popleft()
        self._progress.set()

    def save_position(self) -> None:
        """Store the acknowledged position if it moved (in a worker thread: ``acked`` moves
        on the loop meanwhile, so the value saved is the one read here)."""
        acked = self.acked
        if acked != self._saved:
            self._position.set_meta(POSITION_KEY, str(acked))
            self._saved = acked
