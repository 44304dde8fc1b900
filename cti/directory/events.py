"""Events of the directory context (DIR-01).

All are INTERNAL: recorded and replayed like any event, never published as events. A user's
personal directory is theirs alone (specs/security.md); it reaches the user through queries
and the search index, never through a device topic another user may read.

An import's contacts travel in ``contactsImported`` events of at most :data:`CHUNK` contacts
each (one commit for the whole import): a log row stays far below the event size limits
(cti/mqtt/limits.py) whatever the file, and a 100,000-row import is 400 events.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.directory.model import Contact
from cti.kernel.messages import Event

CHUNK = 250  # contacts per contactsImported event (a few hundred bytes each: ~60 kB at most)


@attrs.frozen(kw_only=True)
class ContactAdded(Event):
    """A contact the user added (``manual``)."""

    KIND: ClassVar[str] = "contactAdded"
    INTERNAL: ClassVar[bool] = True
    user: str
    contact: Contact


@attrs.frozen(kw_only=True)
class ContactChanged(Event):
    """A contact the user edited: it is ``manual`` from now on, whatever its origin."""

    KIND: ClassVar[str] = "contactChanged"
    INTERNAL: ClassVar[bool] = True
    user: str
    contact: Contact


@attrs.frozen(kw_only=True)
class ContactDeleted(Event):
    KIND: ClassVar[str] = "contactDeleted"
    INTERNAL: ClassVar[bool] = True
    user: str
    id: int


@attrs.frozen(kw_only=True)
class ContactsImported(Event):
    """Part of an import: contacts added (new ids) or updated (their ids), each replacing
    what the id held."""

    KIND: ClassVar[str] = "contactsImported"
    INTERNAL: ClassVar[bool] = True
    user: str
    contacts: tuple[Contact, ...]


@attrs.frozen(kw_only=True)
class PersonalDirectoryCleared(Event):
    """The user's account was removed: their contacts go with it."""

    KIND: ClassVar[str] = "personalDirectoryCleared"
    INTERNAL: ClassVar[bool] = True
    user: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        ContactAdded,
        ContactChanged,
        ContactDeleted,
        ContactsImported,
        PersonalDirectoryCleared,
    )
}
