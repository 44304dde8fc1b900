"""Events of the favourites context (DIR-05).

All are INTERNAL: recorded and replayed like any event, never published as events. A user's
favourites are private (who they call most), and no device topic is private to one account
(a MULAP phone's topic is read by several); they reach the owner only as the retained
document on ``users/{user}/favourites``, rendered from the state after each change.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.kernel.messages import Event


@attrs.frozen(kw_only=True)
class FavouriteGroupCreated(Event):
    KIND: ClassVar[str] = "favouriteGroupCreated"
    INTERNAL: ClassVar[bool] = True
    user: str
    group: int
    name: str


@attrs.frozen(kw_only=True)
class FavouriteColleagueAdded(Event):
    """An internal user added at the end of a group."""

    KIND: ClassVar[str] = "favouriteColleagueAdded"
    INTERNAL: ClassVar[bool] = True
    user: str
    group: int
    entry: int
    account: str


@attrs.frozen(kw_only=True)
class FavouriteContactAdded(Event):
    """A contact added at the end of a group."""

    KIND: ClassVar[str] = "favouriteContactAdded"
    INTERNAL: ClassVar[bool] = True
    user: str
    group: int
    entry: int
    name: str
    number: str  # E.164


@attrs.frozen(kw_only=True)
class FavouriteRemoved(Event):
    """An entry removed: by its owner, or because the colleague's account was removed."""

    KIND: ClassVar[str] = "favouriteRemoved"
    INTERNAL: ClassVar[bool] = True
    user: str
    entry: int


@attrs.frozen(kw_only=True)
class FavouriteGroupRenamed(Event):
    KIND: ClassVar[str] = "favouriteGroupRenamed"
    INTERNAL: ClassVar[bool] = True
    user: str
    group: int
    name: str


@attrs.frozen(kw_only=True)
class FavouriteGroupDeleted(Event):
    """A group deleted with every entry in it."""

    KIND: ClassVar[str] = "favouriteGroupDeleted"
    INTERNAL: ClassVar[bool] = True
    user: str
    group: int


@attrs.frozen(kw_only=True)
class FavouriteGroupsOrdered(Event):
    KIND: ClassVar[str] = "favouriteGroupsOrdered"
    INTERNAL: ClassVar[bool] = True
    user: str
    groups: tuple[int, ...]  # every group of the user, in the new order


@attrs.frozen(kw_only=True)
class FavouritesOrdered(Event):
    KIND: ClassVar[str] = "favouritesOrdered"
    INTERNAL: ClassVar[bool] = True
    user: str
    group: int
    entries: tuple[int, ...]  # every entry of the group, in the new order


@attrs.frozen(kw_only=True)
class FavouritesCleared(Event):
    """The user's account was removed: their favourites go with it (a new account of the
    same name starts with none)."""

    KIND: ClassVar[str] = "favouritesCleared"
    INTERNAL: ClassVar[bool] = True
    user: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        FavouriteGroupCreated,
        FavouriteColleagueAdded,
        FavouriteContactAdded,
        FavouriteRemoved,
        FavouriteGroupRenamed,
        FavouriteGroupDeleted,
        FavouriteGroupsOrdered,
        FavouritesOrdered,
        FavouritesCleared,
    )
}
