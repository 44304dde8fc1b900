"""Events of the accounts context."""

from __future__ import annotations

from typing import ClassVar

import attrs

from cti.kernel.messages import Event
from cti.site.model import DialMethod


@attrs.frozen(kw_only=True)
class AssignedPhoneSet(Event):
    KIND: ClassVar[str] = "assignedPhoneSet"
    user: str
    phone: str

    def devices(self) -> tuple[str, ...]:
        return (self.user,)


@attrs.frozen(kw_only=True)
class DialMethodSet(Event):
    KIND: ClassVar[str] = "dialMethodSet"
    user: str
    dial_method: DialMethod

    def devices(self) -> tuple[str, ...]:
        return (self.user,)


EVENT_TYPES: dict[str, type[Event]] = {cls.KIND: cls for cls in (AssignedPhoneSet, DialMethodSet)}
