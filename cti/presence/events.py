"""Events of the presence context: facts in the log, so replay and restart keep them (PRES-05).
Each names the user, whose own event it is (``OWNER``): it reaches the user's own event topic
(``users/{user}/events``, which only the user reads, PRES-04), never the topic of the phone of
that number, which a MULAP group or a shared phone lets other accounts read."""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.kernel.messages import Event
from cti.presence.model import Status, TargetKind


@attrs.frozen(kw_only=True)
class PresenceEvent(Event):
    OWNER: ClassVar[str] = "user"
    user: str  # the user's internal number

    def devices(self) -> tuple[str, ...]:
        return (self.user,)


@attrs.frozen(kw_only=True)
class PresenceChanged(PresenceEvent):
    """The user set a status (PRES-01), with an optional return time and info (PRES-02).
    doNotDisturb here is the note of a DND set through presence; the switch's
    ``doNotDisturb`` event of the same command is what turns it on."""

    KIND: ClassVar[str] = "presenceChanged"
    status: Status
    return_at: int | None = None  # ms since the epoch, UTC
    info: str | None = None


@attrs.frozen(kw_only=True)
class ReturnTimePassed(PresenceEvent):
    """The planned return time passed: the status stays, the time is no longer announced
    (PRES-02). Recorded when the node's clock reaches it, like the switch's timers."""

    KIND: ClassVar[str] = "returnTimePassed"
    return_at: int


@attrs.frozen(kw_only=True)
class PresenceForwardingSet(PresenceEvent):
    """Where calls go while the user has ``status`` (PRES-03)."""

    KIND: ClassVar[str] = "presenceForwardingSet"
    status: Status
    target: TargetKind
    number: str | None = None  # E.164, with target ``number`` only


EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls for cls in (PresenceChanged, ReturnTimePassed, PresenceForwardingSet)
}
