"""What a user sees of the parties of their calls (DIR-06): each call of the devices the user
acts as, with the other party's number and the name the user knows it by.

Rendered for that user alone (the retained ``users/{user}/callers`` document): a name from a
personal directory reaches its owner only, never a device topic that several users read (a
MULAP phone's). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from cti.accounts import events as accounts_events
from cti.accounts.access import controlled
from cti.accounts.model import PEOPLE
from cti.accounts.state import AccountsState
from cti.calls.events import CallEvent
from cti.directory import events as ev
from cti.directory.callerid import identify
from cti.directory.entries import Directory
from cti.kernel.messages import Event
from cti.site import Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState


class CallerView(TypedDict):
    call: int
    device: str  # the user's device in the call
    number: str  # the other party: the caller of an incoming call, the called of an outgoing
    name: str | None  # None: no directory of the user knows the number
    directory: Directory | None  # where the name comes from: personal, internal, system


class CallersView(TypedDict):
    user: str
    calls: list[CallerView]


def view(site: Site, state: NodeState, user: str) -> CallersView:
    account = state.accounts.account(user)
    out: list[CallerView] = []
    if account is not None:
        own = controlled(site, account)
        for device in sorted(own):
            for call, _ in state.calls.connections(device):
                number = call.called if call.calling in own else call.calling
                found = identify(site, state, user, number)
                out.append(
                    CallerView(
                        call=call.id,
                        device=device,
                        number=number,
                        name=None if found is None else found.name,
                        directory=None if found is None else found.directory,
                    )
                )
    out.sort(key=lambda c: (c["call"], c["device"]))
    return CallersView(user=user, calls=out)


_OWNERS: dict[int, tuple[AccountsState, dict[str, tuple[str, ...]]]] = {}


def owners(site: Site, accounts: AccountsState) -> dict[str, tuple[str, ...]]:
    """Device -> the people who act as it (computed once per accounts state)."""
    cached = _OWNERS.get(id(site))
    if cached is not None and cached[0] is accounts:
        return cached[1]
    found: dict[str, list[str]] = {}
    for name, account in sorted(accounts.accounts.items()):
        if account.role in PEOPLE:
            for device in controlled(site, account):
                found.setdefault(device, []).append(name)
    table = {d: tuple(users) for d, users in found.items()}
    _OWNERS[id(site)] = (accounts, table)
    return table


OWN_EVENTS = tuple(ev.EVENT_TYPES.values())


ACCOUNT_EVENTS = (
    accounts_events.AccountCreated,
    accounts_events.AccountUpdated,
    accounts_events.AccountRemoved,
    accounts_events.ProfileChanged,
)


def touched(site: Site, state: NodeState, events: Iterable[Event]) -> set[str]:
    """The users whose callers view ``events`` may have changed (``state``: after them):
    whose devices a call event is about, whose personal directory changed, and, when an
    account or profile changed (internal names and numbers), everyone in a call now."""
    devices: set[str] = set()
    out: set[str] = set()
    for event in events:
        if isinstance(event, CallEvent):
            devices.update(event.devices())
        elif isinstance(event, OWN_EVENTS):
            out.add(event.user)  # type: ignore[attr-defined]
        elif isinstance(event, ACCOUNT_EVENTS):
            devices.update(d for d, rt in state.calls.devices.items() if rt.calls)
    if devices:
        table = owners(site, state.accounts)
        for device in devices:
            out.update(table.get(device, ()))
    return out
