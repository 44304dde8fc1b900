"""The conferences part of a snapshot."""

from __future__ import annotations

from typing import Any

import attrs
import immutables

from cti.conferences.model import Alone, Conference, DialIn, Participant, Strikes
from cti.conferences.state import ConferencesState
from cti.kernel.context import SnapshotPart


def encode(state: ConferencesState) -> dict[str, Any]:
    return {
        "next_id": state.next_id,
        "next_join": state.next_join,
        "dial_ins": [[x.call, x.caller, x.failed] for x in state.dial_ins.values()],
        "strikes": [[caller, s.count, s.last_ms] for caller, s in state.strikes.items()],
        "conferences": [
            {
                "id": c.id,
                "name": c.name,
                "owner": c.owner,
                "guest_round": c.guest_round,
                "ends_at": c.ends_at,
                "next_participant": c.next_participant,
                "alone": None if c.alone is None else [c.alone.participant, c.alone.until],
                "participants": [attrs.asdict(p) for p in c.participants],
            }
            for c in state.conferences.values()
        ],
    }


def decode(doc: Any) -> ConferencesState:
    conferences = {
        c["id"]: Conference(
            id=c["id"],
            name=c["name"],
            owner=c["owner"],
            guest_round=c["guest_round"],
            ends_at=c["ends_at"],
            next_participant=c["next_participant"],
            participants=tuple(Participant(**p) for p in c["participants"]),
            alone=None if c.get("alone") is None else Alone(*c["alone"]),
        )
        for c in doc["conferences"]
    }
    return ConferencesState(
        conferences=immutables.Map(conferences),
        dial_ins=immutables.Map({x[0]: DialIn(x[0], x[1], x[2]) for x in doc["dial_ins"]}),
        next_id=doc["next_id"],
        next_join=doc["next_join"],
        strikes=immutables.Map({x[0]: Strikes(x[1], x[2]) for x in doc["strikes"]}),
    ).reindexed()  # the call index is derived: rebuilt, not stored


# Format 2 adds each conference's alone-timeout; format 1 (none running) still reads.
SNAPSHOT = SnapshotPart(format=2, encode=encode, decode=decode, older=frozenset({1}))
