"""The node's domain: every bounded context composed into one state, one decide, one evolve.

A command is decided by the context that owns it against the whole node state (so a rule of
one context may read another's part); an event changes only its own context's part. See
specs/architecture.md.
"""

from cti.domain import snapshot
from cti.domain.model import (
    CODEC,
    COMMAND_TYPES,
    CONTEXTS,
    EVENT_TYPES,
    INTERNAL_KINDS,
    QUERY_TYPES,
    answer,
    authorize,
    decide,
    evolve,
)
from cti.domain.state import NodeState

__all__ = [
    "CODEC",
    "COMMAND_TYPES",
    "CONTEXTS",
    "EVENT_TYPES",
    "INTERNAL_KINDS",
    "QUERY_TYPES",
    "NodeState",
    "answer",
    "authorize",
    "decide",
    "evolve",
    "snapshot",
]
