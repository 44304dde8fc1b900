"""Commands of the accounts context (USER-04)."""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.kernel.messages import Command
from cti.site.model import DialMethod


@attrs.frozen(kw_only=True)
class SetAssignedPhone(Command):
    """A MULAP user names the member phone that places their outgoing CTI calls (CALL-14)."""

    SERVICE: ClassVar[str] = "setAssignedPhone"
    user: str  # the MULAP number
    phone: str


@attrs.frozen(kw_only=True)
class SetDialMethod(Command):
    """A mobility user chooses how their CTI calls start (CALL-15)."""

    SERVICE: ClassVar[str] = "setDialMethod"
    user: str
    dial_method: DialMethod
