"""The journal as a context of the node (JOUR-03/04): user actions and reminder timers.
The entries are a read model of the log (cti.journal.journal_db)."""

from __future__ import annotations

from cti.journal import codec, events, evolve, services, timers
from cti.journal.state import JournalState
from cti.kernel.context import Context
from cti.kernel.decision import Decision

CONTEXT: Context[JournalState] = Context(
    name="journal",
    initial=JournalState,
    decision=Decision,
    commands=services.SERVICES,
    events={cls: evolve.HANDLERS[cls] for cls in events.EVENT_TYPES.values()},
    snapshot=codec.SNAPSHOT,
    refusals=services.REFUSALS,
    timers=timers.timers,
)
