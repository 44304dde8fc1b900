"""The favourites part of the node state: each user's favourites by account name."""

from __future__ import annotations

import attrs
import immutables

from cti.favourites.model import Favourites

_NONE = Favourites()


@attrs.frozen
class FavouritesState:
    users: immutables.Map[str, Favourites] = attrs.field(factory=immutables.Map)

    def of(self, user: str) -> Favourites:
        return self.users.get(user, _NONE)
