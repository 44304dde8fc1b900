"""Where an accounts event changes state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import immutables

from cti.accounts import events as ev
from cti.accounts.model import Account, Photo
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


def _profile_photo_set(state: AccountsState, e: ev.ProfilePhotoSet) -> AccountsState:
    account = state.accounts[e.name]
    photo = Photo(content_type=e.content_type, data=e.data, sha256=e.sha256)
    profile = attrs.evolve(account.profile, photo=photo)
    return _accounts(state, state.accounts.set(e.name, attrs.evolve(account, profile=profile)))


def _profile_changed(state: AccountsState, e: ev.ProfileChanged) -> AccountsState:
    account = state.accounts[e.name]
    profile = attrs.evolve(
        account.profile,
        mobile=e.mobile,
        external=e.external,
        email=e.email,
        # The photo named is the one the profilePhotoSet before it set (or kept from before).
        photo=None if e.photo_sha256 is None else account.profile.photo,
        presence_visibility=e.presence_visibility,
        voicemail_to_email=e.voicemail_to_email,
    )
    return _accounts(state, state.accounts.set(e.name, attrs.evolve(account, profile=profile)))


HANDLERS: dict[type[Any], Callable[[AccountsState, Any], AccountsState]] = {
    ev.AssignedPhoneSet: _assigned_phone,
    ev.DialMethodSet: _dial_method,
    ev.AccountCreated: _account_created,
    ev.AccountUpdated: _account_updated,
    ev.PasswordSet: _password_set,
    ev.AccountRemoved: _account_removed,
    ev.ProfilePhotoSet: _profile_photo_set,
    ev.ProfileChanged: _profile_changed,
}
