"""The site's number plan (CALL-01): internal, dialable and canonical numbers.

A called number is an internal number (``331``), a dialable external number as dialled at the
site, with or without the trunk access code (``0 089 7007 98765``), or a canonical number
(``+49 (89) 7007-98765``). :meth:`NumberPlan.resolve` turns any of them into an internal
extension or an E.164 number plus the digits that go to the trunk. Parsing, validation and
formatting are libphonenumber's (``phonenumbers``); this module only knows the site: its prefixes,
its own DID range and which short numbers are configured. Pure: no I/O. See specs/numbers.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal
from zoneinfo import ZoneInfo

import attrs
import phonenumbers as pn
from attrs.validators import ge, matches_re

_SEPARATORS = str.maketrans("", "", " \t()/-:;")
_ASCII_DIGITS = frozenset("0123456789")
_DIGITS = matches_re(r"[0-9]+")
_DIGITS_OR_EMPTY = matches_re(r"[0-9]*")

_PARSE_ERRORS = {
    pn.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    pn.NumberParseException.NOT_A_NUMBER: "not a phone number",
    pn.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    pn.NumberParseException.TOO_SHORT_NSN: "too short",
    pn.NumberParseException.TOO_LONG: "too long",
}
_LENGTH_ERRORS = {
    pn.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    pn.ValidationResult.TOO_SHORT: "too short",
    pn.ValidationResult.TOO_LONG: "too long",
    pn.ValidationResult.INVALID_LENGTH: "wrong length",
    pn.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too short (a local number without area code)",
}


@attrs.frozen
class Location:
    """Where the site is and how its users dial out."""

    country_code: str = attrs.field(validator=_DIGITS)  # "49"
    area_code: str = attrs.field(validator=_DIGITS_OR_EMPTY)  # "89"; "" without area codes
    base_number: str = attrs.field(validator=_DIGITS_OR_EMPTY)  # DID prefix "7007"; "" if none
    international_prefix: str = attrs.field(default="00", validator=_DIGITS)
    national_prefix: str = attrs.field(default="0", validator=_DIGITS_OR_EMPTY)
    trunk_access_code: str = attrs.field(default="0", validator=_DIGITS_OR_EMPTY)
    internal_number_length: int = attrs.field(default=3, validator=ge(1))
    region: str = ""  # ISO region ("DE", "US"); "" derives it from country_code
    # The site's IANA time zone: times spoken or written to people (the voicemail's greeting
    # and e-mail, UC-LESSONS) are in it. Checked when the site file is read.
    time_zone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # cached by zoneinfo


class InvalidNumber(ValueError):
    """The text is no number of the plan; the message says what is wrong with it."""


@attrs.frozen
class Resolved:
    kind: Literal["internal", "external"]
    number: str  # internal: the extension ("331"); external: E.164 ("+4989700798765")
    dialable: str  # internal: the extension; external: the trunk digits, incl. trunk access code


class NumberPlan:
    """Resolves, converts and displays numbers for one :class:`Location`."""

    def __init__(self, location: Location, is_internal: Callable[[str], bool]) -> None:
        loc = location
        # Checked here so that a wrong country code or region in the site file fails at start-up.
        region = loc.region or pn.region_code_for_country_code(int(loc.country_code))
        if region == pn.UNKNOWN_REGION:
            raise ValueError(f"unknown country code {loc.country_code}")
        if pn.country_code_for_region(region) != int(loc.country_code):
            raise ValueError(f"region {region!r} does not have country code {loc.country_code}")
        self.location = location
        self._is_internal = is_internal
        self._ext_len = loc.internal_number_length
        self._cc = loc.country_code
        self._base = loc.base_number
        tac, cc, area = loc.trunk_access_code, loc.country_code, loc.area_code
        nat = f"+{cc}"
        self._area_prefix = nat + area
        self._head = f"+{cc} {area} " if area else f"+{cc} "
        # Without a base number the site has no DIDs, so no E.164 number is one of its extensions.
        self._own = self._area_prefix + self._base if self._base else ""
        self._own_trunk = tac + loc.national_prefix
        self._intl_trunk = tac + loc.international_prefix
        # (dialled prefix, its E.164 replacement) in disambiguation order: the TAC and the
        # prefixes may overlap ("0", "00"), so earlier forms win when several are valid.
        forms = [
            (tac + loc.international_prefix, "+"),
            (tac + loc.national_prefix, nat),
            (loc.international_prefix, "+"),
            (loc.national_prefix, nat),
            (tac, nat + area),
            ("", nat + area),
            # Not in the catalogue's list: a national number without national prefix, as dialled
            # in the US ("9 212 555 0100", "212 555 0100"); last, so it only fills gaps.
            (tac, nat),
            ("", nat),
        ]
        self._forms = tuple(dict.fromkeys(forms))

    def resolve(self, text: str) -> Resolved:
        """The internal or external number ``text`` means; raises :class:`InvalidNumber`."""
        digits = _clean(text)
        if digits.startswith("+"):
            return self._resolve_canonical(text, digits)
        if len(digits) <= self._ext_len:
            if self._is_internal(digits):
                return Resolved("internal", digits, digits)
            raise InvalidNumber(f"unknown internal number {digits!r}")
        candidates = dict.fromkeys(
            repl + digits[len(prefix) :]
            for prefix, repl in self._forms
            if digits.startswith(prefix)
        )
        possible = None
        for candidate in candidates:
            # A configured extension's DID counts as valid, whatever libphonenumber's metadata says.
            ext = self._own_extension(candidate)
            if ext is not None:
                return Resolved("internal", ext, ext)
            try:
                num = pn.parse(candidate)
            except pn.NumberParseException:
                continue
            if pn.is_valid_number(num):
                return self._resolved(num)
            if possible is None and pn.is_possible_number(num):
                possible = num
        if possible is not None:
            return self._resolved(possible)
        raise InvalidNumber(
            f"invalid number {text!r}: not a possible phone number in any dialable form "
            "(with or without trunk access code)"
        )

    def canonical(self, text: str) -> str:
        """E.164 of an external number, or of an internal number's DID (``+49897007331``)."""
        res = self.resolve(text)
        if res.kind == "external":
            return res.number
        if not self._own:
            raise InvalidNumber(f"internal number {res.number!r} has no DID: no base number")
        return self._own + res.number

    def dialable(self, e164: str) -> str:
        """The trunk digits for an E.164 number: TAC + national or international prefix + ..."""
        digits = _clean(e164)
        if not digits.startswith("+"):
            raise InvalidNumber(f"invalid number {e164!r}: E.164 numbers start with '+'")
        return self._trunk_digits(self._parse_canonical(e164, digits, possible_suffices=True))

    def display(self, number: str) -> str:
        """Human form: internal numbers as they are, others "+49 89 7007 98765".

        Text that is no number of the plan (e.g. a withheld caller) is shown unchanged.
        """
        try:
            res = self.resolve(number)
        except InvalidNumber:
            return number
        if res.kind == "internal":
            return res.number
        shown = pn.format_number(pn.parse(res.number), pn.PhoneNumberFormat.INTERNATIONAL)
        # libphonenumber does not know the site's base number; split it off the site's own DIDs.
        if self._own and res.number.startswith(self._own) and len(res.number) > len(self._own):
            subscriber = res.number[len(self._area_prefix) :]  # base number + extension
            if shown == self._head + subscriber:
                shown = f"{self._head}{self._base} {subscriber[len(self._base) :]}"
        return shown

    def is_external(self, number: str) -> bool:
        """Whether the number resolves to an external party (False if it does not resolve)."""
        try:
            return self.resolve(number).kind == "external"
        except InvalidNumber:
            return False

    def _resolve_canonical(self, text: str, digits: str) -> Resolved:
        ext = self._own_extension(digits)
        if ext is not None:
            return Resolved("internal", ext, ext)
        return self._resolved(self._parse_canonical(text, digits, possible_suffices=False))

    def _parse_canonical(
        self, text: str, digits: str, *, possible_suffices: bool
    ) -> pn.PhoneNumber:
        try:
            num = pn.parse(digits)
        except pn.NumberParseException as exc:
            reason = _PARSE_ERRORS.get(exc.error_type, str(exc))
            raise InvalidNumber(f"invalid number {text!r}: {reason}") from None
        if pn.is_valid_number(num) or (possible_suffices and pn.is_possible_number(num)):
            return num
        why = pn.is_possible_number_with_reason(num)
        reason = _LENGTH_ERRORS.get(why, f"no such number range in +{num.country_code}")
        raise InvalidNumber(f"invalid number {text!r}: {reason}")

    def _resolved(self, num: pn.PhoneNumber) -> Resolved:
        e164 = pn.format_number(num, pn.PhoneNumberFormat.E164)
        # Also after parsing: "+49 (0) 89 7007 331" only becomes the own DID once normalised.
        ext = self._own_extension(e164)
        if ext is not None:
            return Resolved("internal", ext, ext)
        return Resolved("external", e164, self._trunk_digits(num))

    def _trunk_digits(self, num: pn.PhoneNumber) -> str:
        nsn = pn.national_significant_number(num)
        if str(num.country_code) == self._cc:
            return self._own_trunk + nsn
        return f"{self._intl_trunk}{num.country_code}{nsn}"

    def _own_extension(self, e164: str) -> str | None:
        """The configured extension whose DID ``e164`` is, else None."""
        if not self._own or len(e164) != len(self._own) + self._ext_len:
            return None
        ext = e164[len(self._own) :]
        return ext if e164.startswith(self._own) and self._is_internal(ext) else None


def _clean(text: str) -> str:
    """``text`` without separators; raises InvalidNumber for anything but digits and a '+'."""
    digits = text.translate(_SEPARATORS)
    if not digits:
        raise InvalidNumber(f"empty number {text!r}")
    for pos, char in enumerate(digits):
        if char not in _ASCII_DIGITS and not (char == "+" and pos == 0):
            if char == "+":
                raise InvalidNumber(f"invalid number {text!r}: '+' is only allowed at the start")
            raise InvalidNumber(f"invalid character {char!r} in number {text!r}")
    if digits == "+":
        raise InvalidNumber(f"invalid number {text!r}: no digits after '+'")
    return digits
