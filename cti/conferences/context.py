"""Application conferences as a context of the node (CONF-01..08)."""

from __future__ import annotations

from cti.calls.decision import CallDecision
from cti.conferences import codec, events, evolve, queries, services, timers
from cti.conferences.state import ConferencesState
from cti.kernel.context import Context

CONTEXT: Context[ConferencesState] = Context(
    name="conferences",
    initial=ConferencesState,
    # Call-control decisions: leaving the room clears the participant's call at the switch.
    decision=CallDecision,
    commands=services.SERVICES,
    events={cls: evolve.HANDLERS[cls] for cls in events.EVENT_TYPES.values()},
    snapshot=codec.SNAPSHOT,
    refusals=services.REFUSALS,
    queries=queries.QUERIES,
    timers=timers.timers,
)
