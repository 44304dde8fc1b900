"""What a user sees of their favourites: the getFavourites answer and the retained document.

A colleague comes with what the UI needs to show them live: their display name and the
numbers of their account, whose busy lamps (``lamps/{device}``, CALL-11) it watches; a contact
with the name and the E.164 number the user gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, TypedDict

from cti.accounts import events as accounts_events
from cti.favourites import events as ev
from cti.favourites.model import Colleague, Entry
from cti.kernel.messages import Event

if TYPE_CHECKING:
    from cti.domain.state import NodeState


class ColleagueView(TypedDict):
    """An internal user: watch ``lamps/{device}`` for each of ``devices`` (CALL-11)."""

    id: int
    kind: Literal["colleague"]
    user: str  # their account name (their internal number)
    name: str  # their display name as it is now
    devices: list[str]  # the numbers their account acts as


class ContactView(TypedDict):
    id: int
    kind: Literal["contact"]
    name: str
    number: str  # E.164


class GroupView(TypedDict):
    id: int
    name: str
    entries: list[ColleagueView | ContactView]


class FavouritesView(TypedDict):
    """A user's favourites (DIR-05): groups in the user's order, each with its entries."""

    user: str
    groups: list[GroupView]


def _entry(state: NodeState, entry: Entry) -> ColleagueView | ContactView:
    if isinstance(entry, Colleague):
        account = state.accounts.account(entry.account)
        return ColleagueView(
            id=entry.id,
            kind="colleague",
            user=entry.account,
            # removeAccount removes every entry naming the account (services.forget_account).
            name=account.display_name if account is not None else entry.account,
            devices=list(account.devices) if account is not None else [],
        )
    return ContactView(id=entry.id, kind="contact", name=entry.name, number=entry.number)


def view(state: NodeState, user: str) -> FavouritesView:
    groups = state.favourites.of(user).groups
    return FavouritesView(
        user=user,
        groups=[
            GroupView(id=g.id, name=g.name, entries=[_entry(state, e) for e in g.entries])
            for g in groups
        ],
    )


ACCOUNT_EVENTS = (
    accounts_events.AccountCreated,
    accounts_events.AccountUpdated,
    accounts_events.AccountRemoved,
)
OWN_EVENTS = tuple(ev.EVENT_TYPES.values())


def touched(state: NodeState, events: Iterable[Event]) -> set[str]:
    """The users whose favourites view ``events`` may have changed (``state``: after them):
    the owner of a favourites event; an account created, changed or removed, and everyone
    with it among their colleagues (its name or numbers changed)."""
    out: set[str] = set()
    accounts: set[str] = set()
    for event in events:
        if isinstance(event, OWN_EVENTS):
            out.add(event.user)  # type: ignore[attr-defined]
        elif isinstance(event, ACCOUNT_EVENTS):
            accounts.add(event.name)
    if accounts:
        out |= accounts
        for user, favourites in state.favourites.users.items():
            if any(favourites.pointing_at(a) for a in accounts):
                out.add(user)
    return out
