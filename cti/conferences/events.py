"""Events of the conferences context: facts in the log (CONF-01..06). None carries a PIN: a
PIN is derived from a round the events carry (cti.conferences.pins).

Conference events name no device: they reach the node-wide event topic (integrators,
monitors) and change the retained ``users/{u}/conferences`` document of each member, the
live view of the room (specs/conferences.md)."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from cti.conferences.model import DialInEnd, EndCancelled, LeftReason
from cti.kernel.messages import Event


@attrs.frozen(kw_only=True)
class ConferenceEvent(Event):
    conference: int


@attrs.frozen(kw_only=True)
class ConferenceCreated(ConferenceEvent):
    """A scheduled (permanent) conference: it uses no channel until someone dials in
    (CONF-01). Its creator is added as its first moderator by ``participantAdded``."""

    KIND: ClassVar[str] = "conferenceCreated"
    name: str
    owner: str


@attrs.frozen(kw_only=True)
class ConferenceRenamed(ConferenceEvent):
    KIND: ClassVar[str] = "conferenceRenamed"
    name: str


@attrs.frozen(kw_only=True)
class ConferenceDeleted(ConferenceEvent):
    """Gone with every member; whoever was joined left first (``conferenceDeleted``)."""

    KIND: ClassVar[str] = "conferenceDeleted"


@attrs.frozen(kw_only=True)
class ParticipantAdded(ConferenceEvent):
    """A member of the list (CONF-04): an internal user (``user``) or an external party;
    ``guest``: joined with the guest PIN (leaves the list when they leave the room)."""

    KIND: ClassVar[str] = "participantAdded"
    participant: int
    name: str
    number: str
    user: str | None = None
    moderator: bool = False
    guest: bool = False
    pin_round: int = 0


@attrs.frozen(kw_only=True)
class ParticipantRemoved(ConferenceEvent):
    """Off the list (CONF-05: remove, unlike disconnect); left the room first if joined."""

    KIND: ClassVar[str] = "participantRemoved"
    participant: int


@attrs.frozen(kw_only=True)
class ModeratorSet(ConferenceEvent):
    """A participant became a moderator or stopped being one (CONF-02)."""

    KIND: ClassVar[str] = "moderatorSet"
    participant: int
    moderator: bool


@attrs.frozen(kw_only=True)
class PinRenewed(ConferenceEvent):
    """The participant's personal PIN was replaced; the old one no longer admits (rule 7)."""

    KIND: ClassVar[str] = "pinRenewed"
    participant: int
    pin_round: int


@attrs.frozen(kw_only=True)
class GuestPinSet(ConferenceEvent):
    """The conference has a (new) guest PIN, or none (``pinRound`` null) (CONF-03)."""

    KIND: ClassVar[str] = "guestPinSet"
    pin_round: int | None = None


@attrs.frozen(kw_only=True)
class DialInStarted(Event):
    """A call reached the dial-in number: its caller is asked for a PIN (CONF-03)."""

    KIND: ClassVar[str] = "dialInStarted"
    call: int
    caller: str


@attrs.frozen(kw_only=True)
class PinRejected(Event):
    """A keyed PIN admits to no conference; ``remaining`` tries are left on this call."""

    KIND: ClassVar[str] = "conferencePinRejected"
    VERSION: ClassVar[int] = 2  # 2: ``strikes``, no longer the caller number
    call: int
    remaining: int
    caller: str  # the number presented as caller
    at: int  # ms UTC, when it was keyed
    # Whose strikes it counts (rule 6, cti.conferences.dialin.strikes_key): the phone of
    # the site that calls (a MULAP member's own, not the group number all of them present),
    # an outside caller's number, or this call (``call/<id>``) when the number is withheld.
    strikes: str


@attrs.frozen(kw_only=True)
class DialInEnded(Event):
    """The dial-in call ended without joining a room; the switch clears it (unless the caller
    hung up) in the same decision."""

    KIND: ClassVar[str] = "dialInEnded"
    call: int
    reason: DialInEnd


@attrs.frozen(kw_only=True)
class BridgeCallMoved(Event):
    """A call with the dial-in device merged into another call (its participant transferred
    it or made it part of a phone conference, CALL-07/08): the room follows it ``into``."""

    KIND: ClassVar[str] = "bridgeCallMoved"
    call: int
    into: int


@attrs.frozen(kw_only=True)
class ParticipantCalling(ConferenceEvent):
    """The system calls the participant out from the dial-in device (CONF-04): diallingIn."""

    KIND: ClassVar[str] = "participantCalling"
    participant: int
    call: int


@attrs.frozen(kw_only=True)
class ParticipantJoined(ConferenceEvent):
    """Admitted to the room on ``call``: holds one of the site's channels (CONF-01)."""

    KIND: ClassVar[str] = "participantJoined"
    participant: int
    call: int


@attrs.frozen(kw_only=True)
class ParticipantLeft(ConferenceEvent):
    """Out of the room (or a call-out that never joined), with why: every exit is one of
    these (UC-LESSONS, Conferences)."""

    KIND: ClassVar[str] = "participantLeft"
    participant: int
    reason: LeftReason


@attrs.frozen(kw_only=True)
class EndScheduled(ConferenceEvent):
    """The last moderator left while others are joined: they are told, and the conference
    ends at ``endsAt`` (ms UTC) unless a moderator rejoins first (CONF-06)."""

    KIND: ClassVar[str] = "endScheduled"
    ends_at: int


@attrs.frozen(kw_only=True)
class EndCancelledEvent(ConferenceEvent):
    KIND: ClassVar[str] = "endCancelled"
    reason: EndCancelled


@attrs.frozen(kw_only=True)
class AloneTimeoutSet(ConferenceEvent):
    """``participant`` is alone in the room (waiting: music on hold): the node disconnects
    them at ``disconnectsAt`` (ms UTC, ``participantLeft{aloneTimeout}``) unless someone
    joins first. Room policy with a grace period (UC-LESSONS, Conferences)."""

    KIND: ClassVar[str] = "aloneTimeoutSet"
    participant: int
    disconnects_at: int


@attrs.frozen(kw_only=True)
class AloneTimeoutCancelled(ConferenceEvent):
    """Someone joined ``participant``, who was alone: no disconnection. (The alone
    participant leaving ends it too: their ``participantLeft`` says so.)"""

    KIND: ClassVar[str] = "aloneTimeoutCancelled"
    participant: int


@attrs.frozen(kw_only=True)
class ConferenceEnded(ConferenceEvent):
    """Five minutes passed without a moderator: everyone joined left (``conferenceEnded``
    before this); the conference stays in its members' lists (permanent, CONF-01)."""

    KIND: ClassVar[str] = "conferenceEnded"


def pin_rejected_v1(fields: dict[str, Any]) -> dict[str, Any]:
    """v1 counted strikes per caller number."""
    return {**fields, "strikes": fields["caller"]}


UPCASTERS = {("conferencePinRejected", 1): pin_rejected_v1}

EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        ConferenceCreated,
        ConferenceRenamed,
        ConferenceDeleted,
        ParticipantAdded,
        ParticipantRemoved,
        ModeratorSet,
        PinRenewed,
        GuestPinSet,
        DialInStarted,
        PinRejected,
        DialInEnded,
        BridgeCallMoved,
        ParticipantCalling,
        ParticipantJoined,
        ParticipantLeft,
        EndScheduled,
        EndCancelledEvent,
        ConferenceEnded,
        AloneTimeoutSet,
        AloneTimeoutCancelled,
    )
}
