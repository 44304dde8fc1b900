"""getFavourites: a user's favourites, as the retained document shows them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from cti.favourites.services import person
from cti.favourites.views import FavouritesView, view
from cti.kernel.messages import Query
from cti.site import Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState


@attrs.frozen(kw_only=True)
class GetFavourites(Query):
    """A user's favourites (DIR-05): the sender's own (monitors and integrators: anyone's)."""

    SERVICE: ClassVar[str] = "getFavourites"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = FavouritesView
    user: str


def get_favourites(site: Site, state: NodeState, q: GetFavourites) -> FavouritesView:
    person(state, q.user, "user")
    return view(state, q.user)


QUERIES: dict[type[Any], Any] = {GetFavourites: get_favourites}
