"""A conference room as the node keeps it: its members (participants), who moderates, which
of them are joined, and the end scheduled after the last moderator left (CONF-01..06).

PINs are not kept: a participant has a PIN *round*, and the PIN is derived from the site's
conference key, the conference, the participant and that round (cti.conferences.pins), so no
PIN is ever in the log, an event, a topic or a document (HELPERS: secrets).
"""

from __future__ import annotations

from enum import StrEnum

import attrs

MAX_PARTICIPANTS = 16  # CONF-04
MAX_NAME = 64  # characters of a conference's or a participant's name
PIN_ATTEMPTS = 3  # wrong PINs one dial-in call may key before it is cleared (CONF-03)
CALLER_STRIKES = 6  # wrong PINs of one caller (dialin.strikes_key) before it is refused ...
CALLER_LOCK_MS = 10 * 60 * 1000  # ... until 10 minutes after the last one (temporary only)
# Withheld numbers are no one's: each call counts alone, and all of them together in one
# bucket with a higher limit, so redialling with a withheld number is rate-limited too.
WITHHELD = "withheld"
WITHHELD_STRIKES = 5 * CALLER_STRIKES
END_AFTER_MS = 5 * 60 * 1000  # CONF-06: the conference ends 5 minutes after the last moderator


class ParticipantState(StrEnum):
    """What a UI shows of a participant (CONF-04)."""

    INACTIVE = "inactive"  # not in the conference call
    DIALLING_IN = "diallingIn"  # the system calls them out; their phone rings
    WAITING = "waiting"  # joined, alone in the room: music on hold
    ACTIVE = "active"  # joined with at least one other participant


class LeftReason(StrEnum):
    """Why a participant is no longer in the room: every exit names one (UC-LESSONS)."""

    HUNG_UP = "hungUp"  # their call cleared
    DISCONNECTED = "disconnected"  # a moderator disconnected them; they stay in the list
    REMOVED = "removed"  # a moderator removed them from the list
    CONFERENCE_ENDED = "conferenceEnded"  # 5 minutes after the last moderator (CONF-06)
    CONFERENCE_DELETED = "conferenceDeleted"
    CALL_OUT_FAILED = "callOutFailed"  # the call-out was not answered (busy, failed, cleared)
    NO_CHANNEL = "noChannel"  # answered a call-out when every channel of the site was taken
    CONFERENCE_FULL = "conferenceFull"  # answered a call-out with 16 joined
    ALONE_TIMEOUT = "aloneTimeout"  # alone in the room for the site's alone_minutes


class DialInEnd(StrEnum):
    """Why a call to the dial-in number ended before it joined a room (CONF-03)."""

    HUNG_UP = "hungUp"
    TOO_MANY_ATTEMPTS = "tooManyAttempts"
    CALLER_LOCKED = "callerLocked"  # the caller keyed too many wrong PINs lately (rule 6)
    CONFERENCE_FULL = "conferenceFull"
    NO_CHANNEL = "noChannel"
    ALREADY_JOINED = "alreadyJoined"


class EndCancelled(StrEnum):
    MODERATOR_REJOINED = "moderatorRejoined"
    ROOM_EMPTY = "roomEmpty"


@attrs.frozen
class Participant:
    """A member of a conference: an internal user (``user``, their account) or an external
    party (manually entered, a guest): ``number`` is what a call-out dials (an internal number
    or E.164)."""

    id: int
    name: str
    number: str
    user: str | None = None  # the account of an internal user; None: external
    moderator: bool = False
    guest: bool = False  # joined with the guest PIN: leaves the list when they leave the room
    pin_round: int = 0  # which PIN they have (cti.conferences.pins); a renewal raises it
    call: int | None = None  # their call with the dial-in device (joined or called out)
    joined: bool = False  # admitted to the room: holds one of the site's channels
    joined_seq: int = 0  # dial-in order: channels go to participants in this order (CONF-01)

    @property
    def external(self) -> bool:
        return self.user is None


@attrs.frozen
class Alone:
    """The one participant in the room, waiting (music on hold), and when the node
    disconnects them unless someone joins first (the site's ``alone_minutes``)."""

    participant: int
    until: int  # ms UTC


@attrs.frozen
class Conference:
    id: int
    name: str
    owner: str  # the account that created it (its first moderator, CONF-02)
    participants: tuple[Participant, ...] = ()
    guest_round: int | None = None  # the guest PIN's round; None: no guest PIN (CONF-03)
    ends_at: int | None = None  # ms UTC: the end after the last moderator left (CONF-06)
    next_participant: int = 1
    alone: Alone | None = None  # the alone-timeout of the one joined participant, if running

    def participant(self, pid: int) -> Participant | None:
        return next((p for p in self.participants if p.id == pid), None)

    def of_user(self, user: str) -> Participant | None:
        return next((p for p in self.participants if p.user == user), None)

    def on_call(self, call: int) -> Participant | None:
        return next((p for p in self.participants if p.call == call), None)

    @property
    def joined(self) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.joined)

    @property
    def moderators(self) -> tuple[Participant, ...]:
        return tuple(p for p in self.participants if p.moderator)

    def members(self) -> frozenset[str]:
        """The accounts that see this conference (only members do)."""
        return frozenset(p.user for p in self.participants if p.user is not None)

    def state_of(self, p: Participant) -> ParticipantState:
        if p.joined:
            return ParticipantState.ACTIVE if len(self.joined) > 1 else ParticipantState.WAITING
        if p.call is not None:
            return ParticipantState.DIALLING_IN
        return ParticipantState.INACTIVE


@attrs.frozen
class Strikes:
    """Wrong PINs keyed by one caller (a phone, an outside number, a call with a withheld
    number: cti.conferences.dialin.strikes_key), the last at ``last_ms``: a caller who keeps
    redialling to guess gets no more tries for a while (UC-LESSONS rule 6)."""

    count: int
    last_ms: int


@attrs.frozen
class DialIn:
    """A call to the dial-in number whose caller is keying a PIN (no room, no channel yet)."""

    call: int
    caller: str
    failed: int = 0  # wrong PINs so far
