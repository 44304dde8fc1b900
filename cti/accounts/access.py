"""Who may send what (USER-01, USER-04, USER-05): the authorization of every request.

Decided inside the node's writer against the same state the request is then decided on, so a
check and its use cannot drift apart. Each command and query says what it acts as
(``ACTS_AS``: fields naming devices, ``ON_CALL``: a field naming a call), whether it is for
administrators (``ADMIN``) and which licence it needs (``LICENCE``).

- integrators: everything; monitors: queries only;
- administrators: everything a user may, and the administration of accounts;
- users: their own devices only: the numbers of their account, the phones of their MULAP
  groups (CALL-14) and their mobile (CALL-15); a call only if one of those is in it. Until a
  user has changed an administrator-set password, nothing else (USER-01);
- ``SELF`` names the field with the account a request is about: its owner may send it; with
  ``ADMIN`` administrators may too (profiles), without it no one else but integrators (and
  monitors, for queries) may (favourites, DIR-05);
- what a request acts on may be an account's own although no field names it: the mailbox whose
  phone menu or playback is on the call (VM-02, VM-03). The state says whose (the contexts'
  ``owners``, cti.domain): only that account may, besides controlling the device (a MULAP
  group's account controls its members' phones, not their mailboxes); integrators, and
  monitors for queries, as ever.

What a user reads back (:func:`readable`, :func:`may_read`) is what the broker lets them read
live: their devices' events, and their own events (``Event.OWNER``: presence, profile,
mailbox), which are on their own event topic and nobody else's, whoever controls the phone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from cti.accounts.commands import SetPasswordHash
from cti.accounts.model import Account, Licence, Role
from cti.kernel.messages import Command, Event, Query
from cti.kernel.refusal import Refusal
from cti.site import Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState


def change_first() -> Refusal:
    return Refusal(
        "passwordChangeRequired",
        "change the password an administrator set first (changePassword)",
    )


def service_of(action: Command | Query) -> str:
    """The service a refusal names: the one the client sent (an INTERNAL command's
    ``ASKED_AS``: setPassword, not setPasswordHash, which no client ever sends)."""
    if isinstance(action, Command) and action.ASKED_AS is not None:
        return action.ASKED_AS
    return action.SERVICE


def controlled(site: Site, account: Account) -> frozenset[str]:
    """The devices a user acts as: their numbers, their groups' phones, their mobiles."""
    out: set[str] = set()
    for number in account.devices:
        out.add(number)
        dev = site.devices.get(number)
        if dev is None:
            continue
        out.update(dev.members)
        if dev.mobile is not None:
            out.add(dev.mobile)
    return frozenset(out)


def authorize(
    site: Site,
    state: NodeState,
    principal: str,
    action: Command | Query,
    *,
    owned_by: str | None = None,
) -> None:
    """Refuse ``action`` unless the account ``principal`` may send it. ``owned_by``: the
    account whose own thing the action acts on, as the state says (cti.domain.authorize finds
    it), that a user must be."""
    account = state.accounts.account(principal)
    if account is None:
        raise Refusal("notPermitted", f"there is no account {principal}")
    owner_field = action.SELF
    owner = owner_field is not None and getattr(action, owner_field) == principal
    if isinstance(action, SetPasswordHash):
        # The owner's own change (changePassword: over TLS, with the old password) clears
        # must_change; one that sets it is setPassword, an administrator's reset, even when
        # it names the sender (else any user could reset their password in the clear).
        if owner and not action.must_change:
            return
    elif owner and not account.must_change and account.role is not Role.MONITOR:
        # An account's owner may change what is theirs (their profile), but nothing until an
        # administrator-set password is changed (USER-01); a monitor changes nothing but its
        # password (specs/security.md: queries only).
        return
    if account.must_change:
        raise change_first()
    role = account.role
    if role is Role.INTEGRATOR:
        return
    if role is Role.MONITOR:
        if isinstance(action, Query):
            return
        raise Refusal("notPermitted", f"{principal} may read, not change (monitor account)")
    service = service_of(action)
    if action.ADMIN:
        if role is not Role.ADMIN:
            raise Refusal("notPermitted", f"{service} is for administrators")
        return
    if owner_field is not None and not owner:
        # What is an account's own and no administration (favourites): its owner's alone.
        raise Refusal(
            "notPermitted",
            f"{principal} may use {service} for their own account only",
            {"field": owner_field},
        )
    licence: Licence | None = getattr(action, "LICENCE", None)
    if licence is not None and licence not in account.licences:
        raise Refusal("notLicensed", f"{service} needs the {licence} licence (USER-05)")
    own = controlled(site, account)
    for field in action.ACTS_AS:
        number = getattr(action, field)
        if number is not None and number not in own:
            raise Refusal(
                "notYourDevice",
                f"{principal} may not act as {number}",
                {"device": number, "yours": sorted(own)},
            )
    if action.ON_CALL is not None:
        call = state.calls.call(getattr(action, action.ON_CALL))
        if call is None or not in_call(own, [p.device for p in call.parties]):
            raise Refusal("notYourDevice", f"{principal} is not in that call")
    if owned_by is not None and owned_by != principal:
        # Controlling the phone is not being its person: 340's group phone 331 is still
        # Bernd's, and so is the mailbox whose menu or playback is on it (VM-02, VM-03).
        raise Refusal(
            "notPermitted",
            f"{principal} may use {service} on their own mailbox only",
        )


def in_call(own: Collection[str], parties: Iterable[str]) -> bool:
    """A call is a user's while one of their devices (``own``) is among its ``parties``."""
    return any(device in own for device in parties)


def readable(site: Site, state: NodeState, principal: str) -> frozenset[str] | None:
    """The devices whose events ``principal`` may read back (replay, with :func:`may_read`);
    None: every event (integrators, monitors). Raises Refusal for an account that may read
    nothing yet."""
    account = state.accounts.account(principal)
    if account is None:
        raise Refusal("notPermitted", f"there is no account {principal}")
    if account.must_change:
        raise change_first()
    if account.role in (Role.INTEGRATOR, Role.MONITOR):
        return None
    return controlled(site, account)


def may_read(scope: frozenset[str] | None, principal: str, event: Event) -> bool:
    """Whether ``principal``, who reads the devices ``scope`` (:func:`readable`), reads
    ``event`` back: as the broker lets them read it live, an account's own event on their own
    event topic only (PRES-04, VM-02), any other on the topics of its devices."""
    if scope is None:
        return True
    owner = event.owned_by()
    if owner is not None and owner == principal:
        return True
    return not scope.isdisjoint(event.topic_devices())


def traceable(state: NodeState, principal: str) -> None:
    """The operator view (issue 17: any call or device from the log, ``trace``): for
    administrators, monitors and integrators. Raises Refusal for anyone else; a user reads
    back their own devices' events with ``replay`` (:func:`readable`)."""
    account = state.accounts.account(principal)
    if account is None:
        raise Refusal("notPermitted", f"there is no account {principal}")
    if account.must_change:
        raise change_first()
    if account.role not in (Role.ADMIN, Role.MONITOR, Role.INTEGRATOR):
        raise Refusal(
            "notPermitted",
            "trace is for administrators and monitors: replay gives your own devices' events",
        )
