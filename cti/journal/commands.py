"""Commands of the journal context (JOUR-03/04): what a user does with their journal. ``user``
names whose journal (the internal number): the sender's own (SELF without ADMIN: nobody
else's; integrators may name anyone). ``entry`` is an entry's id (the call it began in).

What an entry is comes from the calls (a read model of the log): the node checks that the
user exists and that the entry names a call; the API checks that it is in the user's journal
before it sends the command (cti.api.journal)."""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.kernel.messages import Command

MAX_NOTE = 500  # characters of a note (JOUR-03)
MAX_DAYS = 36_500  # "older than" at most a hundred years


@attrs.frozen(kw_only=True)
class SetJournalNote(Command):
    """Set (or with neither ``note`` nor a reminder: clear) the note of an entry, with an
    optional reminder: at ``remindAt`` (ms since the epoch, UTC) or ``remindIn`` seconds from
    now (JOUR-03). A new note replaces the old one and its reminder."""

    SERVICE: ClassVar[str] = "setJournalNote"
    SELF: ClassVar[str | None] = "user"
    user: str
    entry: int
    note: str | None = attrs.field(default=None, metadata={"max_length": MAX_NOTE})
    remind_at: int | None = None
    remind_in: int | None = None


@attrs.frozen(kw_only=True)
class MarkJournalEntryDone(Command):
    """The entry is dealt with: it leaves the open folder, and the overdue one (JOUR-04)."""

    SERVICE: ClassVar[str] = "markJournalEntryDone"
    SELF: ClassVar[str | None] = "user"
    user: str
    entry: int


@attrs.frozen(kw_only=True)
class DeleteJournalEntry(Command):
    SERVICE: ClassVar[str] = "deleteJournalEntry"
    SELF: ClassVar[str | None] = "user"
    user: str
    entry: int


@attrs.frozen(kw_only=True)
class DeleteJournalEntriesOlderThan(Command):
    """Delete every entry of calls that started more than ``days`` days ago (JOUR-04)."""

    SERVICE: ClassVar[str] = "deleteJournalEntriesOlderThan"
    SELF: ClassVar[str | None] = "user"
    user: str
    days: int


@attrs.frozen(kw_only=True)
class ClearJournal(Command):
    """Delete every entry the journal holds now (JOUR-04); calls still going on are entered
    when they end."""

    SERVICE: ClassVar[str] = "clearJournal"
    SELF: ClassVar[str | None] = "user"
    user: str


@attrs.frozen(kw_only=True)
class ExpireJournalReminder(Command):
    """The node's clock reached the reminder of an entry (JOUR-03)."""

    SERVICE: ClassVar[str] = "expireJournalReminder"
    INTERNAL: ClassVar[bool] = True
    user: str
    entry: int
