"""Documents: events (per device and per call), device states, profiles and the node status as
JSON.

Field names are camelCase, event names are the ECMA-269 ones; every event payload carries
``seq`` (global log position), ``ts`` (ISO-8601 UTC) and ``event``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import attrs
import orjson

from cti.accounts.model import Account, Visibility
from cti.app.node import Committed
from cti.calls import events as ev
from cti.calls.values import ConnectionState, ForwardingType
from cti.calls.views import DeviceView, Summary
from cti.conferences.views import ConferenceView
from cti.directory.callers import CallersView, CallerView
from cti.domain import EVENT_TYPES, NodeState
from cti.favourites.views import FavouritesView, GroupView
from cti.presence import view as presence_view
from cti.presence.model import Status as PresenceStatus
from cti.site import Device, DeviceKind, DialMethod, Site

# A text field that is never "": "none" or "unknown" is null. The metadata is a JSON Schema
# keyword and its value, which cti.api.schema adds.
NonEmpty = Annotated[str, ("minLength", 1)]


@lru_cache(maxsize=256)
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


@lru_cache(maxsize=64)  # a commit batch shares one timestamp
def iso(ts_ms: int) -> str:
    return (
        datetime.fromtimestamp(ts_ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


# orjson's own function, not a wrapper around it: a Python frame less for every document
# (the outbox serializes two for every device a commit batch touches, issue 19).
dumps = orjson.dumps


# (attribute, camelCase key) of every event class, ``local`` excluded.
_FIELDS = {
    cls: tuple((f.name, camel(f.name)) for f in attrs.fields(cls) if f.name != "local")
    for cls in EVENT_TYPES.values()
}


# The events of an account's own (Event.OWNER: presence, profile, mailbox), by kind: the key
# naming the owner, on whose own event topic (users/{owner}/events) they are published instead
# of the topic of the owner's number, and the key naming a device that hears it and whose
# topic carries it too (HEARD_BY: a greeting's caller, a message's phone), or None.
OWNED: dict[str, tuple[str, str | None]] = {
    cls.KIND: (
        camel(cls.OWNER),
        camel(heard) if (heard := getattr(cls, "HEARD_BY", None)) else None,
    )
    for cls in EVENT_TYPES.values()
    if cls.OWNER is not None
}


# INTERNAL events that the operator view's `trace` gives (specs/web.md#timers-in-the-ladder):
# the switch's call timers (no answer) say only which device's timer ran on which call and
# when it was due, nothing the account's call events do not imply. No other INTERNAL kind:
# some carry secrets (voicemailPinSet a PIN's hash), and replay mirrors the live topics.
TRACE_INTERNAL_KINDS = frozenset({ev.TimerSet.KIND, ev.TimerCleared.KIND})


def event_doc(item: Committed) -> dict[str, Any]:
    """The event as every consumer sees it; ``connections`` is the call after the event.

    Built field by field (not through the generic converter). Its JSON, as the outbox
    publishes it, is :func:`event_json`."""
    event = item.event
    doc: dict[str, Any] = {"seq": item.seq, "ts": iso(item.ts_ms), "event": event.KIND}
    for name, key in _FIELDS[type(event)]:
        value = getattr(event, name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        doc[key] = value
    if isinstance(event, ev.CallEvent):
        doc["connections"] = [{"device": x.device, "state": x.state.value} for x in event.local]
    return doc


def event_json(item: Committed) -> bytes:
    """``dumps(event_doc(item))``, the same bytes, without converting the values first:
    orjson writes an enum as its value and a tuple as an array itself. It runs for every
    published event, the outbox's largest cost after the device states (issue 19)."""
    event = item.event
    doc: dict[str, Any] = {"seq": item.seq, "ts": iso(item.ts_ms), "event": event.KIND}
    for name, key in _FIELDS[type(event)]:
        doc[key] = getattr(event, name)
    if isinstance(event, ev.CallEvent):
        doc["connections"] = [{"device": x.device, "state": x.state} for x in event.local]
    return dumps(doc)


# The serialized ends of a device's copy of an event (:func:`device_event`): made once per
# device and connection state, not for every copy.
_LOCAL_INFO = {
    state: b'"localConnectionInfo":' + dumps(state.value) + b"}" for state in ConnectionState
}


@lru_cache(maxsize=16_384)  # the devices of a large site
def _monitored(device: str) -> bytes:
    return b',"monitoredDevice":' + dumps(device) + b","


def device_event(body: bytes, device: str, state: ConnectionState) -> bytes:
    """The event (``body``: its call-topic JSON) as ``device``'s monitor sees it, with its
    localConnectionInfo: the two fields are spliced onto the serialized object, which is
    cheaper than serializing a copy for every party."""
    return b"".join((body[:-1], _monitored(device), _LOCAL_INFO[state]))


