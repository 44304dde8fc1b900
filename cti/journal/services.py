"""Where the journal services are decided (JOUR-03/04). Every check runs before the event, so
a refused request changes nothing."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from cti.journal import commands as cmd
from cti.journal import events as ev
from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal, invalid_field
from cti.site.model import PHONE_KINDS, DeviceKind

if TYPE_CHECKING:
    from cti.domain.state import NodeState

MAX_REMINDERS = 100  # pending reminders per user: the node scans them for its timers
DAY_MS = 86_400_000

REFUSALS = frozenset(
    {
        "unknownUser",
        "unknownJournalEntry",
        "invalidParameterValue",
        "reminderNotInFuture",
        "tooManyReminders",
    }
)


def check_user(d: Decision[NodeState], user: str) -> None:
    dev = d.site.devices.get(user)
    if dev is None or not (dev.kind in PHONE_KINDS or dev.kind is DeviceKind.MULAP):
        raise Refusal("unknownUser", f"{user!r} is not a user (phone or MULAP) of this site")


def check_entry(d: Decision[NodeState], entry: int) -> None:
    """An entry id names a call the node has made (an entry of the user's own journal is
    checked by the API against the read model before the command comes here)."""
    if not 0 < entry < d.state.calls.next_call_id:
        raise Refusal("unknownJournalEntry", f"there is no journal entry {entry}", {"entry": entry})


def _note(text: str | None) -> str | None:
    if text is None:
        return None
    if len(text) > cmd.MAX_NOTE:
        raise invalid_field("note", "tooLong", f"note: at most {cmd.MAX_NOTE} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise invalid_field("note", "controlCharacter", "note: no control characters")
    return text.strip() or None


def set_note(d: Decision[NodeState], c: cmd.SetJournalNote) -> None:
    check_user(d, c.user)
    check_entry(d, c.entry)
    note = _note(c.note)
    if c.remind_at is not None and c.remind_in is not None:
        raise invalid_field("remindIn", "oneOf", "give remindAt or remindIn, not both")
    due = c.remind_at
    if c.remind_in is not None:
        if c.remind_in <= 0:
            raise Refusal(
                "reminderNotInFuture", "remindIn: a number of seconds from now, at least 1"
            )
        due = d.now_ms + c.remind_in * 1000
    if due is not None and due <= d.now_ms:
        raise Refusal(
            "reminderNotInFuture",
            f"the reminder {due} is not after now ({d.now_ms}, ms UTC)",
            {"now": d.now_ms},
        )
    mine = d.state.journal.of(c.user)
    if due is not None and c.entry not in mine and len(mine) >= MAX_REMINDERS:
        raise Refusal(
            "tooManyReminders", f"at most {MAX_REMINDERS} pending reminders", {"max": MAX_REMINDERS}
        )
    d.emit(ev.JournalNoteSet(user=c.user, entry=c.entry, note=note, remind_at=due))


def mark_done(d: Decision[NodeState], c: cmd.MarkJournalEntryDone) -> None:
    check_user(d, c.user)
    check_entry(d, c.entry)
    d.emit(ev.JournalEntryDone(user=c.user, entry=c.entry))


def delete_entry(d: Decision[NodeState], c: cmd.DeleteJournalEntry) -> None:
    check_user(d, c.user)
    check_entry(d, c.entry)
    d.emit(ev.JournalEntryDeleted(user=c.user, entry=c.entry))


def delete_older(d: Decision[NodeState], c: cmd.DeleteJournalEntriesOlderThan) -> None:
    check_user(d, c.user)
    if not 0 <= c.days <= cmd.MAX_DAYS:
        raise invalid_field("days", "outOfRange", f"days: from 0 to {cmd.MAX_DAYS}")
    d.emit(ev.JournalEntriesDeleted(user=c.user, before=d.now_ms - c.days * DAY_MS))


def clear(d: Decision[NodeState], c: cmd.ClearJournal) -> None:
    check_user(d, c.user)
    d.emit(ev.JournalCleared(user=c.user))


def expire_reminder(d: Decision[NodeState], c: cmd.ExpireJournalReminder) -> None:
    """Records nothing when the reminder is no longer due (changed or cleared meanwhile)."""
    due = d.state.journal.of(c.user).get(c.entry)
    if due is not None and due <= d.now_ms:
        d.emit(ev.JournalReminderDue(user=c.user, entry=c.entry, remind_at=due))


def forget_user(d: Decision[NodeState], name: str) -> None:
    """An account is being removed (removeAccount): its pending reminders go with it (the
    read model drops its entries on ``accountRemoved``)."""
    if d.state.journal.of(name):
        d.emit(ev.JournalCleared(user=name))


SERVICES: dict[type[Any], Any] = {
    cmd.SetJournalNote: set_note,
    cmd.MarkJournalEntryDone: mark_done,
    cmd.DeleteJournalEntry: delete_entry,
    cmd.DeleteJournalEntriesOlderThan: delete_older,
    cmd.ClearJournal: clear,
    cmd.ExpireJournalReminder: expire_reminder,
}
