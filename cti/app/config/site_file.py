"""The site file (TOML) -> the switch plan (:class:`~cti.site.Site`).

Every problem raises :class:`~cti.site.SiteError` naming the offending section, entry and key
(specs/site.md, "Validation"). Sections that configure the application rather than the switch
(``[csta]``) are read by their own modules of this package.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from cti.mqtt.signin import NODE_NAME
from cti.site.model import (
    PHONE_KINDS,
    ConferencePlan,
    Device,
    DeviceKind,
    DialMethod,
    Site,
    SiteError,
    SpeedDial,
)
from cti.site.numbers import Location


def site_from_dict(raw: Mapping[str, Any]) -> Site:
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
    conferences = _conferences(raw.get("conferences"))
    if conferences is not None:
        name = _text(raw["conferences"], "name", "[conferences]", "Konferenz-Einwahl")
        add(Device(conferences.dial_in, DeviceKind.CONFERENCE_BRIDGE, name=name))
    groups = raw.get("pickup_groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
        raise SiteError("pickup_groups must be a list of lists of phone numbers")
    node = _text(raw, "node", "the site file", "node1")
    if not NODE_NAME.fullmatch(node):
        raise SiteError(
            f"node {node!r}: letters, digits, '-' and '_' only (at most 32), first a letter "
            "or digit: it is a topic level and part of broker user names"
        )
    try:
        site = Site(
            node=node,
            location=location,
            devices=devices,
            pickup_groups=tuple(tuple(_number(m, "pickup_groups") for m in g) for g in groups),
            voicemail=voicemail,
            trunk=_text(raw, "trunk", "the site file", "trunk1"),
            conferences=conferences,
        )
        site = attrs.evolve(site, speed_dials=_speed_dials(site, raw))
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
        "csta",  # the CSTA link's settings (cti.app.config.csta)
        "chat",  # instant messaging's options (cti.app.config.chat)
        "users",  # the accounts the node starts with (cti.app.config.users)
        "smtp",  # voicemail to e-mail (cti.app.config.smtp)
        "phone_ranges",
        "speed_dials",
        "conferences",  # application conferences (CONF-01..08): dial-in number, channels
    }
)
_CONFERENCE_KEYS = frozenset({"dial_in", "channels", "name", "alone_minutes"})
MAX_CHANNELS = 1000
MAX_ALONE_MINUTES = 24 * 60  # a day: longer is "never" (0)
_SPEED_DIAL_KEYS = frozenset({"name", "number"})
_RANGE_KEYS = frozenset({"first", "count", "kind", "name"})
MAX_RANGE = 10_000
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


def _speed_dials(site: Site, raw: Mapping[str, Any]) -> tuple[SpeedDial, ...]:
    """The system directory (DIR-03): each entry's number made canonical by the plan."""
    out: list[SpeedDial] = []
    for i, e in enumerate(_entries(raw, "speed_dials"), 1):
        where = f"[[speed_dials]] entry {i}"
        _keys(e, _SPEED_DIAL_KEYS, where)
        name = _text(e, "name", where).strip()
        if not name:
            raise SiteError(f"{where}: missing key 'name'")
        number = _required(e, "number", where)
        if not isinstance(number, str):
            raise SiteError(f'{where}: number must be a string such as "+49 89 7007 100"')
        try:
            resolved = site.plan.resolve(number)
        except ValueError as exc:
            raise SiteError(f"{where}: number {number!r}: {exc}") from exc
        out.append(SpeedDial(name, resolved.number))
    return tuple(out)


def _conferences(raw: Any) -> ConferencePlan | None:
    """``[conferences]``: the dial-in (MeetMe) number, a device of its own that answers at
    once, the site's conference channels (CONF-01, CONF-03), and how long a participant may
    wait alone in a room before being disconnected (``alone_minutes``, 0: never)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise SiteError("conferences must be a table ([conferences])")
    _keys(raw, _CONFERENCE_KEYS, "[conferences]")
    dial_in = _number(_required(raw, "dial_in", "[conferences]"), "[conferences]: dial_in")
    channels = _required(raw, "channels", "[conferences]")
    if (
        not isinstance(channels, int)
        or isinstance(channels, bool)
        or not 1 <= channels <= MAX_CHANNELS
    ):
        raise SiteError(f"[conferences]: channels must be a whole number from 1 to {MAX_CHANNELS}")
    alone = raw.get("alone_minutes", 30)
    if not isinstance(alone, int) or isinstance(alone, bool) or not 0 <= alone <= MAX_ALONE_MINUTES:
        raise SiteError(
            f"[conferences]: alone_minutes must be a whole number from 0 (never) to "
            f"{MAX_ALONE_MINUTES}"
        )
    return ConferencePlan(dial_in=dial_in, channels=channels, alone_minutes=alone)


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


def _time_zone(value: Any) -> None:
    """An IANA zone the system knows (zoneinfo), such as "Europe/Berlin"."""
    try:
        if not isinstance(value, str) or not value:
            raise ValueError(value)
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError, OSError):
        example = '(an IANA name such as "Europe/Berlin")'
        raise SiteError(f"[location]: time_zone {value!r} is no time zone {example}") from None


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
        elif key == "time_zone":
            _time_zone(value)
        elif not isinstance(value, str):
            raise SiteError(f'[location]: {key} must be a string such as "49", not {value!r}')
    try:
        return Location(**loc)
    except ValueError as exc:  # attrs validators: a field that is not digits
        attribute = exc.args[1].name if len(exc.args) > 1 else "a field"
        value = exc.args[3] if len(exc.args) > 3 else ""
        raise SiteError(f"[location]: {attribute} must be digits, not {value!r}") from None
