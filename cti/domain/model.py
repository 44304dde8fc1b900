"""The composition: which contexts the node has, and dispatch of commands, queries and events
to the context that owns them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cti.accounts import access
from cti.accounts.context import CONTEXT as ACCOUNTS
from cti.calls.context import CONTEXT as CALLS
from cti.conferences.context import CONTEXT as CONFERENCES
from cti.directory.context import CONTEXT as DIRECTORY
from cti.domain.state import SETTERS, NodeState
from cti.favourites.context import CONTEXT as FAVOURITES
from cti.journal.context import CONTEXT as JOURNAL
from cti.kernel.codec import EventCodec
from cti.kernel.context import Context, DigitReceiver, Handler, Owner, QueryHandler, Reaction
from cti.kernel.decision import Decision
from cti.kernel.messages import Command, Event, Query
from cti.kernel.refusal import Refusal
from cti.presence.context import CONTEXT as PRESENCE
from cti.site import Site
from cti.voicemail.context import CONTEXT as VOICEMAIL

CONTEXTS: tuple[Context[Any], ...] = (
    CALLS,
    ACCOUNTS,
    FAVOURITES,
    PRESENCE,
    DIRECTORY,
    JOURNAL,
    CONFERENCES,
    VOICEMAIL,
)

_EVOLVE: dict[type[Event], Callable[[NodeState, Any], NodeState]] = {}
_DECIDE: dict[type[Command], tuple[type[Decision[Any]], Handler]] = {}
_ANSWER: dict[type[Query], QueryHandler] = {}
_REACT: dict[type[Event], tuple[Reaction, ...]] = {}
_DIGITS: dict[str, DigitReceiver] = {}
_OWNERS: dict[type[Command] | type[Query], Owner] = {}


def _compose() -> None:
    names: set[str] = set()
    for ctx in CONTEXTS:
        if ctx.name not in SETTERS or ctx.name not in attrs.fields_dict(NodeState):
            raise TypeError(f"NodeState has no part for context {ctx.name!r}")
        setter, name = SETTERS[ctx.name], ctx.name

        for cls, fn in ctx.events.items():
            if cls in _EVOLVE or cls.KIND in {known.KIND for known in _EVOLVE}:
                raise TypeError(f"event {cls.KIND} belongs to two contexts")

            def step(
                state: NodeState,
                event: Event,
                fn: Callable[[Any, Any], Any] = fn,
                setter: Callable[[NodeState, Any], NodeState] = setter,
                name: str = name,
            ) -> NodeState:
                return setter(state, fn(getattr(state, name), event))

            _EVOLVE[cls] = step
        for command, handler in ctx.commands.items():
            if command in _DECIDE or command.SERVICE in names:
                raise TypeError(f"service {command.SERVICE} belongs to two contexts")
            names.add(command.SERVICE)
            _DECIDE[command] = (ctx.decision, handler)
        for query, answer_fn in ctx.queries.items():
            if query.SERVICE in names:
                raise TypeError(f"service {query.SERVICE} belongs to two contexts")
            names.add(query.SERVICE)
            _ANSWER[query] = answer_fn
        for event_type, reaction in ctx.reactions.items():
            _REACT[event_type] = (*_REACT.get(event_type, ()), reaction)  # in CONTEXTS order
        for kind, receiver in ctx.digit_receivers.items():
            if kind in _DIGITS:
                raise TypeError(f"devices of kind {kind} are served by two contexts")
            _DIGITS[kind] = receiver
        for message, owner in ctx.owners.items():
            if message in _OWNERS:
                raise TypeError(f"two contexts say whose {message.SERVICE} is")
            _OWNERS[message] = owner
    for event_type in _REACT:
        if event_type not in _EVOLVE:
            raise TypeError(f"a reaction to {event_type.KIND}, which no context records")


_compose()

EVENT_TYPES: dict[str, type[Event]] = {cls.KIND: cls for cls in _EVOLVE}
SERVED_KINDS = frozenset(_DIGITS)  # device kinds whose DTMF a context receives (a PIN, a menu)
INTERNAL_KINDS = frozenset(kind for kind, cls in EVENT_TYPES.items() if cls.INTERNAL)
COMMAND_TYPES: dict[str, type[Command]] = {cls.SERVICE: cls for cls in _DECIDE}
QUERY_TYPES: dict[str, type[Query]] = {cls.SERVICE: cls for cls in _ANSWER}
CODEC = EventCodec(
    EVENT_TYPES.values(),
    upcasters={key: fn for ctx in CONTEXTS for key, fn in ctx.upcasters.items()},
    hooks=[hook for ctx in CONTEXTS for hook in ctx.codec_hooks],
)


def timers(state: NodeState) -> list[tuple[int, Command]]:
    """Every pending timer of the contexts that have any besides the switch's (which the node
    reads from the call state): (due ms, the internal command that fires it)."""
    return [t for ctx in CONTEXTS if ctx.timers is not None for t in ctx.timers(state)]


def evolve(state: NodeState, event: Event) -> NodeState:
    """Where an event changes state: the owning context's evolve, on its part only."""
    return _EVOLVE[type(event)](state, event)


def authorize(site: Site, state: NodeState, principal: str, action: Command | Query) -> None:
    """Refuse ``action`` unless the account ``principal`` may send it
    (cti.accounts.access.authorize), with the account whose own thing it acts on as the
    contexts' ``owners`` find it in ``state`` (the mailbox of a phone menu: VM-02, VM-03)."""
    owner_of = _OWNERS.get(type(action))
    owned_by = owner_of(site, state, action) if owner_of is not None else None
    access.authorize(site, state, principal, action, owned_by=owned_by)


def decide(
    site: Site, state: NodeState, command: Command, now_ms: int, principal: str | None = None
) -> Decision[NodeState]:
    """Decide ``command`` against ``state``; raises Refusal when it is refused. ``principal``
    is the account that sent it (None: the node itself, or a face without accounts), checked
    first against the same state (cti.accounts.access)."""
    if principal is not None:
        authorize(site, state, principal, command)
    decision_type, handler = _DECIDE[type(command)]
    decision: Decision[NodeState] = decision_type(site, state, now_ms, evolve)
    decision.reactions = _REACT
    decision.digit_receivers = _DIGITS
    handler(decision, command)
    return decision


def answer(site: Site, state: NodeState, query: Query, principal: str | None = None) -> object:
    """The result of a query against the committed state; raises Refusal."""
    handler = _ANSWER.get(type(query))
    if handler is None:
        raise Refusal("serviceNotSupported", f"unknown query {query.SERVICE!r}")
    if principal is not None:
        authorize(site, state, principal, query)
    return handler(site, state, query)
