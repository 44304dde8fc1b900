"""Values of the journal: an entry's direction and outcome, the folders (JOUR-01/02)."""

from __future__ import annotations

from enum import StrEnum

import attrs


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class Outcome(StrEnum):
    """How a call ended for one user, decided from the call's own events when it ends
    (UC-LESSONS rule 4): never a guess made later."""

    ANSWERED = "answered"  # the user talked with the party
    MISSED = "missed"  # incoming: nobody took it
    BUSY = "busy"  # outgoing: the party was busy; incoming: it arrived while the user was busy
    NOT_REACHED = "notReached"  # the call failed otherwise (do-not-disturb, ...)
    NOT_ANSWERED = "notAnswered"  # outgoing: nobody answered
    VOICEMAIL = (
        "voicemail"  # it ended at a mailbox (forwarded or deflected there, or answered by it)
    )
    PICKED_UP = "pickedUp"  # incoming: a colleague picked it up (``by``)
    ANSWERED_ELSEWHERE = "answeredElsewhere"  # incoming group call: another phone took it (``by``)
    FORWARDED = "forwarded"  # incoming: forwarded or deflected to ``by``, who answered


# Outcomes in which the party reached a person: the user or someone on the user's behalf.
CONNECTED = frozenset(
    {Outcome.ANSWERED, Outcome.PICKED_UP, Outcome.ANSWERED_ELSEWHERE, Outcome.FORWARDED}
)


class Folder(StrEnum):
    """JOUR-02. ``open``: did not connect, not marked done, not closed by a later call with
    the party that connected; ``missed``: incoming that did not connect; ``answered``: the
    user talked; ``overdue``: a reminder that expired (JOUR-03)."""

    OPEN = "open"
    MISSED = "missed"
    ANSWERED = "answered"
    ALL = "all"
    OVERDUE = "overdue"


@attrs.frozen
class Entry:
    """One call of one user as decided when the call (or the user's part of it) ended.
    ``call`` is the entry's id: the call it began in (one entry per user and call)."""

    user: str  # the internal number whose journal it is
    call: int
    direction: Direction
    number: str  # the other party: the caller (incoming) or the number called (outgoing)
    started_ms: int
    ended_ms: int
    outcome: Outcome
    answered_ms: int | None = None  # when the user started talking (outcome answered)
    by: str | None = None  # who answered, picked up, or took the forwarded call
    group: str | None = None  # the MULAP group it was to or from (CALL-14)
    forwarded_from: str | None = None  # the number that forwarded it to this user
    transferred_to: str | None = None  # the user transferred the call to this number
    first_seq: int = 0
    last_seq: int = 0

    @property
    def connected(self) -> bool:
        return self.outcome in CONNECTED

    @property
    def duration_ms(self) -> int:
        """How long the user talked (0 for a call the user did not talk in)."""
        if self.outcome is not Outcome.ANSWERED or self.answered_ms is None:
            return 0
        return max(0, self.ended_ms - self.answered_ms)
