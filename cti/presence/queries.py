"""Queries of the presence context: a user's own presence and status-based forwarding.
Others' presence reaches a user only as the documents their visibility allows (PRES-04,
specs/presence.md), never through a query: a query answers the user's own numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import attrs

from cti.kernel.messages import Query
from cti.kernel.refusal import Refusal
from cti.presence import view
from cti.presence.model import FORWARDED, Status, TargetKind
from cti.site import Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState


class PresenceResult(TypedDict):
    user: str
    status: Status
    returnAt: int | None  # ms since the epoch, UTC; None once it passed (PRES-02)
    info: str | None


class PresenceForwardingEntry(TypedDict):
    status: Status
    target: TargetKind
    number: str | None  # what the target stands for now; None: no number (calls ring)


@attrs.frozen(kw_only=True)
class GetPresence(Query):
    """The user's own presence as others within its visibility see it (PRES-01/02)."""

    SERVICE: ClassVar[str] = "getPresence"
    SELF: ClassVar[str] = "user"  # the account it names, nobody else's (integrators: anyone)
    RESULT: ClassVar[Any] = PresenceResult
    user: str


@attrs.frozen(kw_only=True)
class GetPresenceForwarding(Query):
    """Per absent status (but DND) the target's type and the number it resolves to (PRES-03)."""

    SERVICE: ClassVar[str] = "getPresenceForwarding"
    SELF: ClassVar[str] = "user"  # the account it names, nobody else's (integrators: anyone)
    RESULT: ClassVar[Any] = list[PresenceForwardingEntry]
    user: str


def _check(site: Site, user: str) -> None:
    if view.user_device(site, user) is None:
        raise Refusal("unknownUser", f"{user!r} is not a user (phone or MULAP) of this site")


def presence_result(state: NodeState, user: str) -> PresenceResult:
    s = view.shown(state, user)
    return PresenceResult(user=user, status=s.status, returnAt=s.return_at, info=s.info)


def get_presence(site: Site, state: NodeState, q: GetPresence) -> PresenceResult:
    _check(site, q.user)
    return presence_result(state, q.user)


def get_presence_forwarding(
    site: Site, state: NodeState, q: GetPresenceForwarding
) -> list[PresenceForwardingEntry]:
    _check(site, q.user)
    entry = state.presence.of(q.user)
    return [
        PresenceForwardingEntry(
            status=status,
            target=entry.target(status).kind,
            number=view.target_number(site, state, q.user, status),
        )
        for status in FORWARDED
    ]


QUERIES: dict[type[Any], Any] = {
    GetPresence: get_presence,
    GetPresenceForwarding: get_presence_forwarding,
}
