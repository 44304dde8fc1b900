"""Queries of the conferences context: a user's own conferences (CONF-04) and invitation
texts (CONF-07). Only members see a conference (``SELF``: the asker's own account)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import attrs

from cti.conferences import invitations, pins
from cti.conferences.invitations import Language
from cti.conferences.views import ConferenceView, view
from cti.kernel.messages import Query
from cti.kernel.refusal import Refusal
from cti.site import Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState


class InvitationResult(TypedDict):
    text: str
    dialIn: str  # the dial-in number from outside (E.164)
    dialInInternal: str


@attrs.frozen(kw_only=True)
class ListConferences(Query):
    """The conferences ``user`` is a member of, with each participant's state."""

    SERVICE: ClassVar[str] = "listConferences"
    SELF: ClassVar[str] = "user"
    RESULT: ClassVar[Any] = list[ConferenceView]
    user: str


@attrs.frozen(kw_only=True)
class ConferenceInvitation(Query):
    """The invitation for all (``participant`` omitted: dial-in number and guest PIN;
    moderators only) or for one participant (plus their personal PIN; moderators, or the
    participant themselves), in ``language`` (CONF-07)."""

    SERVICE: ClassVar[str] = "conferenceInvitation"
    SELF: ClassVar[str] = "user"
    RESULT: ClassVar[Any] = InvitationResult
    user: str
    conference: int
    participant: int | None = None
    language: Language = Language.DE


def list_conferences(site: Site, state: NodeState, q: ListConferences) -> list[ConferenceView]:
    return view(state, q.user)


def invitation(site: Site, state: NodeState, q: ConferenceInvitation) -> InvitationResult:
    if site.conferences is None:
        raise Refusal("conferencesNotConfigured", "this site has no conference dial-in")
    conf = state.conferences.conference(q.conference)
    me = None if conf is None else conf.of_user(q.user)
    if conf is None or me is None:
        raise Refusal(
            "unknownConference",
            f"{q.user} has no conference {q.conference}",
            {"conference": q.conference},
        )
    key = site.conferences.pin_key
    if (q.participant is None or q.participant != me.id) and not me.moderator:
        raise Refusal(
            "notAModerator",
            "only moderators get others' invitations (CONF-02)",
            {"rule": "CONF-02", "conference": conf.id},
        )
    if q.participant is None:
        guest = None
        if conf.guest_round is not None:
            guest = pins.pin(key, conf.id, pins.GUEST, conf.guest_round)
        body = invitations.text(site, q.language, conf.name, guest=guest)
    else:
        p = conf.participant(q.participant)
        if p is None or p.guest:
            raise Refusal(
                "unknownParticipant",
                f"conference {conf.id} has no participant {q.participant}",
                {"participant": q.participant},
            )
        personal = pins.pin(key, conf.id, p.id, p.pin_round)
        body = invitations.text(site, q.language, conf.name, name=p.name, personal=personal)
    external, internal = invitations.dial_in_numbers(site)
    return InvitationResult(text=body, dialIn=external, dialInInternal=internal)


QUERIES: dict[type[Any], Any] = {
    ListConferences: list_conferences,
    ConferenceInvitation: invitation,
}
