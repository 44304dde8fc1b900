"""The directory part of a snapshot: each user's contacts (the lookups are rebuilt)."""

from __future__ import annotations

from typing import Any

import immutables

from cti.directory.model import Contact, Number, NumberLabel, PersonalDirectory
from cti.directory.state import DirectoryState
from cti.kernel.context import SnapshotPart


def _contact(c: Contact) -> list[Any]:
    return [
        c.id,
        c.name,
        c.company,
        [[n.label.value, n.number] for n in c.numbers],
        c.email,
        c.manual,
    ]


def _contact_of(doc: list[Any]) -> Contact:
    cid, name, company, numbers, email, manual = doc
    return Contact(
        cid, name, company, tuple(Number(NumberLabel(a), b) for a, b in numbers), email, manual
    )


def encode(state: DirectoryState) -> dict[str, Any]:
    return {
        user: {"next_id": d.next_id, "contacts": [_contact(c) for c in d.contacts.values()]}
        for user, d in state.users.items()
    }


def decode(doc: dict[str, Any]) -> DirectoryState:
    users: dict[str, PersonalDirectory] = {}
    for user, part in doc.items():
        directory = PersonalDirectory(next_id=part["next_id"])
        users[user] = directory.put(*(_contact_of(item) for item in part["contacts"]))
    return DirectoryState(immutables.Map(users))


SNAPSHOT = SnapshotPart(format=1, encode=encode, decode=decode)
