"""A bounded context as the node composes it: what it decides, answers, records and keeps.

Each context folder (cti/calls, cti/accounts, ...) builds one :class:`Context`. The node state is
the composition of every context's state part (cti/domain); a command is decided by the context
that owns it, an event changes only its own context's part, a snapshot holds every part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from cti.kernel.codec import ConverterHook
from cti.kernel.decision import Decision
from cti.kernel.messages import Command, Event, Query
from cti.kernel.versions import Upcaster, UpcasterKey

S = TypeVar("S")
# A service handler reads the decision's state and emits events or raises Refusal.
Handler = Callable[[Any, Any], None]
# A query handler answers from (site, node state, query); raises Refusal.
QueryHandler = Callable[[Any, Any, Any], object]
# Timers of a context: from the node state, (due ms, the internal command that fires it).
Timers = Callable[[Any], Iterable[tuple[int, Command]]]
# A reaction records the context's own events as a consequence of another event in the same
# decision (a call reached the voicemail: its greeting starts). It reads the decision's state and
# emits; it never refuses, because the event it reacts to is already decided.
Reaction = Callable[[Decision[Any], Any], None]
# DTMF keyed towards a device a context serves (its voicemail, its dial-in number):
# (decision, call, keying device, served device, digits). Call control records no event of its
# own for these digits, because they may be a PIN; the receiver records what they meant and may
# refuse them (then the generateDigits request is refused).
DigitReceiver = Callable[[Decision[Any], int, str, str, str], None]
# Whose own thing a command or query acts on, found in the state rather than named by a field
# (the mailbox whose phone menu or playback is on the call): (site, node state, message) ->
# the account, or None. Only that account may send it, besides controlling the device
# (cti.accounts.access.authorize); a context may say so of another context's message
# (generateDigits into the voicemail's menu).
Owner = Callable[[Any, Any, Any], str | None]


@attrs.frozen
class SnapshotPart(Generic[S]):
    """How a context's state part goes into a snapshot. ``format`` is raised whenever the
    encoding changes: a snapshot with another format is ignored and the log replayed, unless
    it is one of ``older``, formats ``decode`` still reads (what it adds has a default)."""

    format: int
    encode: Callable[[S], object]
    decode: Callable[[Any], S]
    older: frozenset[int] = frozenset()


@attrs.frozen
class Context(Generic[S]):
    name: str  # also the attribute of the node state that holds this context's part
    initial: Callable[[], S]
    decision: type[Decision[Any]]  # the decision class the handlers expect
    commands: Mapping[type[Command], Handler]
    events: Mapping[type[Event], Callable[[S, Any], S]]  # the evolve table
    snapshot: SnapshotPart[S]
    refusals: frozenset[str]  # every refusal name the context may raise
    queries: Mapping[type[Query], QueryHandler] = attrs.field(factory=dict)
    upcasters: Mapping[UpcasterKey, Upcaster] = attrs.field(factory=dict)
    codec_hooks: tuple[ConverterHook, ...] = ()
    timers: Timers | None = None  # what the node fires when its clock reaches them
    reactions: Mapping[type[Event], Reaction] = attrs.field(factory=dict)
    digit_receivers: Mapping[str, DigitReceiver] = attrs.field(factory=dict)  # by device kind
    owners: Mapping[type[Command] | type[Query], Owner] = attrs.field(factory=dict)
