"""Static site configuration: devices, users, MULAP groups, pickup groups, the number plan.

The site is configuration, not state: services read it to decide, events never depend on it, so
a replay reproduces the same state even if the file changed in between.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal, TypeVar

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


class SiteError(ValueError):
    """The site configuration is inconsistent; the message names the offending entry."""


CstaFraming = Literal["siemens", "length2"]
CSTA_FRAMINGS: tuple[CstaFraming, ...] = ("siemens", "length2")
DEFAULT_CSTA_PASSWORD = "cti"


@attrs.frozen
class CstaSettings:
    """The ``[csta]`` section: where the CSTA link listens and the one account it accepts.

    Configuration of an adapter, not of the switch: services never read it."""

    user: str = "cti"
    password: str = DEFAULT_CSTA_PASSWORD
    host: str = "127.0.0.1"  # loopback unless the site says otherwise
    port: int = 8800  # 0: the link is disabled
    framing: CstaFraming = "siemens"

    @property
    def loopback(self) -> bool:
        """Does ``host`` listen on loopback only (127.0.0.0/8, ::1, localhost)?"""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:  # a host name: it may resolve to anything
            return False

    def unsafe(self) -> str | None:
        """Why listening with these settings is refused, or None.

        The default account on anything but loopback would let anyone on the network drive
        the switch."""
        if not self.loopback and self.password == DEFAULT_CSTA_PASSWORD:
            return (
                f"[csta]: host {self.host!r} is not loopback but the password is the default "
                f"{DEFAULT_CSTA_PASSWORD!r}; set another password (or listen on 127.0.0.1)"
            )
        return None


@attrs.frozen
class Site:
    node: str
    location: Location
    devices: Mapping[str, Device]
    pickup_groups: tuple[tuple[str, ...], ...] = ()
    voicemail: str | None = None
    trunk: str = "trunk1"
    csta: CstaSettings = attrs.field(factory=CstaSettings)
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
        """Build a site from parsed TOML (see specs/site.md for the format).

        Every problem raises :class:`SiteError` naming the offending section, entry and key."""
        _keys(raw, _TOP_KEYS, "the site file")
        location = _location(raw.get("location"))
        devices: dict[str, Device] = {}

        def add(dev: Device) -> None:
            if dev.number in devices:
                raise SiteError(f"number {dev.number} is configured twice")
            if len(dev.number) > location.internal_number_length:
                raise SiteError(
                    f"number {dev.number} has more digits than internal_number_length "
                    f"({location.internal_number_length}): it could not be dialled"
                )
            devices[dev.number] = dev

        for i, d in enumerate(_entries(raw, "devices"), 1):
            number = _number(_required(d, "number", f"[[devices]] entry {i}"), "[[devices]]")
            where = f"device {number}"
            _keys(d, _DEVICE_KEYS, where)
            kind = _enum(DeviceKind, d.get("kind", "system_phone"), where, "kind")
            if kind not in PHONE_KINDS:
                raise SiteError(f"{where}: kind {kind.value!r} {_NOT_A_DEVICE_KIND[kind]}")
            mobile = d.get("mobile")
            if mobile is not None and not isinstance(mobile, str):
                raise SiteError(f'{where}: mobile must be a string such as "+491701234567"')
            dial_method = _enum(
                DialMethod, d.get("dial_method", "cti_associated"), where, "dial_method"
            )
            if dial_method is DialMethod.CALLBACK_PREFERRED and mobile is None:
                raise SiteError(f"{where}: dial_method callback_preferred needs a mobile")
            add(
                Device(
                    number=number,
                    kind=kind,
                    name=_text(d, "name", where),
                    attendant=_flag(d, "attendant", where),
                    mobile=mobile,
                    dial_method=dial_method,
                )
            )
        for i, r in enumerate(_entries(raw, "phone_ranges"), 1):
            for dev in _phone_range(r, f"[[phone_ranges]] entry {i}"):
                add(dev)
        for i, g in enumerate(_entries(raw, "mulap"), 1):
            number = _number(_required(g, "number", f"[[mulap]] entry {i}"), "[[mulap]]")
            where = f"MULAP {number}"
            _keys(g, _MULAP_KEYS, where)
            members = _required(g, "members", where)
            if not isinstance(members, list):
                raise SiteError(f"{where}: members must be a list of phone numbers")
            assigned = g.get("assigned_phone")
            add(
                Device(
                    number=number,
                    kind=DeviceKind.MULAP,
                    name=_text(g, "name", where),
                    members=tuple(_number(m, f"{where}: members") for m in members),
                    assigned_phone=None
                    if assigned is None
                    else _number(assigned, f"{where}: assigned_phone"),
                )
            )
        voicemail = raw.get("voicemail")
        if voicemail is not None:
            voicemail = _number(voicemail, "voicemail")
            add(Device(voicemail, DeviceKind.VOICEMAIL, name="Voicemail"))
        for i, b in enumerate(_entries(raw, "conference_bridges"), 1):
            where = f"[[conference_bridges]] entry {i}"
            number = _number(_required(b, "number", where), "[[conference_bridges]]")
            where = f"conference bridge {number}"
            _keys(b, _BRIDGE_KEYS, where)
            add(Device(number, DeviceKind.CONFERENCE_BRIDGE, name=_text(b, "name", where)))
        groups = raw.get("pickup_groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
            raise SiteError("pickup_groups must be a list of lists of phone numbers")
        try:
            site = cls(
                node=_text(raw, "node", "the site file", "node1"),
                location=location,
                devices=devices,
                pickup_groups=tuple(tuple(_number(m, "pickup_groups") for m in g) for g in groups),
                voicemail=voicemail,
                trunk=_text(raw, "trunk", "the site file", "trunk1"),
                csta=_csta(raw.get("csta")),
            )
        except SiteError:
            raise
        except ValueError as exc:  # the number plan: unknown country code, wrong region
            raise SiteError(f"[location]: {exc}") from exc
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


# -- reading the parsed TOML: each helper names the offending section and key ---------------

_TOP_KEYS = frozenset(
    {
        "node",
        "voicemail",
        "trunk",
        "pickup_groups",
        "location",
        "devices",
        "mulap",
        "conference_bridges",
        "csta",
        "phone_ranges",
    }
)
_RANGE_KEYS = frozenset({"first", "count", "kind", "name"})
MAX_RANGE = 10_000
_CSTA_KEYS = frozenset({"user", "password", "host", "port", "framing"})
_DEVICE_KEYS = frozenset({"number", "name", "kind", "attendant", "mobile", "dial_method"})
_MULAP_KEYS = frozenset({"number", "name", "members", "assigned_phone"})
_BRIDGE_KEYS = frozenset({"number", "name"})
_LOCATION_KEYS = {f.name: f for f in attrs.fields(Location)}
_NOT_A_DEVICE_KIND = {
    DeviceKind.VOICEMAIL: "is configured with the top-level key voicemail, not in [[devices]]",
    DeviceKind.CONFERENCE_BRIDGE: "is configured in [[conference_bridges]], not in [[devices]]",
    DeviceKind.MULAP: "is configured in [[mulap]], not in [[devices]]",
    DeviceKind.MOBILE: "is configured as the mobile key of its user's phone, not in [[devices]]",
    DeviceKind.EXTERNAL: "cannot be configured: external parties exist from their first use",
}


_E = TypeVar("_E", bound=StrEnum)


def _phone_range(r: Mapping[str, Any], where: str) -> list[Device]:
    """``count`` phones numbered from ``first`` (load tests, big offices): names from the
    template ``name`` with ``{n}`` standing for the number."""
    _keys(r, _RANGE_KEYS, where)
    first = _number(_required(r, "first", where), where)
    count = r.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_RANGE:
        raise SiteError(f"{where}: count must be a whole number from 1 to {MAX_RANGE}")
    kind = _enum(DeviceKind, r.get("kind", "system_phone"), where, "kind")
    if kind not in PHONE_KINDS:
        raise SiteError(f"{where}: kind must be a phone kind, not {kind.value!r}")
    template = _text(r, "name", where, "Phone {n}")
    width, start = len(first), int(first)
    last = str(start + count - 1).zfill(width)
    if len(last) > width:
        raise SiteError(f"{where}: {count} numbers from {first} do not fit in {width} digits")
    numbers = [str(start + k).zfill(width) for k in range(count)]
    return [Device(n, kind, name=template.replace("{n}", n)) for n in numbers]


def _keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SiteError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _required(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise SiteError(f"{where}: missing key {key!r}")
    return table[key]


def _entries(raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    entries = raw.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise SiteError(f"{key} must be an array of tables ([[{key}]])")
    return entries


def _number(value: Any, where: str) -> str:
    """A configured internal number: a TOML string or integer of digits."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SiteError(f"{where}: number {value!r} must be a string of digits")
    text = str(value)
    if not text.isascii() or not text.isdigit():
        raise SiteError(f"{where}: number {text!r} must be digits")
    return text


