"""Where a journal event changes the node state: only the pending reminders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cti.journal import events as ev
from cti.journal.state import JournalState


def _note(state: JournalState, e: ev.JournalNoteSet) -> JournalState:
    return state.with_reminder(e.user, e.entry, e.remind_at)


def _gone(state: JournalState, e: ev.JournalReminderDue | ev.JournalEntryDeleted) -> JournalState:
    return state.with_reminder(e.user, e.entry, None)


def _done(state: JournalState, e: ev.JournalEntryDone) -> JournalState:
    return state.with_reminder(e.user, e.entry, None)  # dealt with: nothing to remind of


def _older(state: JournalState, e: ev.JournalEntriesDeleted) -> JournalState:
    # The node does not know when an entry's call started: a reminder of an entry deleted
    # this way fires later and changes nothing (the read model has no such entry).
    return state


def _cleared(state: JournalState, e: ev.JournalCleared) -> JournalState:
    return state.without_user(e.user)


HANDLERS: dict[type[Any], Callable[[JournalState, Any], JournalState]] = {
    ev.JournalNoteSet: _note,
    ev.JournalReminderDue: _gone,
    ev.JournalEntryDone: _done,
    ev.JournalEntryDeleted: _gone,
    ev.JournalEntriesDeleted: _older,
    ev.JournalCleared: _cleared,
}
