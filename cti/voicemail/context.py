"""Voicemail as a context of the node (VM-01..VM-08)."""

from __future__ import annotations

from cti.calls.commands import GenerateDigits
from cti.calls.decision import CallDecision
from cti.kernel.context import Context
from cti.site.model import DeviceKind
from cti.voicemail import codec, commands, events, evolve, queries, reactions, services, timers
from cti.voicemail.state import VoicemailState

CONTEXT: Context[VoicemailState] = Context(
    name="voicemail",
    initial=VoicemailState,
    decision=CallDecision,  # VM-04 places a call through the switch's routing
    commands=services.SERVICES,
    events={cls: evolve.HANDLERS[cls] for cls in events.EVENT_TYPES.values()},
    snapshot=codec.SNAPSHOT,
    refusals=services.REFUSALS,
    queries=queries.QUERIES,
    reactions=reactions.REACTIONS,
    digit_receivers={DeviceKind.VOICEMAIL: reactions.digits},
    timers=timers.timers,
    upcasters=events.UPCASTERS,
    # A mailbox is its owner's, whoever controls the phone its menu or playback is on.
    owners={
        queries.FetchVoicemailAudio: queries.audio_owner,
        commands.CheckedPin: services.pin_owner,
        GenerateDigits: services.keys_owner,
    },
)
