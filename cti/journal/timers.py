"""The journal's timers: each pending reminder (JOUR-03), fired from the node's clock as an
``expireJournalReminder`` command that records ``journalReminderDue``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from cti.journal.commands import ExpireJournalReminder
from cti.kernel.messages import Command

if TYPE_CHECKING:
    from cti.domain.state import NodeState


def timers(state: NodeState) -> Iterator[tuple[int, Command]]:
    for user, mine in state.journal.reminders.items():
        for entry, due in mine.items():
            yield due, ExpireJournalReminder(user=user, entry=entry)
