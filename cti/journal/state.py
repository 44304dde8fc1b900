"""The journal part of the node state: the pending reminders (JOUR-03), so the node fires
them from its clock. Entries themselves live in the read model (cti.journal.journal_db): the
node keeps only what a timer needs."""

from __future__ import annotations

import attrs
import immutables


@attrs.frozen
class JournalState:
    # user -> entry -> due ms
    reminders: immutables.Map[str, immutables.Map[int, int]] = attrs.field(factory=immutables.Map)

    def of(self, user: str) -> immutables.Map[int, int]:
        return self.reminders.get(user, immutables.Map())

    def with_reminder(self, user: str, entry: int, due: int | None) -> JournalState:
        mine = self.of(user)
        mine = (
            mine.set(entry, due)
            if due is not None
            else (mine.delete(entry) if entry in mine else mine)
        )
        if not mine:
            return JournalState(self.reminders.delete(user)) if user in self.reminders else self
        return JournalState(self.reminders.set(user, mine))

    def without_user(self, user: str) -> JournalState:
        return JournalState(self.reminders.delete(user)) if user in self.reminders else self
