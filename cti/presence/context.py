"""Presence as a context of the node (PRES-01..05)."""

from __future__ import annotations

from cti.kernel.context import Context
from cti.kernel.decision import Decision
from cti.presence import codec, events, evolve, queries, services, timers
from cti.presence.state import PresenceState

CONTEXT: Context[PresenceState] = Context(
    name="presence",
    initial=PresenceState,
    decision=Decision,
    commands=services.SERVICES,
    events={cls: evolve.HANDLERS[cls] for cls in events.EVENT_TYPES.values()},
    snapshot=codec.SNAPSHOT,
    refusals=services.REFUSALS,
    queries=queries.QUERIES,
    timers=timers.timers,
)
