"""Caller identification (DIR-06): the name of a number, as one user may know it.

:func:`resolve_caller` looks in ``user``'s own personal directory first, then the internal
directory, then the system directory; it never reads another user's personal directory, so
a name a user gave a number reaches that user alone. Pure and cheap: the journal's read model
calls it when a journal is read (the journal keeps numbers, names are resolved when shown).
"""

from __future__ import annotations

import contextlib
import weakref
from typing import TYPE_CHECKING

import attrs

from cti.accounts.model import PEOPLE
from cti.accounts.state import AccountsState
from cti.directory.entries import Directory
from cti.site import Site
from cti.site.numbers import InvalidNumber

if TYPE_CHECKING:
    from cti.domain.state import NodeState


@attrs.frozen
class CallerName:
    name: str
    directory: Directory


def _forms(site: Site, number: str) -> list[str]:
    """``number`` as the directories may hold it: as given, and canonical (E.164)."""
    out = [number]
    try:
        canonical = site.plan.canonical(number)
    except (InvalidNumber, ValueError):
        return out
    if canonical != number:
        out.append(canonical)
    return out


# By id(site), with a weak reference to check it is that site: a dead site's id can be a
# new one's (a Site is unhashable, so no WeakKeyDictionary; a strong one would keep them all).
_INTERNAL: dict[int, tuple[weakref.ref[Site], AccountsState, dict[str, str]]] = {}


def _internal(site: Site, accounts: AccountsState) -> dict[str, str]:
    """Number -> display name of the site's people (their numbers, their profiles' mobile
    and external numbers) and groups, computed once per accounts state."""
    cached = _INTERNAL.get(id(site))
    if cached is not None and cached[0]() is site and cached[1] is accounts:
        return cached[2]
    names: dict[str, str] = {}
    for device in site.devices.values():
        if device.name:
            names.setdefault(device.number, device.name)
    for _, account in sorted(accounts.accounts.items()):
        if account.role not in PEOPLE:
            continue
        for number in account.devices:
            names[number] = account.display_name
            with contextlib.suppress(InvalidNumber, ValueError):
                names.setdefault(site.plan.canonical(number), account.display_name)
            dev = site.devices.get(number)
            if dev is not None and dev.mobile is not None:
                names.setdefault(dev.mobile, account.display_name)
        for extra in (account.profile.mobile, account.profile.external):
            if extra is not None:
                names.setdefault(extra, account.display_name)
    _INTERNAL[id(site)] = (weakref.ref(site), accounts, names)
    return names


def identify(site: Site, state: NodeState, user: str, number: str) -> CallerName | None:
    """The name ``user`` knows ``number`` by, and the directory it came from."""
    forms = _forms(site, number)
    personal = state.directory.of(user)
    for form in forms:
        found = personal.with_number(form)
        if found:
            return CallerName(min(found, key=lambda c: c.id).name, Directory.PERSONAL)
    internal = _internal(site, state.accounts)
    for form in forms:
        if form in internal:
            return CallerName(internal[form], Directory.INTERNAL)
    for form in forms:
        for speed_dial in site.speed_dials:
            if speed_dial.number == form:
                return CallerName(speed_dial.name, Directory.SYSTEM)
    return None


def resolve_caller(site: Site, state: NodeState, user: str, number: str) -> str | None:
    """The name of ``number`` for ``user`` (DIR-06): their personal directory first, then
    the internal directory, then the system directory; None when none knows it."""
    found = identify(site, state, user, number)
    return None if found is None else found.name
