"""The internal (DIR-02) and system (DIR-03) directories, and what every hit looks like.

The internal directory is the site's people (accounts of users and administrators) with the
numbers they act as and the extra numbers of their profiles, and its MULAP groups; the system
directory is the site's speed dials. Presence is added when an entry is shown, within the
shown user's visibility (PRES-04). Pure.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, NotRequired, TypedDict

from cti.accounts.model import PEOPLE, Account
from cti.directory.model import Contact
from cti.presence import view as presence_view
from cti.presence.model import Status
from cti.site import DeviceKind, Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState


class Directory(StrEnum):
    PERSONAL = "personal"
    INTERNAL = "internal"
    SYSTEM = "system"


class NumberView(TypedDict):
    label: str  # business, mobile, home, other; internal: extension, mobile, external
    number: str  # E.164, or an internal number


class EntryView(TypedDict):
    """One entry of a directory, as a hit and as its details (DIR-04)."""

    directory: Directory
    id: str  # personal: the contact id; internal: the account or group number; system: its index
    name: str
    company: NotRequired[str]
    numbers: list[NumberView]
    email: NotRequired[str]
    origin: NotRequired[str]  # personal: manual or imported (DIR-01)
    kind: NotRequired[str]  # internal: user or group
    # Internal users: their status, None when their visibility does not show it (PRES-04).
    presence: NotRequired[Status | None]


def contact_view(contact: Contact) -> EntryView:
    out = EntryView(
        directory=Directory.PERSONAL,
        id=str(contact.id),
        name=contact.name,
        numbers=[NumberView(label=n.label.value, number=n.number) for n in contact.numbers],
        origin="manual" if contact.manual else "imported",
    )
    if contact.company:
        out["company"] = contact.company
    if contact.email:
        out["email"] = contact.email
    return out


def account_view(account: Account) -> EntryView:
    numbers = [NumberView(label="extension", number=d) for d in account.devices]
    p = account.profile
    numbers += [
        NumberView(label=k, number=v)
        for k, v in (("mobile", p.mobile), ("external", p.external))
        if v
    ]
    out = EntryView(
        directory=Directory.INTERNAL,
        id=account.name,
        name=account.display_name,
        numbers=numbers,
        kind="user",
    )
    if p.email:
        out["email"] = p.email
    return out


def internal_entries(site: Site, state: NodeState) -> list[EntryView]:
    """Every entry of the internal directory, people first (by account), then groups."""
    out = [account_view(a) for _, a in sorted(state.accounts.accounts.items()) if a.role in PEOPLE]
    out += [
        EntryView(
            directory=Directory.INTERNAL,
            id=dev.number,
            name=dev.name or dev.number,
            numbers=[NumberView(label="extension", number=dev.number)],
            kind="group",
        )
        for dev in sorted(site.devices.values(), key=lambda d: d.number)
        if dev.kind is DeviceKind.MULAP
    ]
    return out


def system_entries(site: Site) -> list[EntryView]:
    return [
        EntryView(
            directory=Directory.SYSTEM,
            id=str(i),
            name=s.name,
            numbers=[NumberView(label="speedDial", number=s.number)],
        )
        for i, s in enumerate(site.speed_dials, 1)
    ]


def with_presence(state: NodeState, viewer: str, entry: EntryView) -> EntryView:
    """``entry`` with the presence ``viewer`` may see of it (internal users only)."""
    if entry["directory"] is not Directory.INTERNAL or entry.get("kind") != "user":
        return entry
    account = state.accounts.account(entry["id"])
    visible = account is not None and (
        viewer == account.name or account.profile.presence_visibility.internal
    )
    shown = presence_view.shown(state, entry["id"]).status if visible else None
    return {**entry, "presence": shown}


def entry(
    site: Site, state: NodeState, user: str, directory: Directory, ref: str
) -> EntryView | None:
    """The details of one entry as ``user`` sees them; None: no such entry."""
    if directory is Directory.PERSONAL:
        if not ref.isdigit():
            return None
        contact = state.directory.of(user).contact(int(ref))
        return None if contact is None else contact_view(contact)
    if directory is Directory.SYSTEM:
        found = [e for e in system_entries(site) if e["id"] == ref]
        return found[0] if found else None
    account = state.accounts.account(ref)
    if account is not None and account.role in PEOPLE:
        return with_presence(state, user, account_view(account))
    dev = site.devices.get(ref)
    if dev is not None and dev.kind is DeviceKind.MULAP:
        return next(e for e in internal_entries(site, state) if e["id"] == ref)
    return None
