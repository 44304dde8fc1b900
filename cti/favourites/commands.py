"""Commands of the favourites context (DIR-05). ``user`` names whose favourites: the sender's
own account (cti.accounts.access: SELF without ADMIN; integrators may name anyone)."""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict

import attrs

from cti.kernel.messages import Command


class AddedResult(TypedDict):
    group: int  # the group it is in (a new one if groupName named none)
    entry: int


@attrs.frozen(kw_only=True)
class AddFavourite(Command):
    """Add a colleague (``colleague``: their account name) or a contact (``contactName`` and
    ``number``, kept as E.164) at the end of a group: ``group`` (its id) or ``groupName`` (the
    group of that name; a new one when there is none). Adding what the group already holds
    changes nothing and answers its ids (a retry is harmless)."""

    SERVICE: ClassVar[str] = "addFavourite"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = AddedResult
    user: str
    group: int | None = None
    group_name: str | None = None
    colleague: str | None = None
    contact_name: str | None = None
    number: str | None = None


@attrs.frozen(kw_only=True)
class RemoveFavourite(Command):
    SERVICE: ClassVar[str] = "removeFavourite"
    SELF: ClassVar[str | None] = "user"
    user: str
    entry: int


@attrs.frozen(kw_only=True)
class RenameFavouriteGroup(Command):
    SERVICE: ClassVar[str] = "renameFavouriteGroup"
    SELF: ClassVar[str | None] = "user"
    user: str
    group: int
    name: str


@attrs.frozen(kw_only=True)
class DeleteFavouriteGroup(Command):
    """Delete a group and every entry in it."""

    SERVICE: ClassVar[str] = "deleteFavouriteGroup"
    SELF: ClassVar[str | None] = "user"
    user: str
    group: int


@attrs.frozen(kw_only=True)
class OrderFavouriteGroups(Command):
    """Put the groups in the order given: every group id of the user, each once."""

    SERVICE: ClassVar[str] = "orderFavouriteGroups"
    SELF: ClassVar[str | None] = "user"
    user: str
    groups: tuple[int, ...]


@attrs.frozen(kw_only=True)
class OrderFavourites(Command):
    """Put a group's entries in the order given: every entry id of the group, each once."""

    SERVICE: ClassVar[str] = "orderFavourites"
    SELF: ClassVar[str | None] = "user"
    user: str
    group: int
    entries: tuple[int, ...]
