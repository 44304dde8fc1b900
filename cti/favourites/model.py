"""One user's favourites: ordered groups of ordered entries, with ids the node assigns.

Ids are unique among one user's groups and entries and never reused while the user has
favourites, so two clients of the same user never mean different things by one id (a rename
racing an add still adds to the group the client saw).
"""

from __future__ import annotations

import attrs

MAX_GROUPS = 20  # groups per user
MAX_ENTRIES = 32  # entries per group: a reorder request names them all (MAX_ITEMS of the API)
MAX_GROUP_NAME = 32  # characters
MAX_CONTACT_NAME = 64


@attrs.frozen
class Colleague:
    """An internal user, by account name (their internal number, USER-01)."""

    id: int
    account: str


@attrs.frozen
class Contact:
    """Someone outside (or a number without an account): a name and an E.164 number."""

    id: int
    name: str
    number: str


Entry = Colleague | Contact


@attrs.frozen
class Group:
    id: int
    name: str
    entries: tuple[Entry, ...] = ()

    def entry(self, entry_id: int) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


def fold(name: str) -> str:
    """What makes two group names the same name (``Team`` and ``team``)."""
    return name.casefold()


@attrs.frozen
class Favourites:
    groups: tuple[Group, ...] = ()
    next_id: int = 1  # the next id to assign

    def group(self, group_id: int) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def named(self, name: str) -> Group | None:
        return next((g for g in self.groups if fold(g.name) == fold(name)), None)

    def find(self, entry_id: int) -> tuple[Group, Entry] | None:
        for group in self.groups:
            entry = group.entry(entry_id)
            if entry is not None:
                return group, entry
        return None

    def pointing_at(self, account: str) -> list[int]:
        """The ids of the entries that name ``account``."""
        return [
            e.id
            for g in self.groups
            for e in g.entries
            if isinstance(e, Colleague) and e.account == account
        ]
