"""Accounts as a context of the node (USER-04 today)."""

from __future__ import annotations

from cti.accounts import codec, events, evolve, profiles, queries, services
from cti.accounts.state import AccountsState
from cti.kernel.context import Context
from cti.kernel.decision import Decision

CONTEXT: Context[AccountsState] = Context(
    name="accounts",
    initial=AccountsState,
    decision=Decision,
    commands={**services.SERVICES, **profiles.SERVICES},
    events=evolve.HANDLERS,
    snapshot=codec.SNAPSHOT,
    refusals=services.REFUSALS | profiles.REFUSALS,
    queries={**queries.QUERIES, **profiles.QUERIES},
    upcasters=events.UPCASTERS,
)
