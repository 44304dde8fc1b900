"""The directory part of the node state: each user's personal directory by account name."""

from __future__ import annotations

import attrs
import immutables

from cti.directory.model import PersonalDirectory

_NONE = PersonalDirectory()


@attrs.frozen
class DirectoryState:
    users: immutables.Map[str, PersonalDirectory] = attrs.field(factory=immutables.Map)

    def of(self, user: str) -> PersonalDirectory:
        return self.users.get(user, _NONE)
