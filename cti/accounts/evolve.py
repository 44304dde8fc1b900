"""Where an accounts event changes state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import immutables

from cti.accounts import events as ev
from cti.accounts.model import Account
from cti.accounts.state import AccountsState, UserSettings


def _with(state: AccountsState, user: str, settings: UserSettings) -> AccountsState:
    if settings.is_default():
        if user not in state.settings:
            return state
        return AccountsState(state.settings.delete(user), state.accounts)
    return AccountsState(state.settings.set(user, settings), state.accounts)


def _assigned_phone(state: AccountsState, event: ev.AssignedPhoneSet) -> AccountsState:
    return _with(state, event.user, attrs.evolve(state.of(event.user), assigned_phone=event.phone))


def _dial_method(state: AccountsState, event: ev.DialMethodSet) -> AccountsState:
    settings = attrs.evolve(state.of(event.user), dial_method=event.dial_method)
    return _with(state, event.user, settings)


def _accounts(state: AccountsState, accounts: immutables.Map[str, Account]) -> AccountsState:
    return AccountsState(state.settings, accounts)


def _account_created(state: AccountsState, e: ev.AccountCreated) -> AccountsState:
    account = Account(e.name, e.display_name, e.role, e.numbers, frozenset(e.licences))
    return _accounts(state, state.accounts.set(e.name, account))


def _account_updated(state: AccountsState, e: ev.AccountUpdated) -> AccountsState:
    old = state.accounts[e.name]
    account = attrs.evolve(
        old,
        display_name=e.display_name,
        role=e.role,
        devices=e.numbers,
        licences=frozenset(e.licences),
    )
    return _accounts(state, state.accounts.set(e.name, account))


def _password_set(state: AccountsState, e: ev.PasswordSet) -> AccountsState:
    account = attrs.evolve(
        state.accounts[e.name],
        password=e.password,
        broker_password=e.broker_password,
        must_change=e.must_change,
    )
    return _accounts(state, state.accounts.set(e.name, account))


def _account_removed(state: AccountsState, e: ev.AccountRemoved) -> AccountsState:
    return _accounts(state, state.accounts.delete(e.name))


HANDLERS: dict[type[Any], Callable[[AccountsState, Any], AccountsState]] = {
    ev.AssignedPhoneSet: _assigned_phone,
    ev.DialMethodSet: _dial_method,
    ev.AccountCreated: _account_created,
    ev.AccountUpdated: _account_updated,
    ev.PasswordSet: _password_set,
    ev.AccountRemoved: _account_removed,
}
