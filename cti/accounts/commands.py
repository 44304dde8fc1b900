"""Commands of the accounts context (USER-01..05).

The commands that carry password hashes are INTERNAL: clients send the password itself to a
service of the API (createAccount, setPassword, changePassword in cti/api/passwords.py), which
checks the policy and hashes it outside the node's writer, then sends one of these. So is the
one that carries a profile photo: the API's setProfile (cti/api/profile.py) checks and scales
the uploaded image outside the writer and sends SetProfileChecked with the result.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.accounts.model import Licence, Photo, ProfileField, Role, Visibility
from cti.kernel.messages import Command
from cti.site.model import DialMethod


@attrs.frozen(kw_only=True)
class AccountSeed:
    """An account the site file asks for, its password already hashed."""

    name: str
    display_name: str
    role: Role
    devices: tuple[str, ...]
    licences: frozenset[Licence]
    password: str | None = attrs.field(repr=False)  # hashes: not for log lines
    broker_password: str | None = attrs.field(repr=False)
    must_change: bool


@attrs.frozen(kw_only=True)
class SeedAccounts(Command):
    """At start: create the accounts of the site file the log does not have yet (the log wins
    over the file for every account it has, specs/configuration.md)."""

    SERVICE: ClassVar[str] = "seedAccounts"
    INTERNAL: ClassVar[bool] = True
    accounts: tuple[AccountSeed, ...]


@attrs.frozen(kw_only=True)
class CreateAccount(Command):
    SERVICE: ClassVar[str] = "createAccountHashed"
    INTERNAL: ClassVar[bool] = True
    ASKED_AS: ClassVar[str | None] = "createAccount"
    ADMIN: ClassVar[bool] = True
    account: AccountSeed


@attrs.frozen(kw_only=True)
class SetPasswordHash(Command):
    SERVICE: ClassVar[str] = "setPasswordHash"
    INTERNAL: ClassVar[bool] = True
    # Refused to a non-administrator only when it sets must_change, i.e. for setPassword:
    # the owner's changePassword (must_change False) passes as the owner's (access.py).
    ASKED_AS: ClassVar[str | None] = "setPassword"
    ADMIN: ClassVar[bool] = True
    SELF: ClassVar[str | None] = "name"  # and the account's owner (changePassword)
    name: str
    password: str = attrs.field(repr=False)  # argon2id hash
    broker_password: str = attrs.field(repr=False)  # Mosquitto's verifier
    must_change: bool


@attrs.frozen(kw_only=True)
class UpdateAccount(Command):
    """An administrator changes an account (fields left out stay as they are)."""

    SERVICE: ClassVar[str] = "updateAccount"
    ADMIN: ClassVar[bool] = True
    name: str
    display_name: str | None = None
    role: Role | None = None
    devices: tuple[str, ...] | None = None
    licences: tuple[Licence, ...] | None = None


@attrs.frozen(kw_only=True)
class RemoveAccount(Command):
    SERVICE: ClassVar[str] = "removeAccount"
    ADMIN: ClassVar[bool] = True
    name: str


@attrs.frozen(kw_only=True)
class SetAssignedPhone(Command):
    """A MULAP user names the member phone that places their outgoing CTI calls (CALL-14)."""

    SERVICE: ClassVar[str] = "setAssignedPhone"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("user",)
    user: str  # the MULAP number
    phone: str


@attrs.frozen(kw_only=True)
class SetDialMethod(Command):
    """A mobility user chooses how their CTI calls start (CALL-15)."""

    SERVICE: ClassVar[str] = "setDialMethod"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("user",)
    LICENCE: ClassVar[Licence | None] = Licence.MOBILITY
    user: str
    dial_method: DialMethod


@attrs.frozen(kw_only=True)
class SetProfileChecked(Command):
    """Change a user's profile (USER-03): the fields given change, those named in ``clear``
    are emptied, the others stay. The account's owner or an administrator sends it."""

    SERVICE: ClassVar[str] = "setProfileChecked"
    INTERNAL: ClassVar[bool] = True  # the photo must be one the node made (cti.accounts.photos)
    ADMIN: ClassVar[bool] = True
    SELF: ClassVar[str | None] = "name"  # and the account's owner
    name: str
    mobile: str | None = None  # as typed: the node makes numbers and addresses canonical
    external: str | None = None
    email: str | None = None
    photo: Photo | None = None  # already checked and scaled to 200x200
    presence_visibility: Visibility | None = None  # PRES-04
    voicemail_to_email: bool | None = None
    clear: tuple[ProfileField, ...] = ()
