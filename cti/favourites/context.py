"""Favourites as a context of the node (DIR-05)."""

from __future__ import annotations

from cti.favourites import codec, evolve, queries, services
from cti.favourites.state import FavouritesState
from cti.kernel.context import Context
from cti.kernel.decision import Decision

CONTEXT: Context[FavouritesState] = Context(
    name="favourites",
    initial=FavouritesState,
    decision=Decision,
    commands=services.SERVICES,
    events=evolve.HANDLERS,
    snapshot=codec.SNAPSHOT,
    refusals=services.REFUSALS,
    queries=queries.QUERIES,
)