class ConnectionDoc(TypedDict):
    """One connection of a device in its state document (CALL-11, CALL-12)."""

    call: int
    state: ConnectionState
    summary: Summary
    # The one other party; null while ringing (CALL-10), in a conference, with none left.
    peer: NonEmpty | None
    peerName: NonEmpty | None  # its name; null also for a party without one (a trunk)
    parties: list[str]  # every other device in the call; [] while ringing (CALL-10)
    allowed: list[str]  # the services the engine accepts on this connection now (CALL-12)
    via: NotRequired[str]  # the mobility user's mobile that holds it (CALL-15)


class ForwardingDoc(TypedDict):
    type: ForwardingType
    destination: str
    ringTime: int


class DeviceStateDoc(TypedDict):
    """The retained ``devices/{device}/state`` document."""

    seq: int
    ts: str
    event: Literal["deviceState"]
    device: str
    name: str
    kind: DeviceKind
    summary: Summary
    connections: list[ConnectionDoc]
    dnd: bool
    forwarding: list[ForwardingDoc]
    mobile: NotRequired[str]  # mobility users (CALL-15)
    dialMethod: NotRequired[DialMethod]
    members: NotRequired[list[str]]  # MULAP groups (CALL-14)
    assignedPhone: NotRequired[str]


class LampDoc(TypedDict):
    """The retained ``lamps/{device}`` document: the busy lamp every user sees next to a
    favourite; no numbers, nothing of the call (CALL-10, CALL-11)."""

    seq: int
    ts: str
    event: Literal["lamp"]
    device: str
    name: str
    kind: DeviceKind
    summary: Summary
    dnd: bool


class StatusDoc(TypedDict):
    """The retained ``status`` document; the Last Will has ``node`` and ``state`` only."""

    node: str
    state: Literal["online", "offline"]
    seq: NotRequired[int]  # how far events have been published
    epoch: NotRequired[str]  # changes only when the log is recreated
    started: NotRequired[str]
    # The data directory's free space is below the operator's threshold (specs/operations.md):
    # the log will soon refuse writes. Shown while online; absent where nobody watches it.
    diskLow: NotRequired[bool]


def _device_head(
    dev: Device | None,
    view: DeviceView,
    seq: int,
    ts_ms: int,
    event: Literal["deviceState", "lamp"],
) -> Any:
    """The fields a device's state document and its lamp start with, in this order, so that
    both show the device the same way (a number the site does not configure: no name, kind
    external). The caller adds its document's other fields after them: ``Any``, the dict is
    its DeviceStateDoc or LampDoc once complete (tests/api/test_schema.py checks both)."""
    return {
        "seq": seq,
        "ts": iso(ts_ms),
        "event": event,
        "device": view.device,
        "name": dev.name if dev is not None else "",
        "kind": dev.kind if dev is not None else DeviceKind.EXTERNAL,
        "summary": view.summary,
    }


def device_state(site: Site, view: DeviceView, seq: int, ts_ms: int) -> bytes:
    """The retained full state of a device for its own user (CALL-11/12).

    Privacy (CALL-10): a call still ringing shows no caller number or name here (the
    device's own event topic carries them); others see only the lamp (:func:`lamp`).
    """
    # Dict displays, not TypedDict calls (keyword arguments): this runs for every device a
    # commit batch touches (issue 19).
    dev = site.device(view.device)
    connections: list[ConnectionDoc] = []
    for conn in view.connections:
        hidden = conn.state is ConnectionState.ALERTING
        doc: ConnectionDoc = {
            "call": conn.call,
            "state": conn.state,
            "summary": conn.summary,
            "peer": None if hidden else conn.peer,
            "peerName": None if hidden else conn.peer_name,
            "parties": [] if hidden else list(conn.parties),
            "allowed": list(conn.allowed),
        }
        if conn.via is not None:
            doc["via"] = conn.via
        connections.append(doc)
    state: DeviceStateDoc = _device_head(dev, view, seq, ts_ms, "deviceState")
    state["connections"] = connections
    state["dnd"] = view.dnd
    # Most devices forward nothing: no comprehension for them (in Python 3.11 it is a call).
    forwarding = view.forwarding
    state["forwarding"] = (
        [{"type": ForwardingType(t), "destination": d, "ringTime": r} for t, d, r in forwarding]
        if forwarding
        else []
    )
    if dev is not None and dev.mobile is not None and view.dial_method is not None:
        state["mobile"] = dev.mobile  # CALL-15: phones show the user's mobile
        state["dialMethod"] = view.dial_method
    elif dev is not None and dev.members and view.assigned_phone is not None:
        state["members"] = list(dev.members)  # CALL-14: the phones of a MULAP
        state["assignedPhone"] = view.assigned_phone
    return dumps(state)


def lamp(site: Site, view: DeviceView, seq: int, ts_ms: int) -> bytes:
    doc: LampDoc = _device_head(site.device(view.device), view, seq, ts_ms, "lamp")
    doc["dnd"] = view.dnd
    return dumps(doc)


