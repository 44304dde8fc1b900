"""Events of the accounts context.

Account administration events are INTERNAL (stored, replayed, never published): they hold
password hashes, and nothing on a topic needs them.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.accounts.model import Licence, Role
from cti.kernel.messages import Event
from cti.site.model import DialMethod


@attrs.frozen(kw_only=True)
class AssignedPhoneSet(Event):
    KIND: ClassVar[str] = "assignedPhoneSet"
    user: str
    phone: str

    def devices(self) -> tuple[str, ...]:
        return (self.user,)


@attrs.frozen(kw_only=True)
class DialMethodSet(Event):
    KIND: ClassVar[str] = "dialMethodSet"
    user: str
    dial_method: DialMethod

    def devices(self) -> tuple[str, ...]:
        return (self.user,)


@attrs.frozen(kw_only=True)
class AccountCreated(Event):
    KIND: ClassVar[str] = "accountCreated"
    INTERNAL: ClassVar[bool] = True
    name: str
    display_name: str
    role: Role
    numbers: tuple[str, ...]  # the devices the account acts as
    licences: tuple[Licence, ...]


@attrs.frozen(kw_only=True)
class AccountUpdated(Event):
    """The account's public fields as they are now."""

    KIND: ClassVar[str] = "accountUpdated"
    INTERNAL: ClassVar[bool] = True
    name: str
    display_name: str
    role: Role
    numbers: tuple[str, ...]  # the devices the account acts as
    licences: tuple[Licence, ...]


@attrs.frozen(kw_only=True)
class PasswordSet(Event):
    KIND: ClassVar[str] = "passwordSet"
    INTERNAL: ClassVar[bool] = True
    name: str
    password: str = attrs.field(repr=False)  # argon2id hash, never the password
    broker_password: str = attrs.field(repr=False)  # Mosquitto's PBKDF2 verifier
    must_change: bool


@attrs.frozen(kw_only=True)
class AccountRemoved(Event):
    KIND: ClassVar[str] = "accountRemoved"
    INTERNAL: ClassVar[bool] = True
    name: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        AssignedPhoneSet,
        DialMethodSet,
        AccountCreated,
        AccountUpdated,
        PasswordSet,
        AccountRemoved,
    )
}
