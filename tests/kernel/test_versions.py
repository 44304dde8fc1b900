"""Event versions and upcasters (cti.kernel.versions, cti.kernel.codec)."""

from __future__ import annotations

from typing import ClassVar

import attrs
import orjson
import pytest

from cti.kernel.codec import EventCodec
from cti.kernel.messages import Event
from cti.kernel.versions import Fields, UnknownVersion, Upcasters


@attrs.frozen(kw_only=True)
class Rang(Event):
    """Version 3: ``device`` was ``phone`` (v1), ``rings`` is new (v2, default 1)."""

    KIND: ClassVar[str] = "rang"
    VERSION: ClassVar[int] = 3
    device: str
    rings: int


def v1_to_v2(fields: Fields) -> Fields:
    return {**fields, "rings": 1}


def v2_to_v3(fields: Fields) -> Fields:
    out = dict(fields)
    out["device"] = out.pop("phone")
    return out


CODEC = EventCodec([Rang], {("rang", 1): v1_to_v2, ("rang", 2): v2_to_v3})


def test_old_versions_are_upcast_step_by_step() -> None:
    assert CODEC.decode("rang", 1, b'{"phone": "330"}') == Rang(device="330", rings=1)
    assert CODEC.decode("rang", 2, b'{"phone": "330", "rings": 4}') == Rang(device="330", rings=4)
    assert CODEC.decode("rang", 3, b'{"device": "330", "rings": 2}') == Rang(device="330", rings=2)


def test_current_events_are_written_at_their_version() -> None:
    event = Rang(device="331", rings=2)
    assert orjson.loads(CODEC.encode(event)) == {"device": "331", "rings": 2}
    assert event.VERSION == 3


def test_a_version_without_its_upcaster_is_refused_when_the_codec_is_built() -> None:
    with pytest.raises(
        UnknownVersion, match="rang is at version 3 but has no upcaster from version 2"
    ):
        Upcasters([Rang], {("rang", 1): v1_to_v2})
    with pytest.raises(UnknownVersion, match="upgrades no known version"):
        Upcasters([Rang], {("rang", 1): v1_to_v2, ("rang", 2): v2_to_v3, ("rang", 3): v1_to_v2})


def test_unknown_kinds_newer_versions_and_stray_fields_are_refused() -> None:
    with pytest.raises(UnknownVersion, match="unknown event kind 'rung'"):
        CODEC.decode("rung", 1, b"{}")
    with pytest.raises(UnknownVersion, match="newer than this software"):
        CODEC.decode("rang", 4, b'{"device": "330", "rings": 1}')
    # A field the class does not have (say, renamed without an upcaster) is not dropped.
    with pytest.raises(UnknownVersion, match="does not match the Rang fields"):
        CODEC.decode("rang", 3, b'{"device": "330", "rings": 1, "ringing": 2}')
    with pytest.raises(UnknownVersion, match="does not match the Rang fields"):
        CODEC.decode("rang", 3, b'{"rings": 1}')


def test_a_kind_defined_twice_is_refused() -> None:
    @attrs.frozen(kw_only=True)
    class Other(Event):
        KIND: ClassVar[str] = "rang"

    with pytest.raises(ValueError, match="defined twice"):
        EventCodec([Rang, Other], {("rang", 1): v1_to_v2, ("rang", 2): v2_to_v3})
