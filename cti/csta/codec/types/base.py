"""Tagging helpers and the opaque placeholder shared by all CSTA type modules.

ECMA-285 modules use EXPLICIT tagging by default; ``[n] IMPLICIT`` is spelled out.
pyasn1 keeps the primitive/constructed bit of the replaced tag when tagging
implicitly and forces "constructed" when tagging explicitly, so the helpers
always pass the simple format.
"""

from __future__ import annotations

from typing import Any

from pyasn1.type import tag, tagmap, univ


def ctx(n: int) -> tag.Tag:
    """Context-specific tag ``[n]``."""
    return tag.Tag(tag.tagClassContext, tag.tagFormatSimple, n)


def app(n: int) -> tag.Tag:
    """Application tag ``[APPLICATION n]``."""
    return tag.Tag(tag.tagClassApplication, tag.tagFormatSimple, n)


def implicit(t: Any, n: int) -> Any:
    """``[n] IMPLICIT t``."""
    return t.subtype(implicitTag=ctx(n))


def explicit(t: Any, n: int) -> Any:
    """``[n] t`` (EXPLICIT, the module default)."""
    return t.subtype(explicitTag=ctx(n))


def app_tagset(base: Any, n: int, *, implicit_tag: bool) -> Any:
    """TagSet for ``[APPLICATION n] [IMPLICIT] base`` (class-level ``tagSet``)."""
    if implicit_tag:
        return base.tagSet.tagImplicitly(app(n))
    return base.tagSet.tagExplicitly(app(n))


class Opaque(univ.Any):
    """Field we accept on the wire but do not model (private data, location info,
    charging info...). The codec drops it on decode and refuses
    it on encode; the type only exists so that pyasn1 can skip the TLV."""

    @property
    def tagMap(self) -> Any:
        # pyasn1's Any also registers itself as the catch-all type, so two
        # optional Any fields in a row (locationInfo, extensions) would be
        # "ambiguous"; a tagged placeholder should only match its own tag.
        if self.tagSet:
            return tagmap.TagMap({self.tagSet: self})
        return super().tagMap


def opaque_ctx(n: int) -> Any:
    """Opaque field tagged ``[n]`` (matches implicit and explicit use alike:
    pyasn1 tag comparison ignores the primitive/constructed bit)."""
    return Opaque().subtype(explicitTag=ctx(n))


def extensions() -> Any:
    """``CSTACommonArguments``: now modelled in :mod:`cti.csta.codec.types.common` (import
    it from there); kept here for type modules written against the old opaque placeholder."""
    from cti.csta.codec.types.common import extensions as modelled  # common imports base

    return modelled()
