"""Serialization of events and state snapshots (JSON) for the store.

cattrs generates the (un)structuring code for the attrs classes; only the compact form of
``Local`` and the HAMT maps of the snapshot need hooks.
"""

from __future__ import annotations

from typing import Any

import cattrs
import immutables
import orjson

from cti.domain import events as ev
from cti.domain.state import Call, DeviceRuntime, Forward, SwitchState
from cti.domain.values import ConnectionState, ForwardingType, TimerPurpose

_conv = cattrs.Converter()
_STATES = {s.value: s for s in ConnectionState}
_conv.register_unstructure_hook(ev.Local, lambda e: [e.device, e.state.value])
_conv.register_structure_hook(ev.Local, lambda v, _: ev.Local(v[0], _STATES[v[1]]))
# The connection list is on every call event: build it directly, it is the hot path of replay.
_LOCALS = tuple[ev.Local, ...]
_conv.register_structure_hook_func(
    lambda t: t == _LOCALS, lambda v, _: tuple([ev.Local(d, _STATES[s]) for d, s in v])
)


def event_to_dict(event: ev.Event) -> dict[str, Any]:
    """An event as a JSON-ready dict whose ``event`` key is its ECMA-269 name."""
    data: dict[str, Any] = {"event": event.KIND}
    data.update(_conv.unstructure(event))
    return data


def encode_event(event: ev.Event) -> bytes:
    return orjson.dumps(_conv.unstructure(event))


def decode_event(kind: str, data: bytes) -> ev.Event:
    try:
        cls = ev.EVENT_TYPES[kind]
    except KeyError:
        raise ValueError(f"unknown event kind {kind!r} in the log") from None
    return _conv.structure(orjson.loads(data), cls)


# Bumped whenever SwitchState gains or changes a field: a snapshot of another format is not
# read at all (the log is replayed instead), so it can never yield a state the log would not.
STATE_FORMAT = 2  # 2: redial lists and per-device call offers


class StaleSnapshot(ValueError):
    """A snapshot written in another state format."""


def encode_state(state: SwitchState) -> bytes:
    doc = {
        "format": STATE_FORMAT,
        "seq": state.seq,
        "next_call_id": state.next_call_id,
        "calls": [_conv.unstructure(c) for c in state.calls.values()],
        "devices": {
            number: {
                "calls": list(rt.calls),
                "dnd": rt.dnd,
                "forwarding": {k.value: _conv.unstructure(f) for k, f in rt.forwarding.items()},
                "redial": list(rt.redial),
            }
            for number, rt in state.devices.items()
        },
        "timers": [[c, d, p.value, due] for (c, d, p), due in state.timers.items()],
    }
    return orjson.dumps(doc)


def decode_state(data: bytes) -> SwitchState:
    doc = orjson.loads(data)
    if doc.get("format") != STATE_FORMAT:
        raise StaleSnapshot(f"snapshot format {doc.get('format')}, expected {STATE_FORMAT}")
    calls = immutables.Map({c["id"]: _conv.structure(c, Call) for c in doc["calls"]})
    devices = immutables.Map(
        {
            number: DeviceRuntime(
                tuple(rt["calls"]),
                rt["dnd"],
                immutables.Map(
                    {
                        ForwardingType(k): _conv.structure(f, Forward)
                        for k, f in rt["forwarding"].items()
                    }
                ),
                tuple(rt["redial"]),
            )
            for number, rt in doc["devices"].items()
        }
    )
    timers = immutables.Map({(c, d, TimerPurpose(p)): due for c, d, p, due in doc["timers"]})
    return SwitchState(calls, devices, timers, doc["next_call_id"], doc["seq"])
