"""Where the accounts services are decided. Refusals name the rule that failed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cti.accounts import commands as cmd
from cti.accounts import events as ev
from cti.accounts import settings
from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal
from cti.site.model import Device, DeviceKind

if TYPE_CHECKING:
    from cti.domain.state import NodeState

# Every name this context refuses with.
REFUSALS = frozenset({"unknownUser", "notAMulapUser", "notAMember", "notAMobilityUser"})


def _user(d: Decision[NodeState], number: str) -> Device:
    dev = d.site.devices.get(number)
    if dev is None:
        raise Refusal("unknownUser", f"{number!r} is not a user of this site")
    return dev


def set_assigned_phone(d: Decision[NodeState], c: cmd.SetAssignedPhone) -> None:
    group = _user(d, c.user)
    if group.kind is not DeviceKind.MULAP:
        raise Refusal("notAMulapUser", f"{c.user} is not a MULAP user: it has no assigned phone")
    if c.phone not in group.members:
        raise Refusal(
            "notAMember",
            f"{c.phone} is not a phone of MULAP {c.user}",
            {"members": list(group.members)},
        )
    if settings.assigned_phone(d.state.accounts, group) != c.phone:
        d.emit(ev.AssignedPhoneSet(user=c.user, phone=c.phone))


def set_dial_method(d: Decision[NodeState], c: cmd.SetDialMethod) -> None:
    user = _user(d, c.user)
    if user.mobile is None:
        raise Refusal("notAMobilityUser", f"{c.user} has no mobile: it has no dial method")
    if settings.dial_method(d.state.accounts, user) != c.dial_method:
        d.emit(ev.DialMethodSet(user=c.user, dial_method=c.dial_method))


SERVICES: dict[type[Any], Any] = {
    cmd.SetAssignedPhone: set_assigned_phone,
    cmd.SetDialMethod: set_dial_method,
}
