"""Application conferences as a context of the node (CONF-01..08)."""

from __future__ import annotations

from cti.calls.decision import CallDecision
from cti.conferences import codec, events, evolve, queries, reactions, services, timers
from cti.conferences.state import ConferencesState
from cti.kernel.context import Context
from cti.site.model import DeviceKind

CONTEXT: Context[ConferencesState] = Context(
    name="conferences",
    initial=ConferencesState,
    # Call-control decisions: leaving the room clears the participant's call at the switch.
    decision=CallDecision,
    commands=services.SERVICES,
    events={cls: evolve.HANDLERS[cls] for cls in events.EVENT_TYPES.values()},
    snapshot=codec.SNAPSHOT,
    upcasters=events.UPCASTERS,
    refusals=services.REFUSALS,
    queries=queries.QUERIES,
    timers=timers.timers,
    # What call events mean for the rooms, in the same decision (cti.conferences.reactions).
    reactions=reactions.REACTIONS,
    digit_receivers={DeviceKind.CONFERENCE_BRIDGE: reactions.digits},
)
