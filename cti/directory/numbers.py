"""A search text that is a number (DIR-04): the E.164 prefixes it stands for. Pure.

A complete number is made canonical by the site's number plan (libphonenumber, as every
number the node keeps); the start of one is turned into the start of an E.164 number by the
plan's prefixes (``0171 55`` -> ``+4917155``), and digits short enough to be an internal
number are also searched as one.
"""

from __future__ import annotations

import contextlib
import re

from cti.site import Site
from cti.site.numbers import InvalidNumber

_SEPARATORS = re.compile(r"[\s()/.\-]")
_NUMBER = re.compile(r"\+?[0-9]+")


def number_prefixes(site: Site, text: str) -> list[str]:
    """The prefixes a number search looks for; [] when ``text`` is no number."""
    digits = _SEPARATORS.sub("", text)
    if not _NUMBER.fullmatch(digits):
        return []
    loc = site.plan.location
    out: dict[str, None] = {}
    with contextlib.suppress(InvalidNumber, ValueError):
        out[site.plan.canonical(text)] = None
    if digits.startswith("+"):
        out[digits] = None
    elif loc.international_prefix and digits.startswith(loc.international_prefix):
        out["+" + digits[len(loc.international_prefix) :]] = None
    elif loc.national_prefix and digits.startswith(loc.national_prefix):
        out[f"+{loc.country_code}" + digits[len(loc.national_prefix) :]] = None
    else:
        out[digits] = None  # an internal number, or its start
    return [p for p in out if len(p.lstrip("+")) >= 1]
