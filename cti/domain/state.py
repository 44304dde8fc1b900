"""The node state: one part per context, and the log position it reflects.

Everything is immutable (frozen attrs, HAMT maps): evolve returns a new state, so a decision is
tried on a scratch copy and dropped, and a failed commit rolls back by keeping the old one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cti.accounts.state import AccountsState
from cti.calls.state import SwitchState
from cti.conferences.state import ConferencesState
from cti.directory.state import DirectoryState
from cti.favourites.state import FavouritesState
from cti.journal.state import JournalState
from cti.presence.state import PresenceState


@attrs.frozen
class NodeState:
    calls: SwitchState = attrs.field(factory=SwitchState)
    accounts: AccountsState = attrs.field(factory=AccountsState)
    favourites: FavouritesState = attrs.field(factory=FavouritesState)
    presence: PresenceState = attrs.field(factory=PresenceState)
    directory: DirectoryState = attrs.field(factory=DirectoryState)
    journal: JournalState = attrs.field(factory=JournalState)
    conferences: ConferencesState = attrs.field(factory=ConferencesState)
    seq: int = 0  # the last event applied


# How each context's part is replaced: explicit constructors, as evolve runs for every event.
SETTERS: dict[str, Callable[[NodeState, Any], NodeState]] = {
    "calls": lambda s, part: NodeState(
        part, s.accounts, s.favourites, s.presence, s.directory, s.journal, s.conferences, s.seq
    ),
    "accounts": lambda s, part: NodeState(
        s.calls, part, s.favourites, s.presence, s.directory, s.journal, s.conferences, s.seq
    ),
    "favourites": lambda s, part: NodeState(
        s.calls, s.accounts, part, s.presence, s.directory, s.journal, s.conferences, s.seq
    ),
    "presence": lambda s, part: NodeState(
        s.calls, s.accounts, s.favourites, part, s.directory, s.journal, s.conferences, s.seq
    ),
    "directory": lambda s, part: NodeState(
        s.calls, s.accounts, s.favourites, s.presence, part, s.journal, s.conferences, s.seq
    ),
    "journal": lambda s, part: NodeState(
        s.calls, s.accounts, s.favourites, s.presence, s.directory, part, s.conferences, s.seq
    ),
    "conferences": lambda s, part: NodeState(
        s.calls, s.accounts, s.favourites, s.presence, s.directory, s.journal, part, s.seq
    ),
}