def _text(table: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise SiteError(f"{where}: {key} must be a string, not {value!r}")
    return value


def _flag(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise SiteError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def _enum(enum: type[_E], value: Any, where: str, key: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(sorted(e.value for e in enum))
        raise SiteError(f"{where}: unknown {key} {value!r} (one of {choices})") from None


def _location(loc: Any) -> Location:
    if loc is None:
        raise SiteError("[location]: missing table (country_code, area_code, base_number)")
    if not isinstance(loc, Mapping):
        raise SiteError("location must be a table ([location])")
    _keys(loc, frozenset(_LOCATION_KEYS), "[location]")
    for key, field in _LOCATION_KEYS.items():
        if key not in loc:
            if field.default is attrs.NOTHING:
                raise SiteError(f"[location]: missing key {key!r}")
            continue
        value = loc[key]
        if key == "internal_number_length":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SiteError(f"[location]: {key} must be a whole number >= 1, not {value!r}")
        elif not isinstance(value, str):
            raise SiteError(f'[location]: {key} must be a string such as "49", not {value!r}')
    try:
        return Location(**loc)
    except ValueError as exc:  # attrs validators: a field that is not digits
        attribute = exc.args[1].name if len(exc.args) > 1 else "a field"
        value = exc.args[3] if len(exc.args) > 3 else ""
        raise SiteError(f"[location]: {attribute} must be digits, not {value!r}") from None


def _csta(section: Any) -> CstaSettings:
    if section is None:
        return CstaSettings()
    if not isinstance(section, Mapping):
        raise SiteError("csta must be a table ([csta])")
    _keys(section, _CSTA_KEYS, "[csta]")
    default = CstaSettings()
    port = section.get("port", default.port)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise SiteError(f"[csta]: port must be a whole number 0..65535, not {port!r}")
    name = _text(section, "framing", "[csta]", default.framing)
    framing = next((f for f in CSTA_FRAMINGS if f == name), None)
    if framing is None:
        raise SiteError(f"[csta]: unknown framing {name!r} (one of {', '.join(CSTA_FRAMINGS)})")
    settings = CstaSettings(
        user=_text(section, "user", "[csta]", default.user),
        password=_text(section, "password", "[csta]", default.password),
        host=_text(section, "host", "[csta]", default.host),
        port=port,
        framing=framing,
    )
    if not settings.user or not settings.password:
        raise SiteError("[csta]: user and password must not be empty")
    if not settings.host.strip():
        raise SiteError(
            "[csta]: host must not be empty (127.0.0.1 for loopback, 0.0.0.0 for every interface)"
        )
    return settings
