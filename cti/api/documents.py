"""Documents: events (per device and per call), device states and the node status as JSON.

Field names are camelCase, event names are the ECMA-269 ones; every event payload carries
``seq`` (global log position), ``ts`` (ISO-8601 UTC) and ``event``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

import attrs
import orjson

from cti.app.node import Committed
from cti.calls import events as ev
from cti.calls.values import ConnectionState
from cti.calls.views import DeviceView
from cti.domain import EVENT_TYPES
from cti.site import Site


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


def dumps(doc: Any) -> bytes:
    return orjson.dumps(doc)


# (attribute, camelCase key) of every event class, ``local`` excluded.
_FIELDS = {
    cls: tuple((f.name, camel(f.name)) for f in attrs.fields(cls) if f.name != "local")
    for cls in EVENT_TYPES.values()
}


def event_doc(item: Committed) -> dict[str, Any]:
    """The event as every consumer sees it; ``connections`` is the call after the event.

    Built field by field (not through the generic converter): it runs for every published
    event and is the largest cost of the outbox."""
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


def device_event(body: bytes, device: str, state: ConnectionState) -> bytes:
    """The event (``body``: its call-topic JSON) as ``device``'s monitor sees it, with its
    localConnectionInfo: the two fields are spliced onto the serialized object, which is
    cheaper than serializing a copy for every party."""
    extra = dumps({"monitoredDevice": device, "localConnectionInfo": state.value})
    return body[:-1] + b"," + extra[1:]


def device_state(site: Site, view: DeviceView, seq: int, ts_ms: int) -> bytes:
    """Retained summary for busy-lamp fields and favourites (CALL-11/12).

    Privacy (CALL-10): this topic is what *other* users watch, so a call still ringing shows
    no caller number or name; the device's own event topic carries them.
    """
    dev = site.device(view.device)
    extra: dict[str, Any] = {}
    if dev is not None and dev.mobile is not None:  # CALL-15: phones show the user's mobile
        extra = {"mobile": dev.mobile, "dialMethod": str(view.dial_method)}
    elif dev is not None and dev.members:  # CALL-14: the phones of a MULAP
        extra = {"members": list(dev.members), "assignedPhone": view.assigned_phone}
    connections = []
    for conn in view.connections:
        hidden = conn.state is ConnectionState.ALERTING
        via = {"via": conn.via} if conn.via is not None else {}
        connections.append(
            {
                **via,
                "call": conn.call,
                "state": str(conn.state),
                "summary": str(conn.summary),
                "peer": None if hidden else conn.peer,
                "peerName": None if hidden else conn.peer_name,
                "parties": [] if hidden else list(conn.parties),
                "allowed": list(conn.allowed),
            }
        )
    return dumps(
        {
            "seq": seq,
            "ts": iso(ts_ms),
            "event": "deviceState",
            "device": view.device,
            "name": dev.name if dev is not None else "",
            "kind": str(dev.kind) if dev is not None else "",
            "summary": str(view.summary),
            "connections": connections,
            "dnd": view.dnd,
            "forwarding": [
                {"type": t, "destination": d, "ringTime": r} for t, d, r in view.forwarding
            ],
            **extra,
        }
    )


def status(node: str, state: str, **extra: Any) -> bytes:
    return dumps({"node": node, "state": state, **extra})
