"""The accounts part of the node state: the accounts, and what users changed of the site's
per-user settings (kept by number, as settings exist for site users with or without an
account)."""

from __future__ import annotations

import attrs
import immutables

from cti.accounts.model import Account
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
    accounts: immutables.Map[str, Account] = attrs.field(factory=immutables.Map)

    def of(self, user: str) -> UserSettings:
        return self.settings.get(user, _DEFAULT)

    def account(self, name: str) -> Account | None:
        return self.accounts.get(name)


_DEFAULT = UserSettings()
