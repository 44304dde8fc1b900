"""Where the accounts services are decided. Refusals name the rule that failed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from cti.accounts import commands as cmd
from cti.accounts import events as ev
from cti.accounts import settings
from cti.accounts.model import Licence, Role
from cti.conferences.services import forget_member, licence_withdrawn
from cti.directory.services import forget_user as forget_contacts
from cti.favourites.services import forget_account
from cti.journal.services import forget_user as forget_journal
from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal
from cti.presence.services import forget_user
from cti.site import Site
from cti.site.model import PHONE_KINDS, Device, DeviceKind
from cti.voicemail.services import forget_user as forget_mailbox

if TYPE_CHECKING:
    from cti.domain.state import NodeState

# Every name this context refuses with.
REFUSALS = frozenset(
    {
        "unknownUser",
        "notAMulapUser",
        "notAMember",
        "notAMobilityUser",
        "invalidAccountName",
        "accountExists",
        "unknownDevice",
        "lastAdministrator",
        "passwordPolicy",
        "wrongPassword",
        "passwordChangeRequired",
        "notPermitted",
        "notYourDevice",
        "encryptionRequired",
        "notLicensed",
    }
)
# Account names travel in topics (cti/{node}/users/{name}/...): no wildcards, no slashes.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")  # fullmatch: "$" takes a "\n"
RESERVED_PREFIX = "cti-"  # the broker account of a node is cti-{node} (specs/security.md)
SITE_ROLES = (Role.USER, Role.ADMIN)  # accounts of the site's people, named by their number


def _user(d: Decision[NodeState], number: str) -> Device:
    dev = d.site.devices.get(number)
    if dev is None:
        raise Refusal("unknownUser", f"{number!r} is not a user of this site")
    return dev


def set_assigned_phone(d: Decision[NodeState], c: cmd.SetAssignedPhone) -> None:
    group = _user(d, c.user)
    if group.kind is not DeviceKind.MULAP:
        raise Refusal("notAMulapUser", f"{c.user} is not a MULAP user: it has no assigned phone")
    if c.phone not in group.members:
        raise Refusal(
            "notAMember",
            f"{c.phone} is not a phone of MULAP {c.user}",
            {"members": list(group.members)},
        )
    if settings.assigned_phone(d.state.accounts, group) != c.phone:
        d.emit(ev.AssignedPhoneSet(user=c.user, phone=c.phone))


def set_dial_method(d: Decision[NodeState], c: cmd.SetDialMethod) -> None:
    user = _user(d, c.user)
    if user.mobile is None:
        raise Refusal("notAMobilityUser", f"{c.user} has no mobile: it has no dial method")
    if settings.dial_method(d.state.accounts, user) != c.dial_method:
        d.emit(ev.DialMethodSet(user=c.user, dial_method=c.dial_method))


# -- accounts ---------------------------------------------------------------------------------
def check_account(site: Site, seed: cmd.AccountSeed) -> None:
    """An account the site can have: a topic-safe name; a person's account is named by their
    number (USER-01) and acts as phones or MULAP groups of the site."""
    if not NAME.fullmatch(seed.name):
        raise Refusal(
            "invalidAccountName",
            f"{seed.name!r}: 1 to 32 letters, digits, '.', '_' or '-', starting with one of "
            "the first two",
        )
    if seed.name.startswith(RESERVED_PREFIX):
        raise Refusal(
            "invalidAccountName", f"names starting {RESERVED_PREFIX!r} are the nodes' own"
        )
    if seed.role in SITE_ROLES and site.devices.get(seed.name) is None:
        raise Refusal(
            "invalidAccountName",
            f"a {seed.role} account is named by the user's internal number; {seed.name} is none",
        )
    for number in seed.devices:
        dev = site.devices.get(number)
        if dev is None or (dev.kind not in PHONE_KINDS and dev.kind is not DeviceKind.MULAP):
            raise Refusal("unknownDevice", f"{number} is not a phone or MULAP group of the site")


def _create(d: Decision[NodeState], seed: cmd.AccountSeed) -> None:
    check_account(d.site, seed)
    if d.state.accounts.account(seed.name) is not None:
        raise Refusal("accountExists", f"there is an account {seed.name} already")
    d.emit(
        ev.AccountCreated(
            name=seed.name,
            display_name=seed.display_name,
            role=seed.role,
            numbers=seed.devices,
            licences=tuple(sorted(seed.licences)),
        )
    )
    if seed.password is not None and seed.broker_password is not None:
        d.emit(
            ev.PasswordSet(
                name=seed.name,
                password=seed.password,
                broker_password=seed.broker_password,
                must_change=seed.must_change,
            )
        )


def seed_accounts(d: Decision[NodeState], c: cmd.SeedAccounts) -> None:
    """The site's accounts the log lacks; one the site cannot have is refused (the site file
    is checked before, so that is a bug, and nothing is seeded)."""
    for seed in c.accounts:
        if d.state.accounts.account(seed.name) is None:
            _create(d, seed)


def create_account(d: Decision[NodeState], c: cmd.CreateAccount) -> None:
    _create(d, c.account)


def _account_of(d: Decision[NodeState], name: str) -> Any:
    account = d.state.accounts.account(name)
    if account is None:
        raise Refusal("unknownUser", f"there is no account {name}")
    return account


def set_password_hash(d: Decision[NodeState], c: cmd.SetPasswordHash) -> None:
    _account_of(d, c.name)
    d.emit(
        ev.PasswordSet(
            name=c.name,
            password=c.password,
            broker_password=c.broker_password,
            must_change=c.must_change,
        )
    )


def _administrators(d: Decision[NodeState]) -> list[str]:
    return [a.name for a in d.state.accounts.accounts.values() if a.role is Role.ADMIN]


def update_account(d: Decision[NodeState], c: cmd.UpdateAccount) -> None:
    account = _account_of(d, c.name)
    seed = cmd.AccountSeed(
        name=account.name,
        display_name=account.display_name if c.display_name is None else c.display_name,
        role=account.role if c.role is None else c.role,
        devices=account.devices if c.devices is None else c.devices,
        licences=account.licences if c.licences is None else frozenset(c.licences),
        password=None,
        broker_password=None,
        must_change=False,
    )
    check_account(d.site, seed)
    if account.role is Role.ADMIN and seed.role is not Role.ADMIN:
        _keep_an_administrator(d, account.name)
    d.emit(
        ev.AccountUpdated(
            name=seed.name,
            display_name=seed.display_name,
            role=seed.role,
            numbers=seed.devices,
            licences=tuple(sorted(seed.licences)),
        )
    )
    if Licence.CONFERENCE in account.licences and Licence.CONFERENCE not in seed.licences:
        licence_withdrawn(d, c.name)  # it stops moderating; its conferences keep one (CONF-02)


def _keep_an_administrator(d: Decision[NodeState], leaving: str) -> None:
    if _administrators(d) == [leaving]:
        raise Refusal("lastAdministrator", f"{leaving} is the last administrator of the site")


def remove_account(d: Decision[NodeState], c: cmd.RemoveAccount) -> None:
    account = _account_of(d, c.name)
    if account.role is Role.ADMIN:
        _keep_an_administrator(d, c.name)
    d.emit(ev.AccountRemoved(name=c.name))
    forget_account(d, c.name)  # no favourite names a removed account (DIR-05)
    forget_user(d, c.name)  # nor does its presence outlive it (PRES-04)
    forget_contacts(d, c.name)  # its personal directory goes with it (DIR-01)
    forget_journal(d, c.name)  # and its journal's reminders (JOUR-03)
    forget_member(d, c.name)  # it leaves its conferences, which keep a moderator (CONF-02)
    forget_mailbox(d, c.name)  # and its mailbox (VM-01)


SERVICES: dict[type[Any], Any] = {
    cmd.SetAssignedPhone: set_assigned_phone,
    cmd.SetDialMethod: set_dial_method,
    cmd.SeedAccounts: seed_accounts,
    cmd.CreateAccount: create_account,
    cmd.SetPasswordHash: set_password_hash,
    cmd.UpdateAccount: update_account,
    cmd.RemoveAccount: remove_account,
}
