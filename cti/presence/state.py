"""The presence part of the node state: an entry per user number that set anything."""

from __future__ import annotations

import attrs
import immutables

from cti.presence.model import NO_ENTRY, Entry


@attrs.frozen
class PresenceState:
    users: immutables.Map[str, Entry] = attrs.field(factory=immutables.Map)

    def of(self, user: str) -> Entry:
        return self.users.get(user, NO_ENTRY)

    def with_entry(self, user: str, entry: Entry) -> PresenceState:
        if entry.is_default():
            return PresenceState(self.users.delete(user)) if user in self.users else self
        return PresenceState(self.users.set(user, entry))
