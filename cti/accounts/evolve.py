"""Where an accounts event changes state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cti.accounts import events as ev
from cti.accounts.state import AccountsState, UserSettings


def _with(state: AccountsState, user: str, settings: UserSettings) -> AccountsState:
    if settings.is_default():
        return AccountsState(state.settings.delete(user)) if user in state.settings else state
    return AccountsState(state.settings.set(user, settings))


def _assigned_phone(state: AccountsState, event: ev.AssignedPhoneSet) -> AccountsState:
    return _with(state, event.user, attrs.evolve(state.of(event.user), assigned_phone=event.phone))


def _dial_method(state: AccountsState, event: ev.DialMethodSet) -> AccountsState:
    settings = attrs.evolve(state.of(event.user), dial_method=event.dial_method)
    return _with(state, event.user, settings)


HANDLERS: dict[type[Any], Callable[[AccountsState, Any], AccountsState]] = {
    ev.AssignedPhoneSet: _assigned_phone,
    ev.DialMethodSet: _dial_method,
}
