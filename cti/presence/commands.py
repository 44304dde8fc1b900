"""Commands of the presence context (PRES-01..03, PRES-05).

A user sets the presence of their own number (``SELF``: the account the message names, not
every device an account lists, so a shared phone or a MULAP group gives no one another's
presence): from any of their clients, and phone_sim's voicemail menu for the phone's user;
integrators for anyone.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.kernel.messages import Command
from cti.presence.model import Status, TargetKind

MAX_INFO = 100  # characters of the info text (PRES-02)


@attrs.frozen(kw_only=True)
class SetPresence(Command):
    """Set the user's status (PRES-01); any status but office may carry a planned return
    time and an info text (PRES-02)."""

    SERVICE: ClassVar[str] = "setPresence"
    SELF: ClassVar[str] = "user"  # the account it names, nobody else's (integrators: anyone)
    user: str
    status: Status
    return_at: int | None = None  # ms since the epoch, UTC; must be in the future
    info: str | None = attrs.field(default=None, metadata={"max_length": MAX_INFO})


@attrs.frozen(kw_only=True)
class SetPresenceForwarding(Command):
    """Where calls go while the user has ``status`` (PRES-03): voicemail (the default), the
    profile's mobile or external number, or ``number`` (any number, made canonical)."""

    SERVICE: ClassVar[str] = "setPresenceForwarding"
    SELF: ClassVar[str] = "user"  # the account it names, nobody else's (integrators: anyone)
    user: str
    status: Status
    target: TargetKind
    number: str | None = None  # with target ``number`` only


@attrs.frozen(kw_only=True)
class ExpireReturnTime(Command):
    """The node's clock reached a user's planned return time (PRES-02)."""

    SERVICE: ClassVar[str] = "expireReturnTime"
    INTERNAL: ClassVar[bool] = True
    user: str
