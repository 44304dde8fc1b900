"""Where a favourites event changes state. Events are facts: nothing here refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cti.favourites import events as ev
from cti.favourites.model import Colleague, Contact, Entry, Favourites, Group
from cti.favourites.state import FavouritesState


def _put(state: FavouritesState, user: str, favourites: Favourites) -> FavouritesState:
    return FavouritesState(state.users.set(user, favourites))


def _groups(state: FavouritesState, user: str, groups: tuple[Group, ...]) -> FavouritesState:
    return _put(state, user, attrs.evolve(state.of(user), groups=groups))


def _changed(
    state: FavouritesState, user: str, group_id: int, change: Callable[[Group], Group]
) -> FavouritesState:
    groups = tuple(change(g) if g.id == group_id else g for g in state.of(user).groups)
    return _groups(state, user, groups)


def _assigned(favourites: Favourites, used: int) -> Favourites:
    return attrs.evolve(favourites, next_id=max(favourites.next_id, used + 1))


def _group_created(state: FavouritesState, e: ev.FavouriteGroupCreated) -> FavouritesState:
    old = state.of(e.user)
    new = attrs.evolve(old, groups=(*old.groups, Group(e.group, e.name)))
    return _put(state, e.user, _assigned(new, e.group))


def _added(state: FavouritesState, user: str, group_id: int, entry: Entry) -> FavouritesState:
    state = _changed(state, user, group_id, lambda g: attrs.evolve(g, entries=(*g.entries, entry)))
    return _put(state, user, _assigned(state.of(user), entry.id))


def _colleague_added(state: FavouritesState, e: ev.FavouriteColleagueAdded) -> FavouritesState:
    return _added(state, e.user, e.group, Colleague(e.entry, e.account))


def _contact_added(state: FavouritesState, e: ev.FavouriteContactAdded) -> FavouritesState:
    return _added(state, e.user, e.group, Contact(e.entry, e.name, e.number))


def _removed(state: FavouritesState, e: ev.FavouriteRemoved) -> FavouritesState:
    groups = tuple(
        attrs.evolve(g, entries=tuple(x for x in g.entries if x.id != e.entry))
        for g in state.of(e.user).groups
    )
    return _groups(state, e.user, groups)


def _renamed(state: FavouritesState, e: ev.FavouriteGroupRenamed) -> FavouritesState:
    return _changed(state, e.user, e.group, lambda g: attrs.evolve(g, name=e.name))


def _deleted(state: FavouritesState, e: ev.FavouriteGroupDeleted) -> FavouritesState:
    return _groups(state, e.user, tuple(g for g in state.of(e.user).groups if g.id != e.group))


def _groups_ordered(state: FavouritesState, e: ev.FavouriteGroupsOrdered) -> FavouritesState:
    by_id = {g.id: g for g in state.of(e.user).groups}
    return _groups(state, e.user, tuple(by_id[i] for i in e.groups))


def _ordered(state: FavouritesState, e: ev.FavouritesOrdered) -> FavouritesState:
    def order(group: Group) -> Group:
        by_id = {x.id: x for x in group.entries}
        return attrs.evolve(group, entries=tuple(by_id[i] for i in e.entries))

    return _changed(state, e.user, e.group, order)


def _cleared(state: FavouritesState, e: ev.FavouritesCleared) -> FavouritesState:
    return FavouritesState(state.users.delete(e.user)) if e.user in state.users else state


HANDLERS: dict[type[Any], Callable[[FavouritesState, Any], FavouritesState]] = {
    ev.FavouriteGroupCreated: _group_created,
    ev.FavouriteColleagueAdded: _colleague_added,
    ev.FavouriteContactAdded: _contact_added,
    ev.FavouriteRemoved: _removed,
    ev.FavouriteGroupRenamed: _renamed,
    ev.FavouriteGroupDeleted: _deleted,
    ev.FavouriteGroupsOrdered: _groups_ordered,
    ev.FavouritesOrdered: _ordered,
    ev.FavouritesCleared: _cleared,
}
