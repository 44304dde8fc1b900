"""The accounts part of the node state: what users changed of the site's per-user settings."""

from __future__ import annotations

import attrs
import immutables

from cti.site.model import DialMethod


@attrs.frozen
class UserSettings:
    """Settings a user changed at run time; None: the site's value applies."""

    assigned_phone: str | None = None  # MULAP user: the phone for outgoing CTI calls (USER-04)
    dial_method: DialMethod | None = None  # mobility user (USER-04, CALL-15)

    def is_default(self) -> bool:
        return self.assigned_phone is None and self.dial_method is None


@attrs.frozen
class AccountsState:
    settings: immutables.Map[str, UserSettings] = attrs.field(factory=immutables.Map)

    def of(self, user: str) -> UserSettings:
        return self.settings.get(user, _DEFAULT)


_DEFAULT = UserSettings()
