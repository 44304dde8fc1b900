"""What :meth:`cti.client.CtiClient.updates` yields: one small class per kind of update, so a
UI can ``match`` on them, each holding the node's document as it came (the TypedDicts of
:mod:`cti.api.documents`, the same types the node builds them from and specs/api.schema.json
is generated from: a field renamed in the node is a type error in the UI's code).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypedDict

import attrs

from cti.api.chat import ChatMessageDoc, ChatReadDoc
from cti.api.documents import OWNED, DeviceStateDoc, LampDoc, StatusDoc
from cti.api.journal import JournalCountsDoc

__all__ = [
    "CallRef",
    "ChatMessage",
    "ChatRead",
    "Connected",
    "DeviceEvent",
    "DeviceState",
    "Disconnected",
    "Lamp",
    "Online",
    "OwnEvent",
    "Reset",
    "Status",
    "Update",
    "device_events",
    "own_events",
]


class CallRef(TypedDict):
    """The result of makeCall, answerCall and the other services that name a connection."""

    call: int
    device: str


@attrs.frozen
class DeviceState:
    """The full state of a watched device (its own user's view, CALL-11/12): connections
    with the services allowed on each, DND, forwarding. The truth about the device: a UI
    renders this, and uses events for what happened (who is calling)."""

    device: str
    doc: DeviceStateDoc

    @property
    def seq(self) -> int:
        """The log position the state reflects."""
        return self.doc["seq"]


@attrs.frozen
class DeviceEvent:
    """An event of a watched device, as its ``devices/{device}/events`` topic carries it:
    call events with ``monitoredDevice`` and ``localConnectionInfo`` (the device's connection
    after the event) and ``connections`` (the whole call after it)."""

    device: str
    seq: int
    event: str  # the ECMA-269 event name: "delivered", "established", "connectionCleared" ...
    doc: dict[str, Any]
    # Taken from the log (the replay request) to fill a gap, not received live: a UI may
    # want to show it without ringing.
    replayed: bool = False

    @property
    def call(self) -> int | None:
        """The call of a call event; None for device events (forwarding, doNotDisturb ...)."""
        call = self.doc.get("call")
        return call if isinstance(call, int) else None


@attrs.frozen
class OwnEvent:
    """An event of the signed-in user's own, as their ``users/{user}/events`` topic carries it
    (:meth:`~cti.client.CtiClient.watch_own`): presence (``presenceChanged``,
    ``returnTimePassed``, ``presenceForwardingSet``), ``profileChanged`` and every mailbox
    event (``messageRecorded``, ``messageWaiting``, ``messagePlaying`` ...), in the
    call-topic form of specs/mqtt.md."""

    user: str  # the owner: the signed-in account
    seq: int
    event: str
    doc: dict[str, Any]
    # Taken from the log (the replay request) to fill a gap, not received live.
    replayed: bool = False


@attrs.frozen
class Lamp:
    """The busy lamp of a device: what every user may see of it (CALL-10): no numbers."""

    device: str
    doc: LampDoc

    @property
    def seq(self) -> int:
        return self.doc["seq"]


@attrs.frozen
class JournalCounts:
    """The counts of your journal's folders (JOUR-02), as of log position ``seq``: sent when
    it changed (ask :meth:`~cti.client.CtiClient.get_journal` for the entries)."""

    doc: JournalCountsDoc

    @property
    def seq(self) -> int:
        return self.doc["seq"]


@attrs.frozen
class Status:
    """The node's status document: online with how far it has published (``seq``) and the
    ``epoch`` of its log, or offline."""

    doc: StatusDoc

    @property
    def online(self) -> bool:
        return self.doc["state"] == "online"


@attrs.frozen
class Reset:
    """The node's log was recreated (its epoch changed): sequence numbers start again and
    nothing seen before is true any more. Throw every cache away; the states that follow
    are the new truth."""

    epoch: str
    previous: str


@attrs.frozen
class Connected:
    """The client (re)connected to the broker. Updates missed while it was away follow (from
    the log), then live ones: nothing is lost, nothing comes twice."""


@attrs.frozen
class Disconnected:
    """The connection to the broker was lost; the client reconnects by itself (with
    back-off). Requests raise :class:`~cti.client.NotConnected` until :class:`Connected`."""

    reason: str


@attrs.frozen
class ChatMessage:
    """A chat message to or from you (IM-01), once per ``(partner, seq)``, in ``seq`` order
    per conversation; after a reconnect the ones missed meanwhile, fetched from the node."""

    doc: ChatMessageDoc

    @property
    def partner(self) -> str:
        return self.doc["partner"]

    @property
    def seq(self) -> int:
        return self.doc["seq"]

    @property
    def text(self) -> str:
        return self.doc["text"]


@attrs.frozen
class ChatRead:
    """Your read watermark of a conversation moved (on any of your clients)."""

    doc: ChatReadDoc

    @property
    def partner(self) -> str:
        return self.doc["partner"]

    @property
    def read_seq(self) -> int:
        return self.doc["readSeq"]


@attrs.frozen
class Online:
    """Whether a watched user is signed in on any client (IM-01)."""

    user: str
    online: bool


Update = (
    DeviceState
    | DeviceEvent
    | OwnEvent
    | Lamp
    | Status
    | Reset
    | Connected
    | Disconnected
    | JournalCounts
    | ChatMessage
    | ChatRead
    | Online
)


def device_events(doc: dict[str, Any], devices: Collection[str]) -> list[DeviceEvent]:
    """A replayed event (the call-topic form of specs/mqtt.md) as the event topics of the
    ``devices`` it concerns carry it, so a filled gap looks exactly like live events.

    The node publishes a call event on the topic of every device in its ``connections``
    (the parties before and after it), with that device's state there; any other event on
    the topic of the one device it names (``device``: forwarding, doNotDisturb; ``user``:
    assignedPhoneSet, dialMethodSet). A person's own events (presence, profile, mailbox) are
    on their own event topic, no device's, but a greeting or message heard on a device that is
    not the owner's number is on that device's too."""
    seq, name = doc["seq"], doc["event"]
    owned = OWNED.get(name)
    if owned is not None:
        owner_key, heard_key = owned
        heard = doc.get(heard_key) if heard_key is not None else None
        if isinstance(heard, str) and heard != doc.get(owner_key) and heard in devices:
            return [DeviceEvent(heard, seq, name, doc, replayed=True)]
        return []
    connections = doc.get("connections")
    if isinstance(connections, list):
        return [
            DeviceEvent(
                c["device"],
                seq,
                name,
                {**doc, "monitoredDevice": c["device"], "localConnectionInfo": c["state"]},
                replayed=True,
            )
            for c in connections
            if c["device"] in devices
        ]
    for key in ("device", "user", "name"):
        device = doc.get(key)
        if isinstance(device, str):
            return [DeviceEvent(device, seq, name, doc, replayed=True)] if device in devices else []
    return []


def own_events(doc: dict[str, Any], owners: Collection[str]) -> list[OwnEvent]:
    """A replayed event as the own event topic of its owner carries it (the same call-topic
    form), if it is an own event (``OWNED``: presence, profile, mailbox) of one of
    ``owners``."""
    owned = OWNED.get(doc["event"])
    if owned is None:
        return []
    owner = doc.get(owned[0])
    if not isinstance(owner, str) or owner not in owners:
        return []
    return [OwnEvent(owner, doc["seq"], doc["event"], doc, replayed=True)]
