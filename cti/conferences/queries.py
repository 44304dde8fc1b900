"""Queries of the conferences context: a user's own conferences (CONF-04). Only members see
a conference (``SELF``: the asker's own account). Invitations carry PINs and are a command
(cti.conferences.invitations): monitors, who may ask every query, never get one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from cti.conferences.views import ConferenceView, view
from cti.kernel.messages import Query
from cti.site import Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState


@attrs.frozen(kw_only=True)
class ListConferences(Query):
    """The conferences ``user`` is a member of, with each participant's state."""

    SERVICE: ClassVar[str] = "listConferences"
    SELF: ClassVar[str] = "user"
    RESULT: ClassVar[Any] = list[ConferenceView]
    user: str


def list_conferences(site: Site, state: NodeState, q: ListConferences) -> list[ConferenceView]:
    return view(state, q.user)


QUERIES: dict[type[Any], Any] = {
    ListConferences: list_conferences,
}
