"""Static site configuration: devices, users, MULAP groups, pickup groups, the number plan.

The site is configuration, not state: services read it to decide, events never depend on it, so
a replay reproduces the same state even if the file changed in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import attrs

from cti.domain.numbers import Location, NumberPlan


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
    plan: NumberPlan = attrs.field(init=False, eq=False, repr=False)
    _mulap_of: Mapping[str, str] = attrs.field(init=False, eq=False, repr=False)
    _mobile_owner: Mapping[str, str] = attrs.field(init=False, eq=False, repr=False)

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
                    mulap_of[m] = dev.number
                if dev.assigned_phone is not None and dev.assigned_phone not in dev.members:
                    raise SiteError(f"MULAP {dev.number}: assigned phone is not a member")
            if dev.mobile is not None:
                mobile_owner[dev.mobile] = dev.number
        for group in self.pickup_groups:
            for m in group:
                if m not in self.devices or self.devices[m].kind not in PHONE_KINDS:
                    raise SiteError(f"pickup group member {m} is not a phone")
        object.__setattr__(self, "_mulap_of", mulap_of)
        object.__setattr__(self, "_mobile_owner", mobile_owner)
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

    def mulap_of(self, phone: str) -> str | None:
        return self._mulap_of.get(phone)

    def pickup_group_of(self, phone: str) -> tuple[str, ...] | None:
        for group in self.pickup_groups:
            if phone in group:
                return group
        return None

    def is_external(self, number: str) -> bool:
        dev = self.device(number)
        return dev is not None and dev.kind in EXTERNAL_KINDS

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Site:
        """Build a site from parsed TOML (see specs/site.md for the format)."""
        loc = raw.get("location", {})
        location = Location(**loc)
        devices: dict[str, Device] = {}

        def add(dev: Device) -> None:
            if dev.number in devices:
                raise SiteError(f"number {dev.number} is configured twice")
            devices[dev.number] = dev

        for d in raw.get("devices", []):
            add(
                Device(
                    number=str(d["number"]),
                    kind=DeviceKind(d.get("kind", "system_phone")),
                    name=d.get("name", ""),
                    attendant=bool(d.get("attendant", False)),
                    mobile=d.get("mobile"),
                    dial_method=DialMethod(d.get("dial_method", "cti_associated")),
                )
            )
        for g in raw.get("mulap", []):
            add(
                Device(
                    number=str(g["number"]),
                    kind=DeviceKind.MULAP,
                    name=g.get("name", ""),
                    members=tuple(str(m) for m in g["members"]),
                    assigned_phone=str(g["assigned_phone"]) if "assigned_phone" in g else None,
                )
            )
        voicemail = raw.get("voicemail")
        if voicemail is not None:
            add(Device(str(voicemail), DeviceKind.VOICEMAIL, name="Voicemail"))
        for b in raw.get("conference_bridges", []):
            add(Device(str(b["number"]), DeviceKind.CONFERENCE_BRIDGE, name=b.get("name", "")))
        site = cls(
            node=raw.get("node", "node1"),
            location=location,
            devices=devices,
            pickup_groups=tuple(tuple(str(m) for m in g) for g in raw.get("pickup_groups", [])),
            voicemail=str(voicemail) if voicemail is not None else None,
            trunk=raw.get("trunk", "trunk1"),
        )
        for dev in devices.values():
            if dev.mobile is not None:
                try:
                    canonical = site.plan.resolve(dev.mobile)
                except ValueError as exc:
                    raise SiteError(f"device {dev.number}: mobile {dev.mobile}: {exc}") from exc
                if canonical.kind != "external" or canonical.number != dev.mobile:
                    raise SiteError(
                        f"device {dev.number}: mobile must be an external E.164 number, "
                        f"e.g. {canonical.number}"
                    )
        return site
