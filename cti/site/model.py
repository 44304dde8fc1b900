"""Static site configuration: devices, users, MULAP groups, pickup groups, the number plan.

The site is configuration, not state: services read it to decide, events never depend on it, so
a replay reproduces the same state even if the file changed in between.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from enum import StrEnum

import attrs

from cti.site.numbers import Location, NumberPlan


class DeviceKind(StrEnum):
    """Device kinds of CALL-13."""

    SYSTEM_PHONE = "system_phone"  # HFA: CTI can take it off-hook (speaker)
    SIP_PHONE = "sip_phone"  # no CTI consultation / conference
    ANALOG_PHONE = "analog_phone"  # must be lifted by a person before a CTI call proceeds
    VOICEMAIL = "voicemail"  # answers at once
    CONFERENCE_BRIDGE = "conference_bridge"  # answers at once
    MULAP = "mulap"  # a number shared by several member phones
    MOBILE = "mobile"  # a mobility user's mobile, external behind a trunk
    EXTERNAL = "external"  # any other party behind a trunk; created on first use


PHONE_KINDS = frozenset({DeviceKind.SYSTEM_PHONE, DeviceKind.SIP_PHONE, DeviceKind.ANALOG_PHONE})
AUTO_ANSWER_KINDS = frozenset({DeviceKind.VOICEMAIL, DeviceKind.CONFERENCE_BRIDGE})
EXTERNAL_KINDS = frozenset({DeviceKind.MOBILE, DeviceKind.EXTERNAL})


class DialMethod(StrEnum):
    """How a mobility user's CTI calls start (CALL-15)."""

    CTI_ASSOCIATED = "cti_associated"  # at the office phone
    CALLBACK_PREFERRED = "callback_preferred"  # first the mobile, then the destination


@attrs.frozen
class Device:
    number: str
    kind: DeviceKind
    name: str = ""
    attendant: bool = False  # intercept / attendant position: no DND (CALL-14)
    members: tuple[str, ...] = ()  # MULAP member phones
    assigned_phone: str | None = None  # MULAP: phone used for outgoing CTI calls (CALL-14)
    mobile: str | None = None  # mobility user: E.164 of the mobile (CALL-15)
    dial_method: DialMethod = DialMethod.CTI_ASSOCIATED


# The PIN key of a plan nobody gave one (a node built in a test or embedded, not by ``cti
# serve``, which reads ``{node}.conference-key``): random per process, so PINs cannot be
# derived by anyone else, and they change with every restart.
PROCESS_PIN_KEY = secrets.token_bytes(32)


def _a_key(plan: object, attribute: object, key: bytes) -> None:
    if not key:  # an empty key would make every PIN anyone's to compute
        raise SiteError("the conference PIN key must not be empty")


@attrs.frozen
class ConferencePlan:
    """The application conferences of the site (CONF-01, CONF-03): the dial-in (MeetMe)
    number, a conference bridge device that answers at once, and how many conference
    channels (joined participants of all rooms together) the site has. ``pin_key`` derives
    the PINs (cti.conferences.pins): kept out of the log, set by the node from its data
    directory; without it (a node not started by ``cti serve``) the process's random
    ``PROCESS_PIN_KEY``, never a known one. ``alone_minutes``: a participant alone in a room is
    disconnected after that long (0: never; UC-LESSONS, Conferences: room policy with a grace
    period)."""

    dial_in: str
    channels: int
    alone_minutes: int = 30
    pin_key: bytes = attrs.field(default=PROCESS_PIN_KEY, repr=False, eq=False, validator=_a_key)


@attrs.frozen
class SpeedDial:
    """An entry of the system directory (DIR-03): a name and a number (E.164, or an internal
    number), as the site file gives them."""

    name: str
    number: str


class SiteError(ValueError):
    """The site configuration is inconsistent; the message names the offending entry."""


