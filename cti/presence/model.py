"""Presence values: statuses (PRES-01), forwarding targets (PRES-03)."""

from __future__ import annotations

from enum import StrEnum

import attrs
import immutables


class Status(StrEnum):
    """PRES-01. Office is available; every other status is absent."""

    OFFICE = "office"
    MEETING = "meeting"
    SICK = "sick"
    BREAK = "break"
    OUT_OF_OFFICE = "outOfOffice"
    VACATION = "vacation"
    LUNCH = "lunch"
    GONE_HOME = "goneHome"
    DO_NOT_DISTURB = "doNotDisturb"


# Statuses that take a forwarding target (PRES-03: all absent ones but DND).
FORWARDED = tuple(s for s in Status if s not in (Status.OFFICE, Status.DO_NOT_DISTURB))


class TargetKind(StrEnum):
    """Where a status sends calls (PRES-03)."""

    VOICEMAIL = "voicemail"  # the site's voicemail (the default)
    MOBILE = "mobile"  # the mobile number of the user's profile (USER-03)
    EXTERNAL = "external"  # the external number of the user's profile
    NUMBER = "number"  # a number given with the target, kept canonical (E.164)


@attrs.frozen
class Target:
    kind: TargetKind = TargetKind.VOICEMAIL
    number: str | None = None  # E.164; only with kind NUMBER


DEFAULT_TARGET = Target()


@attrs.frozen
class Entry:
    """A user's presence as set (PRES-01/02) and their status-based forwarding (PRES-03).
    ``status`` is doNotDisturb only as the user's note of a do-not-disturb they set through
    presence; whether do-not-disturb is on is the phone's feature (see cti.presence.view)."""

    status: Status = Status.OFFICE
    return_at: int | None = None  # ms since the epoch, UTC; None: none (or no longer announced)
    info: str | None = None
    forwarding: immutables.Map[Status, Target] = attrs.field(factory=immutables.Map)

    def target(self, status: Status) -> Target:
        return self.forwarding.get(status, DEFAULT_TARGET)

    def is_default(self) -> bool:
        return self == NO_ENTRY


NO_ENTRY = Entry()  # a user who set nothing
