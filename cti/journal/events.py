"""Events of the journal context: what users did with their journals (JOUR-03/04), facts in
the log (durable before visible). Internal, like the favourites' (a note is nobody else's
business, integrators' and monitors' event topics included): kept, replayed, never published
as events; the user's retained ``users/{user}/journal`` document is how a change shows."""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.kernel.messages import Event


@attrs.frozen(kw_only=True)
class JournalEvent(Event):
    """About no device (``devices()`` is empty): it changes no device's state, topic or
    monitor; the counts document follows the read model instead."""

    INTERNAL: ClassVar[bool] = True
    user: str  # whose journal: an internal number


@attrs.frozen(kw_only=True)
class JournalNoteSet(JournalEvent):
    """The note of an entry, with its reminder; both None: cleared (JOUR-03)."""

    KIND: ClassVar[str] = "journalNoteSet"
    entry: int
    note: str | None = None
    remind_at: int | None = None  # ms since the epoch, UTC


@attrs.frozen(kw_only=True)
class JournalReminderDue(JournalEvent):
    """A reminder expired: the entry is also in the overdue folder (JOUR-03)."""

    KIND: ClassVar[str] = "journalReminderDue"
    entry: int
    remind_at: int


@attrs.frozen(kw_only=True)
class JournalEntryDone(JournalEvent):
    KIND: ClassVar[str] = "journalEntryDone"
    entry: int


@attrs.frozen(kw_only=True)
class JournalEntryDeleted(JournalEvent):
    KIND: ClassVar[str] = "journalEntryDeleted"
    entry: int


@attrs.frozen(kw_only=True)
class JournalEntriesDeleted(JournalEvent):
    """Every entry of a call that started before ``before`` (ms, UTC) is deleted (JOUR-04)."""

    KIND: ClassVar[str] = "journalEntriesDeleted"
    before: int


@attrs.frozen(kw_only=True)
class JournalCleared(JournalEvent):
    """Every entry decided before this event is deleted (JOUR-04)."""

    KIND: ClassVar[str] = "journalCleared"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        JournalNoteSet,
        JournalReminderDue,
        JournalEntryDone,
        JournalEntryDeleted,
        JournalEntriesDeleted,
        JournalCleared,
    )
}
