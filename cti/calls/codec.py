"""How call-control values are written: the compact ``local`` lists of call events, and the
call-control part of a snapshot."""

from __future__ import annotations

from typing import Any

import cattrs
import immutables

from cti.calls import events as ev
from cti.calls.state import Call, DeviceRuntime, Forward, SwitchState
from cti.calls.values import ConnectionState, ForwardingType, TimerPurpose
from cti.kernel.context import SnapshotPart

_STATES = {s.value: s for s in ConnectionState}
_LOCALS = tuple[ev.Local, ...]


def register_hooks(conv: cattrs.Converter) -> None:
    """``Local`` as ``[device, state]``; the connection list is on every call event, so it is
    built directly: it is the hot path of replay."""
    conv.register_unstructure_hook(ev.Local, lambda e: [e.device, e.state.value])
    conv.register_structure_hook(ev.Local, lambda v, _: ev.Local(v[0], _STATES[v[1]]))
    conv.register_structure_hook_func(
        lambda t: t == _LOCALS, lambda v, _: tuple([ev.Local(d, _STATES[s]) for d, s in v])
    )


_conv = cattrs.Converter()


def encode(state: SwitchState) -> dict[str, Any]:
    return {
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


def decode(doc: Any) -> SwitchState:
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
    return SwitchState(calls, devices, timers, doc["next_call_id"])


# Raised whenever the encoding above changes (2: redial lists and per-device call offers).
SNAPSHOT = SnapshotPart(format=2, encode=encode, decode=decode)
