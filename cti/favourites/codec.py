"""The favourites part of a snapshot."""

from __future__ import annotations

from typing import Any

import immutables

from cti.favourites.model import Colleague, Contact, Entry, Favourites, Group
from cti.favourites.state import FavouritesState
from cti.kernel.context import SnapshotPart


def _entry(e: Entry) -> list[Any]:
    if isinstance(e, Colleague):
        return [e.id, e.account]
    return [e.id, e.name, e.number]


def _entry_of(doc: list[Any]) -> Entry:
    if len(doc) == 2:
        return Colleague(doc[0], doc[1])
    return Contact(doc[0], doc[1], doc[2])


def encode(state: FavouritesState) -> dict[str, Any]:
    return {
        user: {
            "next_id": f.next_id,
            "groups": [
                {"id": g.id, "name": g.name, "entries": [_entry(e) for e in g.entries]}
                for g in f.groups
            ],
        }
        for user, f in state.users.items()
    }


def decode(doc: dict[str, Any]) -> FavouritesState:
    users = {
        user: Favourites(
            groups=tuple(
                Group(g["id"], g["name"], tuple(_entry_of(e) for e in g["entries"]))
                for g in f["groups"]
            ),
            next_id=f["next_id"],
        )
        for user, f in doc.items()
    }
    return FavouritesState(immutables.Map(users))


SNAPSHOT = SnapshotPart(format=1, encode=encode, decode=decode)
