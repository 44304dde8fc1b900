"""A user's personal directory (DIR-01): contacts with node-assigned ids.

A contact is ``manual`` when the user added or edited it, else ``imported``. An import updates
the imported contact its row matches (:func:`cti.directory.folding.match_key`) and never a
manual one, so an edit survives every later import.
"""

from __future__ import annotations

from enum import StrEnum

import attrs
import immutables

from cti.directory.folding import match_key

MAX_CONTACTS = 100_000  # per user: a 100k-row import fits
MAX_NAME = 128  # characters of a name or a company
MAX_EMAIL = 254


class NumberLabel(StrEnum):
    BUSINESS = "business"
    MOBILE = "mobile"
    HOME = "home"
    OTHER = "other"


LABELS = tuple(NumberLabel)


@attrs.frozen
class Number:
    label: NumberLabel
    number: str  # E.164, or an internal extension


@attrs.frozen
class Contact:
    id: int
    name: str
    company: str = ""
    numbers: tuple[Number, ...] = ()
    email: str | None = None
    manual: bool = True  # added or edited by the user: an import never changes it

    def same_data(self, other: Contact) -> bool:
        """Whether ``other`` says the same (ids and origin aside)."""
        return (self.name, self.company, self.numbers, self.email) == (
            other.name,
            other.company,
            other.numbers,
            other.email,
        )


def _key(contact: Contact) -> str:
    return match_key(contact.name, contact.company)


@attrs.frozen
class PersonalDirectory:
    """One user's contacts, with the lookups decide and caller identification need."""

    contacts: immutables.Map[int, Contact] = attrs.field(factory=immutables.Map)
    by_key: immutables.Map[str, int] = attrs.field(factory=immutables.Map)
    by_number: immutables.Map[str, tuple[int, ...]] = attrs.field(factory=immutables.Map)
    next_id: int = 1

    def contact(self, contact_id: int) -> Contact | None:
        return self.contacts.get(contact_id)

    def keyed(self, key: str) -> Contact | None:
        found = self.by_key.get(key)
        return None if found is None else self.contacts[found]

    def with_number(self, number: str) -> list[Contact]:
        return [self.contacts[i] for i in self.by_number.get(number, ())]

    def put(self, *contacts: Contact) -> PersonalDirectory:
        """With ``contacts`` added, each replacing the one of its id (one mutation of each
        map for all of them: an import puts hundreds at once)."""
        me = self
        for contact in contacts:
            if contact.id in me.contacts:
                me = me.drop(contact.id)
        by_id, by_key, by_number = me.contacts.mutate(), me.by_key.mutate(), me.by_number.mutate()
        next_id = me.next_id
        for contact in contacts:
            for n in dict.fromkeys(x.number for x in contact.numbers):
                by_number[n] = (*by_number.get(n, ()), contact.id)
            by_id[contact.id] = contact
            by_key[_key(contact)] = contact.id
            next_id = max(next_id, contact.id + 1)
        return PersonalDirectory(by_id.finish(), by_key.finish(), by_number.finish(), next_id)

    def drop(self, contact_id: int) -> PersonalDirectory:
        old = self.contacts.get(contact_id)
        if old is None:
            return self
        by_number = self.by_number.mutate()
        for n in dict.fromkeys(x.number for x in old.numbers):
            rest = tuple(i for i in by_number.get(n, ()) if i != contact_id)
            if rest:
                by_number[n] = rest
            else:
                del by_number[n]
        key = _key(old)
        by_key = self.by_key.delete(key) if self.by_key.get(key) == contact_id else self.by_key
        return PersonalDirectory(
            self.contacts.delete(contact_id), by_key, by_number.finish(), self.next_id
        )