class ProfileDoc(TypedDict):
    """The retained ``profiles/{user}`` document: what other users see of a user's profile
    (USER-03: directories, favourites). The photo by its SHA-256 only: fetch it with
    getProfile when it is not the one cached. Not in it: voicemail to e-mail."""

    name: str
    displayName: str
    mobile: str | None
    external: str | None
    email: str | None
    hasPhoto: bool
    photoSha256: str | None
    presenceVisibility: Visibility  # who sees the user's presence (PRES-04)
    seq: int  # the log position the document reflects


def profile(account: Account, seq: int) -> bytes:
    """The public profile document of ``account`` as of log position ``seq``."""
    p = account.profile
    return dumps(
        ProfileDoc(
            name=account.name,
            displayName=account.display_name,
            mobile=p.mobile,
            external=p.external,
            email=p.email,
            hasPhoto=p.photo is not None,
            photoSha256=None if p.photo is None else p.photo.sha256,
            presenceVisibility=p.presence_visibility,
            seq=seq,
        )
    )


class FavouritesDoc(TypedDict):
    """The retained ``users/{user}/favourites`` document: the user's favourites (DIR-05), for
    that user alone; the getFavourites answer as of log position ``seq``."""

    seq: int
    user: str
    groups: list[GroupView]


def favourites(view: FavouritesView, seq: int) -> bytes:
    return dumps(FavouritesDoc(seq=seq, user=view["user"], groups=view["groups"]))


class ConferencesDoc(TypedDict):
    """The retained ``users/{user}/conferences`` document: the conferences the user is a
    member of, each participant's state live (CONF-04), for that user alone; no PIN (the
    listConferences answer as of log position ``seq``)."""

    seq: int
    user: str
    conferences: list[ConferenceView]


def conferences(user: str, view: list[ConferenceView], seq: int) -> bytes:
    return dumps(ConferencesDoc(seq=seq, user=user, conferences=view))


class VoicemailDoc(TypedDict):
    """The retained ``users/{user}/voicemail`` document: the counts of the user's mailbox
    folders (VM-02), the UI's badge (``new``) and the message-waiting lamp (``on``), for that
    user alone, as of log position ``seq``. Cleared (empty) when the user has no mailbox."""

    seq: int
    user: str
    new: int
    old: int
    on: bool  # new > 0: the message-waiting lamp


def voicemail(user: str, new: int, old: int, seq: int) -> bytes:
    return dumps(VoicemailDoc(seq=seq, user=user, new=new, old=old, on=new > 0))


class CallersDoc(TypedDict):
    """The retained ``users/{user}/callers`` document: the other party of each of the user's
    calls with the name the user knows the number by (DIR-06: personal directory first, then
    internal, then system), for that user alone, as of log position ``seq``."""

    seq: int
    user: str
    calls: list[CallerView]


def callers(view: CallersView, seq: int) -> bytes:
    return dumps(CallersDoc(seq=seq, user=view["user"], calls=view["calls"]))


class PresenceDoc(TypedDict):
    """A user's presence (PRES-01/02/04), retained: on ``users/{user}/presence`` for the user
    (every client of theirs, PRES-05) with ``visibility``; on ``presence/{user}`` for every
    signed-in user, where ``status``, ``returnAt`` and ``info`` are null unless the user's
    visibility lets other users see them (``visible``)."""

    seq: int
    ts: str
    event: Literal["presence"]
    user: str
    name: str
    visible: bool  # whether other users see the status (PRES-04)
    status: PresenceStatus | None  # None: not shown to others (PRES-04)
    returnAt: int | None  # ms since the epoch, UTC; None: none, or it passed (PRES-02)
    info: str | None
    visibility: NotRequired[Visibility]  # the user's own document only
    # The user's own document only: where calls to the user go now by the status (PRES-03);
    # None in office, DND, or when the target has no number (the phone's rules apply).
    forwardingTo: NotRequired[str | None]


def presence(site: Site, state: NodeState, user: str, seq: int, ts_ms: int, *, own: bool) -> bytes:
    """The presence document of ``user``: their own (``own``) or what others see of it."""
    account = state.accounts.account(user)
    # A number without an account (a removed one, a member phone) has no profile to say what
    # it shows: nothing (PRES-04 errs on the side of privacy).
    visibility = Visibility.NOT_VISIBLE if account is None else account.profile.presence_visibility
    dev = site.device(user)
    shown = presence_view.shown(state, user)
    reveal = own or visibility.internal
    doc = PresenceDoc(
        seq=seq,
        ts=iso(ts_ms),
        event="presence",
        user=user,
        name=dev.name if dev is not None else "",
        visible=visibility.internal,
        status=shown.status if reveal else None,
        returnAt=shown.return_at if reveal else None,
        info=shown.info if reveal else None,
    )
    if own:
        doc["visibility"] = visibility
        doc["forwardingTo"] = presence_view.target_number(site, state, user, shown.status)
    return dumps(doc)


def status(node: str, state: Literal["online", "offline"], **extra: Any) -> bytes:
    doc: StatusDoc = {"node": node, "state": state}
    doc.update(extra)  # type: ignore[typeddict-item]
    return dumps(doc)
