"""Snapshots of the node state: every context's part, each with its own format number.

A snapshot in which any part has another format than the running code writes (or still reads,
``SnapshotPart.older``) is not read at all (the log is replayed instead), so it can never yield
a state the log would not.
"""

from __future__ import annotations

from typing import Any

import orjson

from cti.domain.model import CONTEXTS
from cti.domain.state import SETTERS, NodeState

ENVELOPE = 3  # 3: one part per context (2 was the call state alone)


class StaleSnapshot(ValueError):
    """A snapshot written in another format."""


def encode(state: NodeState) -> bytes:
    parts = {
        ctx.name: {
            "format": ctx.snapshot.format,
            "data": ctx.snapshot.encode(getattr(state, ctx.name)),
        }
        for ctx in CONTEXTS
    }
    return orjson.dumps({"format": ENVELOPE, "seq": state.seq, "parts": parts})


def decode(data: bytes) -> NodeState:
    doc: dict[str, Any] = orjson.loads(data)
    if doc.get("format") != ENVELOPE:
        raise StaleSnapshot(f"snapshot format {doc.get('format')}, expected {ENVELOPE}")
    state = NodeState(seq=doc["seq"])
    for ctx in CONTEXTS:
        part = doc["parts"].get(ctx.name)
        readable = {ctx.snapshot.format, *ctx.snapshot.older}
        if part is None or part.get("format") not in readable:
            found = None if part is None else part.get("format")
            raise StaleSnapshot(
                f"snapshot part {ctx.name!r} has format {found}, expected {ctx.snapshot.format}"
            )
        state = SETTERS[ctx.name](state, ctx.snapshot.decode(part["data"]))
    return state
