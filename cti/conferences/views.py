"""What a member sees of their conferences: the retained ``users/{u}/conferences`` document
and the ``listConferences`` answer (CONF-04: participant states, live). No PIN is in it: a
PIN reaches only the one who asks for an invitation (CONF-07)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from cti.conferences import events as ev
from cti.conferences.model import Conference, ParticipantState
from cti.kernel.messages import Event

if TYPE_CHECKING:
    from cti.domain.state import NodeState


class ParticipantView(TypedDict):
    id: int
    name: str
    number: str  # what a call-out dials: an internal number or E.164
    user: str | None  # the account of an internal user; None: external
    moderator: bool
    guest: bool
    state: ParticipantState
    order: int | None  # dial-in order among the joined (channels go by it); None: not joined


class ConferenceView(TypedDict):
    id: int
    name: str
    owner: str
    moderator: bool  # whether the user this view is for moderates it
    guestPin: bool  # whether it has a guest PIN (the PIN is in an invitation only)
    endsAt: int | None  # ms UTC: ends then unless a moderator rejoins (CONF-06)
    participants: list[ParticipantView]


def conference_view(conf: Conference, user: str) -> ConferenceView:
    me = conf.of_user(user)
    ranked = sorted(p.joined_seq for p in conf.joined)
    return ConferenceView(
        id=conf.id,
        name=conf.name,
        owner=conf.owner,
        moderator=me is not None and me.moderator,
        guestPin=conf.guest_round is not None,
        endsAt=conf.ends_at,
        participants=[
            ParticipantView(
                id=p.id,
                name=p.name,
                number=p.number,
                user=p.user,
                moderator=p.moderator,
                guest=p.guest,
                state=conf.state_of(p),
                order=ranked.index(p.joined_seq) + 1 if p.joined else None,
            )
            for p in conf.participants
        ],
    )


def view(state: NodeState, user: str) -> list[ConferenceView]:
    return [conference_view(c, user) for c in state.conferences.of_user(user)]


class Members:
    """Who was a member of each conference when its documents were last rendered, so a
    member removed (or a conference deleted) gets a document without it (a publisher's
    memory, rebuilt from the state whenever it publishes everything)."""

    def __init__(self) -> None:
        self._members: dict[int, frozenset[str]] = {}

    def reset(self, state: NodeState) -> set[str]:
        self._members = {cid: conf.members() for cid, conf in state.conferences.conferences.items()}
        return {u for members in self._members.values() for u in members}

    def touched(self, state: NodeState, events: Iterable[Event]) -> set[str]:
        """The users whose conferences document may have changed by ``events``: the members
        of every conference an event is about, before and after."""
        users: set[str] = set()
        for cid in {e.conference for e in events if isinstance(e, ev.ConferenceEvent)}:
            users |= self._members.pop(cid, frozenset())
            conf = state.conferences.conference(cid)
            if conf is not None:
                self._members[cid] = conf.members()
                users |= self._members[cid]
        return users
