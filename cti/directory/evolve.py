"""Where a directory event changes state. Events are facts: nothing here refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cti.directory import events as ev
from cti.directory.model import PersonalDirectory
from cti.directory.state import DirectoryState


def _put(state: DirectoryState, user: str, directory: PersonalDirectory) -> DirectoryState:
    return DirectoryState(state.users.set(user, directory))


def _added(state: DirectoryState, e: ev.ContactAdded | ev.ContactChanged) -> DirectoryState:
    return _put(state, e.user, state.of(e.user).put(e.contact))


def _deleted(state: DirectoryState, e: ev.ContactDeleted) -> DirectoryState:
    return _put(state, e.user, state.of(e.user).drop(e.id))


def _imported(state: DirectoryState, e: ev.ContactsImported) -> DirectoryState:
    return _put(state, e.user, state.of(e.user).put(*e.contacts))


def _cleared(state: DirectoryState, e: ev.PersonalDirectoryCleared) -> DirectoryState:
    return DirectoryState(state.users.delete(e.user)) if e.user in state.users else state


HANDLERS: dict[type[Any], Callable[[DirectoryState, Any], DirectoryState]] = {
    ev.ContactAdded: _added,
    ev.ContactChanged: _added,
    ev.ContactDeleted: _deleted,
    ev.ContactsImported: _imported,
    ev.PersonalDirectoryCleared: _cleared,
}
