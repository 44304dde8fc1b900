"""Call control as a context of the node (CALL-01..16): ECMA-269 services on calls and devices."""

from __future__ import annotations

from cti.calls import codec, errors, events, evolve
from cti.calls.decision import CallDecision, clear_stale_timers
from cti.calls.services import SERVICES
from cti.calls.services.queries import QUERIES
from cti.calls.state import SwitchState
from cti.kernel.context import Context

CONTEXT: Context[SwitchState] = Context(
    name="calls",
    initial=SwitchState,
    decision=CallDecision,
    commands=SERVICES,
    events={cls: evolve.HANDLERS[cls] for cls in events.EVENT_TYPES.values()},
    snapshot=codec.SNAPSHOT,
    refusals=errors.NAMES,
    queries=QUERIES,
    codec_hooks=(codec.register_hooks,),
    reactions={
        cls: clear_stale_timers
        for cls in events.EVENT_TYPES.values()
        if issubclass(cls, events.CallEvent)
    },
)
