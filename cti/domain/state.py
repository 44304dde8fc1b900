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
from cti.voicemail.state import VoicemailState


@attrs.frozen
class NodeState:
    calls: SwitchState = attrs.field(factory=SwitchState)
    accounts: AccountsState = attrs.field(factory=AccountsState)
    favourites: FavouritesState = attrs.field(factory=FavouritesState)
    presence: PresenceState = attrs.field(factory=PresenceState)
    directory: DirectoryState = attrs.field(factory=DirectoryState)
    journal: JournalState = attrs.field(factory=JournalState)
    conferences: ConferencesState = attrs.field(factory=ConferencesState)
    voicemail: VoicemailState = attrs.field(factory=VoicemailState)
    seq: int = 0  # the last event applied


def _setter(name: str) -> Callable[[NodeState, Any], NodeState]:
    """``lambda s, part: NodeState(s.calls, ..., part, ..., s.seq)`` with ``part`` in the
    place of ``name``: a plain positional constructor, as evolve runs for every event
    (attrs.evolve is several times slower), written out from the fields so that adding a
    context is one line above."""
    fields = [f.name for f in attrs.fields(NodeState)]
    args = ", ".join("part" if f == name else f"s.{f}" for f in fields)
    setter: Callable[[NodeState, Any], NodeState] = eval(  # our own field names only
        f"lambda s, part: NodeState({args})", {"NodeState": NodeState}
    )
    return setter


# How each context's part is replaced.
SETTERS: dict[str, Callable[[NodeState, Any], NodeState]] = {
    f.name: _setter(f.name) for f in attrs.fields(NodeState) if f.name != "seq"
}
