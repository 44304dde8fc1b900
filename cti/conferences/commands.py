"""Commands of the conferences context (CONF-01..08).

``user`` names who acts: the sender's own account (``SELF``: nobody else's; integrators may
name anyone). Creating needs the conference licence (USER-05); everything else is decided by
the rules of the room: only members see a conference, only moderators change it (CONF-02).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict

import attrs

from cti.accounts.model import Licence
from cti.conferences.invitations import Language
from cti.conferences.model import MAX_NAME
from cti.directory.entries import Directory
from cti.kernel.messages import Command


class ConferenceCreatedResult(TypedDict):
    conference: int
    participant: int  # the creator's participant id


class ParticipantsAddedResult(TypedDict):
    participants: list[int]  # the ids of the participants added, in order


class InvitationResult(TypedDict):
    text: str
    dialIn: str  # the dial-in number from outside (E.164)
    dialInInternal: str


class CallOutResult(TypedDict):
    calls: list[int]  # the calls the system placed, one per participant called out


@attrs.frozen(kw_only=True)
class CreateConference(Command):
    """A scheduled (permanent) conference with its creator as moderator (CONF-01/02)."""

    SERVICE: ClassVar[str] = "createConference"
    SELF: ClassVar[str | None] = "user"
    LICENCE: ClassVar[Licence | None] = Licence.CONFERENCE
    RESULT: ClassVar[Any] = ConferenceCreatedResult
    user: str
    name: str = attrs.field(metadata={"max_length": MAX_NAME})


@attrs.frozen(kw_only=True)
class RenameConference(Command):
    SERVICE: ClassVar[str] = "renameConference"
    SELF: ClassVar[str | None] = "user"
    user: str
    conference: int
    name: str = attrs.field(metadata={"max_length": MAX_NAME})


@attrs.frozen(kw_only=True)
class DeleteConference(Command):
    """Moderators only (CONF-02); whoever is joined leaves (``conferenceDeleted``)."""

    SERVICE: ClassVar[str] = "deleteConference"
    SELF: ClassVar[str | None] = "user"
    user: str
    conference: int


@attrs.frozen(kw_only=True)
class AddParticipant(Command):
    """Add an internal user (``member``: their account) or an external party entered by hand
    or found in a directory search (``name`` and ``number``, CONF-08)."""

    SERVICE: ClassVar[str] = "addConferenceParticipant"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ParticipantsAddedResult
    user: str
    conference: int
    member: str | None = None
    name: str | None = attrs.field(default=None, metadata={"max_length": MAX_NAME})
    number: str | None = None


@attrs.frozen(kw_only=True)
class AddFavourites(Command):
    """Add from the moderator's favourites (CONF-08): one entry (``entry``) or a whole group
    (``group``); entries already in the conference are skipped."""

    SERVICE: ClassVar[str] = "addConferenceFavourites"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ParticipantsAddedResult
    user: str
    conference: int
    group: int | None = None
    entry: int | None = None


@attrs.frozen(kw_only=True)
class AddDirectoryEntry(Command):
    """Add a hit of the moderator's directory search (CONF-08) by what it is: ``directory``
    and ``id`` as ``searchDirectory`` gave them. An internal user joins as a member; anyone
    else as an external participant with the entry's name and ``number`` (one of its
    numbers; the first when omitted)."""

    SERVICE: ClassVar[str] = "addConferenceDirectoryEntry"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ParticipantsAddedResult
    user: str
    conference: int
    directory: Directory
    id: str
    number: str | None = None


@attrs.frozen(kw_only=True)
class RemoveParticipant(Command):
    """Off the list (CONF-05); a joined participant leaves the room first."""

    SERVICE: ClassVar[str] = "removeConferenceParticipant"
    SELF: ClassVar[str | None] = "user"
    user: str
    conference: int
    participant: int


@attrs.frozen(kw_only=True)
class DisconnectParticipant(Command):
    """Out of the room, still in the list: they may dial in again (CONF-05)."""

    SERVICE: ClassVar[str] = "disconnectConferenceParticipant"
    SELF: ClassVar[str | None] = "user"
    user: str
    conference: int
    participant: int


@attrs.frozen(kw_only=True)
class SetModerator(Command):
    """Make an internal participant with the conference licence a moderator, or no longer
    one; at least one moderator remains (CONF-02)."""

    SERVICE: ClassVar[str] = "setConferenceModerator"
    SELF: ClassVar[str | None] = "user"
    user: str
    conference: int
    participant: int
    moderator: bool


@attrs.frozen(kw_only=True)
class RenewPin(Command):
    """A new personal PIN for a participant (moderators, or the participant themselves)."""

    SERVICE: ClassVar[str] = "renewConferencePin"
    SELF: ClassVar[str | None] = "user"
    user: str
    conference: int
    participant: int


@attrs.frozen(kw_only=True)
class SetGuestPin(Command):
    """Give the conference a (new) guest PIN, or take it away (CONF-03)."""

    SERVICE: ClassVar[str] = "setConferenceGuestPin"
    SELF: ClassVar[str | None] = "user"
    user: str
    conference: int
    enabled: bool


@attrs.frozen(kw_only=True)
class CallOut(Command):
    """The system calls participants out from the dial-in device (CONF-04): ``participant``,
    or every inactive participant when it is omitted."""

    SERVICE: ClassVar[str] = "callOutConferenceParticipants"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = CallOutResult
    user: str
    conference: int
    participant: int | None = None


@attrs.frozen(kw_only=True)
class ConferenceInvitation(Command):
    """The invitation for all (``participant`` omitted: dial-in number and guest PIN;
    moderators only) or for one participant (plus their personal PIN; moderators, or the
    participant themselves), in ``language`` (CONF-07). A command that records nothing:
    it carries PINs, so monitors (who may ask every query) never get one."""

    SERVICE: ClassVar[str] = "conferenceInvitation"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = InvitationResult
    user: str
    conference: int
    participant: int | None = None
    language: Language = Language.DE


@attrs.frozen(kw_only=True)
class EndConference(Command):
    """The node's clock reached the end after the last moderator left (CONF-06)."""

    SERVICE: ClassVar[str] = "endConference"
    INTERNAL: ClassVar[bool] = True
    conference: int
