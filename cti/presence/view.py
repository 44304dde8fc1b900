"""What a user's presence is, derived from the one truth of each fact (UC-LESSONS rule 1).

- doNotDisturb is the switch's do-not-disturb feature of the user's phone (CALL-16, kept by
  cti.calls): set from a phone, over CSTA or through setPresence, it is one flag. While it is
  on the user shows doNotDisturb (with the return time and info of a DND set through presence);
  while it is off a DND note left in the presence entry shows as office.
- Every other status is the presence entry's (cti.presence.state).
- A status's forwarding target resolves at call time, from the user's profile as it is then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from cti.accounts.model import Licence
from cti.presence.model import FORWARDED, Status, Target, TargetKind
from cti.site import Site
from cti.site.model import PHONE_KINDS, Device, DeviceKind

if TYPE_CHECKING:
    from cti.domain.state import NodeState


@attrs.frozen
class Shown:
    """A user's presence as shown to those allowed to see it."""

    status: Status
    return_at: int | None = None
    info: str | None = None

    @property
    def absent(self) -> bool:
        return self.status is not Status.OFFICE


def user_device(site: Site, user: str) -> Device | None:
    """The site device a presence user is: a phone or a MULAP group (a user's number)."""
    dev = site.devices.get(user)
    if dev is None or (dev.kind not in PHONE_KINDS and dev.kind is not DeviceKind.MULAP):
        return None
    return dev


def dnd_unavailable(site: Site, dev: Device) -> str | None:
    """Why ``dev``'s user cannot have do-not-disturb (CALL-14), None if they can."""
    if dev.kind is DeviceKind.MULAP:
        return "mulapGroup"
    if dev.attendant:
        return "attendant"
    if site.mulap_of(dev.number) is not None:
        return "mulapMember"
    return None


def dnd_on(state: NodeState, user: str) -> bool:
    return state.calls.device(user).dnd


def shown(state: NodeState, user: str) -> Shown:
    entry = state.presence.of(user)
    if dnd_on(state, user):
        if entry.status is Status.DO_NOT_DISTURB:
            return Shown(Status.DO_NOT_DISTURB, entry.return_at, entry.info)
        return Shown(Status.DO_NOT_DISTURB)
    if entry.status is Status.DO_NOT_DISTURB:  # the phone turned it off: back in the office
        return Shown(Status.OFFICE)
    return Shown(entry.status, entry.return_at, entry.info)


def target_number(site: Site, state: NodeState, user: str, status: Status) -> str | None:
    """The number calls to ``user`` go to while ``status`` is shown (PRES-03); None: the
    status forwards nowhere (office, DND) or its target has no number now (a profile's
    mobile cleared, a site without voicemail)."""
    if status not in FORWARDED:
        return None
    return resolve(site, state, user, state.presence.of(user).target(status))


def resolve(site: Site, state: NodeState, user: str, target: Target) -> str | None:
    """The number ``target`` of ``user`` stands for now; None: it has none."""
    account = state.accounts.account(user)
    if target.kind is TargetKind.VOICEMAIL:
        # A mailbox is the voicemail licence's (USER-05): without it the status forwards
        # nowhere and the phone's own rules apply.
        licensed = account is not None and Licence.VOICEMAIL in account.licences
        return site.voicemail if licensed else None
    if target.kind is TargetKind.NUMBER:
        return target.number
    profile = None if account is None else account.profile
    if target.kind is TargetKind.MOBILE:
        if profile is not None and profile.mobile is not None:
            return profile.mobile
        dev = site.devices.get(user)
        return None if dev is None else dev.mobile  # a mobility user's mobile (CALL-15)
    return None if profile is None else profile.external