@attrs.frozen
class Site:
    node: str
    location: Location
    devices: Mapping[str, Device]
    pickup_groups: tuple[tuple[str, ...], ...] = ()
    voicemail: str | None = None
    trunk: str = "trunk1"
    speed_dials: tuple[SpeedDial, ...] = ()  # the system directory (DIR-03)
    conferences: ConferencePlan | None = None  # application conferences (CONF-01..08)
    plan: NumberPlan = attrs.field(init=False, eq=False, repr=False)
    _mulap_of: Mapping[str, str] = attrs.field(init=False, eq=False, repr=False)
    _mobile_owner: Mapping[str, str] = attrs.field(init=False, eq=False, repr=False)
    _shown_by: Mapping[str, str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        mulap_of: dict[str, str] = {}
        mobile_owner: dict[str, str] = {}
        for dev in self.devices.values():
            if dev.kind is DeviceKind.MULAP:
                if not dev.members:
                    raise SiteError(f"MULAP {dev.number} has no member phones")
                for m in dev.members:
                    member = self.devices.get(m)
                    if member is None or member.kind not in PHONE_KINDS:
                        raise SiteError(f"MULAP {dev.number}: member {m} is not a phone")
                    if m in mulap_of:
                        other = mulap_of[m]
                        if other == dev.number:
                            raise SiteError(f"MULAP {dev.number} lists member {m} twice")
                        raise SiteError(f"phone {m} is a member of MULAP {other} and {dev.number}")
                    mulap_of[m] = dev.number
                if dev.assigned_phone is not None and dev.assigned_phone not in dev.members:
                    raise SiteError(f"MULAP {dev.number}: assigned phone is not a member")
            if dev.mobile is not None:
                if dev.mobile in mobile_owner:
                    raise SiteError(
                        f"mobile {dev.mobile} is configured for both "
                        f"{mobile_owner[dev.mobile]} and {dev.number}"
                    )
                mobile_owner[dev.mobile] = dev.number
        in_group: set[str] = set()
        for group in self.pickup_groups:
            for m in group:
                if m not in self.devices or self.devices[m].kind not in PHONE_KINDS:
                    raise SiteError(f"pickup group member {m} is not a phone")
                if m in in_group:
                    raise SiteError(f"phone {m} is in more than one pickup group")
                in_group.add(m)
        object.__setattr__(self, "_mulap_of", mulap_of)
        object.__setattr__(self, "_mobile_owner", mobile_owner)
        object.__setattr__(self, "_shown_by", {**mulap_of, **mobile_owner})
        object.__setattr__(self, "plan", NumberPlan(self.location, self.devices.__contains__))

    def device(self, number: str) -> Device | None:
        """The configured device, an external party for E.164 numbers, else None."""
        dev = self.devices.get(number)
        if dev is not None:
            return dev
        if number in self._mobile_owner:
            owner = self.devices[self._mobile_owner[number]]
            return Device(number, DeviceKind.MOBILE, name=owner.name)
        if number.startswith("+") and number[1:].isdigit():
            return Device(number, DeviceKind.EXTERNAL)
        return None

    def owner_of(self, mobile: str) -> str | None:
        """The mobility user whose mobile this is (CALL-15)."""
        return self._mobile_owner.get(mobile)

    def mulap_of(self, phone: str) -> str | None:
        return self._mulap_of.get(phone)

    def shown_by(self, device: str) -> str | None:
        """The number whose state shows ``device``'s calls besides its own: the mobility user
        of a mobile (CALL-15), else the MULAP group of a member phone (CALL-14). One lookup:
        it is asked for every device of every event."""
        return self._shown_by.get(device)

    def pickup_group_of(self, phone: str) -> tuple[str, ...] | None:
        for group in self.pickup_groups:
            if phone in group:
                return group
        return None

    def is_external(self, number: str) -> bool:
        dev = self.device(number)
        return dev is not None and dev.kind in EXTERNAL_KINDS
