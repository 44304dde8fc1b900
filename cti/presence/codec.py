"""The presence part of a snapshot."""

from __future__ import annotations

from typing import Any

import immutables

from cti.kernel.context import SnapshotPart
from cti.presence.model import Entry, Status, Target, TargetKind
from cti.presence.state import PresenceState


def encode(state: PresenceState) -> dict[str, Any]:
    return {
        user: {
            "status": e.status.value,
            "return_at": e.return_at,
            "info": e.info,
            "forwarding": {s.value: [t.kind.value, t.number] for s, t in e.forwarding.items()},
        }
        for user, e in state.users.items()
    }


def decode(doc: Any) -> PresenceState:
    users = {
        user: Entry(
            status=Status(e["status"]),
            return_at=e["return_at"],
            info=e["info"],
            forwarding=immutables.Map(
                {Status(s): Target(TargetKind(k), n) for s, (k, n) in e["forwarding"].items()}
            ),
        )
        for user, e in doc.items()
    }
    return PresenceState(immutables.Map(users))


SNAPSHOT = SnapshotPart(format=1, encode=encode, decode=decode)
