"""The greeting's words (VM-01, VM-08): who the mailbox is, and the owner's absence and
planned return time for a caller within the owner's visibility (PRES-04): internal callers
when it is internal or wider, outside callers only with internalAndExternal."""

from __future__ import annotations

import datetime as dt

from cti.accounts.model import Visibility
from cti.presence.model import Status

STATUS_WORDS = {
    Status.MEETING: "in a meeting",
    Status.SICK: "off sick",
    Status.BREAK: "on a break",
    Status.OUT_OF_OFFICE: "out of the office",
    Status.VACATION: "on vacation",
    Status.LUNCH: "at lunch",
    Status.GONE_HOME: "gone home for the day",
    Status.DO_NOT_DISTURB: "not to be disturbed",
}


def when(ms: int, zone: dt.tzinfo) -> str:
    """A return time as spoken: in the site's time zone (UC-LESSONS: the mailbox owner's),
    to the minute, with the zone's abbreviation (CET, CEST, UTC)."""
    t = dt.datetime.fromtimestamp(ms / 1000, zone)
    return t.strftime("%A %d %B %Y, %H:%M %Z")


def greeting_text(
    name: str,
    *,
    status: Status,
    return_at: int | None,
    visibility: Visibility,
    internal_caller: bool,
    recording: bool,
    reason: str | None,
    zone: dt.tzinfo = dt.UTC,
) -> str:
    visible = visibility is Visibility.INTERNAL_AND_EXTERNAL or (
        internal_caller and visibility.internal
    )
    words = [f"You have reached the mailbox of {name}."]
    if visible and status is not Status.OFFICE:
        absence = f"{name} is {STATUS_WORDS[status]}"
        if return_at is not None:
            absence += f" until {when(return_at, zone)}"
        words.append(absence + ".")
    if reason == "mailboxFull":
        words.append("The mailbox is full: no message can be left.")
    elif not recording:
        words.append("No message can be left.")
    else:
        words.append("Please leave a message after the tone.")
    return " ".join(words)
