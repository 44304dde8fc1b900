"""cti.csta.codec.fast_ber: the compiled encoder gives the pyasn1 path's bytes, or falls back."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.type import char, univ, useful

from cti.csta import codec
from cti.csta.codec import fast_ber
from cti.csta.codec import pdu as codec_pdu
from cti.csta.codec.errors import CodecError
from cti.csta.codec.types import acse, rose
from cti.csta.codec.types.base import Opaque
from tests.csta.examples import CONN_A, DEV_A, DEV_B, EVENTS, event_report
from tests.csta.test_codec import (
    ALL_EXAMPLES,
    ROSE_PDUS,
    connection_ids,
    device_ids,
    reports,
)

REGISTRY = codec_pdu._registry()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fast(type_name: str, value: Any) -> bytes:
    return fast_ber.encode(REGISTRY[type_name], value)


def slow(type_name: str, value: Any) -> bytes:
    return codec_pdu._pyasn1_encode(type_name, value)


def outcome(encode: Any, *args: Any) -> tuple[str, Any]:
    try:
        return ("ok", encode(*args))
    except CodecError as exc:
        return (type(exc).__name__, str(exc))


def _switched_off(cls: type, value: Any) -> bytes:
    """Stands in for fast_ber.encode: every codec call takes the pyasn1 path."""
    raise fast_ber.Unsupported("switched off")


# -- examples ---------------------------------------------------------------------------
@pytest.mark.parametrize(("type_name", "value"), ALL_EXAMPLES)
def test_examples_encode_as_pyasn1_does(type_name: str, value: Any) -> None:
    data = fast(type_name, value)
    assert data == slow(type_name, value)
    assert codec.encode(type_name, value) == data
    assert codec.decode(type_name, data) == value


@pytest.mark.parametrize("pdu", ROSE_PDUS, ids=repr)
def test_rose_pdus_encode_as_pyasn1_does(pdu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    data = codec.encode_rose(pdu)
    assert codec.decode_rose(data) == pdu
    monkeypatch.setattr(codec.fast_ber, "encode", _switched_off)
    assert codec.encode_rose(pdu) == data


ACSE_PDUS = [
    codec.aarq("cti", "secret"),
    codec.aarq("cti", "s\xe9cret", csta_version=((b"\x10", 4))),
    codec.aare(True),
    codec.aare(False, "authentication-failure"),
    ("rlrq", {"reason": 0}),
    ("rlre", {"reason": 0}),
    ("abrt", {"abort-source": 1}),
]


@pytest.mark.parametrize("pdu", ACSE_PDUS, ids=repr)
def test_acse_pdus_encode_as_pyasn1_does(pdu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert fast_ber.encode(acse.ACSE_apdu, pdu) == codec_pdu._encode_spec(acse.ACSE_apdu(), pdu)
    data = codec.encode_acse(pdu)
    monkeypatch.setattr(codec.fast_ber, "encode", _switched_off)
    assert codec.encode_acse(pdu) == data


def test_delivered_report_is_not_a_fallback() -> None:
    from bench.csta_codec import delivered_report

    pdu = delivered_report(4711)
    argument = fast("CSTAEventReportArgument", pdu.argument)
    value = ("invoke", {"invokeId": ("present", 4711), "opcode": ("local", 21)})
    value[1]["argument"] = argument
    assert fast_ber.encode(rose.ROS, value) == codec.encode_rose(pdu)


# -- property based: the strategies of test_codec ----------------------------------------
@SETTINGS
@given(device_ids)
def test_device_ids(value: dict[str, Any]) -> None:
    assert fast("DeviceID", value) == slow("DeviceID", value)


@SETTINGS
@given(connection_ids)
def test_connection_ids(value: Any) -> None:
    assert fast("ConnectionID", value) == slow("ConnectionID", value)


@SETTINGS
@given(reports, st.integers(-(2**31), 2**31 - 1))
def test_event_reports(report: dict[str, Any], invoke_id: int) -> None:
    data = fast("CSTAEventReportArgument", report)
    assert data == slow("CSTAEventReportArgument", report)
    pdu = codec.Invoke(invoke_id, "cSTAEventReport", report)
    value = ("invoke", {"invokeId": ("present", invoke_id), "opcode": ("local", 21)})
    value[1]["argument"] = data
    assert codec.encode_rose(pdu) == codec_pdu._encode_spec(rose.ROS(), value)


# -- property based: values drawn from the schema itself ---------------------------------
# Includes the awkward corners: empty SEQUENCEs / SEQUENCE OFs in OPTIONAL fields,
# DEFAULT values, integer sign boundaries, long lengths, out-of-range and
# unencodable values (both paths must then fail alike).
_INTS = st.one_of(
    st.sampled_from([0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, -32768, 2**31 - 1]),
    st.integers(-(2**70), 2**70),
)
_TEXT = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
    st.text(max_size=3),  # may not fit the character set: error on both paths
    st.just("x" * 200),  # long form length
)
_BITS = st.binary(max_size=5).flatmap(
    lambda data: st.tuples(st.just(data), st.integers(0, 8 * len(data)))
)
_OIDS = st.sampled_from(["1.3.12.0.218", "2.2.3.1", "2.999.3", "0.39.1", "1.3.6.1.4.1.99999"])


def _schema_values(spec: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    if isinstance(spec, Opaque):
        return st.just(b"")
    if isinstance(spec, univ.Choice):
        branches = [
            st.tuples(st.just(nt.name), _schema_values(nt.asn1Object, depth + 1))
            for nt in spec.componentType.namedTypes
            if not isinstance(nt.asn1Object, Opaque)
        ]
        return st.one_of(branches) if branches else st.just(("x", None))
    if isinstance(spec, univ.SequenceAndSetBase):
        required, optional = {}, {}
        for nt in spec.componentType.namedTypes:
            if isinstance(nt.asn1Object, Opaque):
                continue
            target = optional if nt.isOptional or nt.isDefaulted else required
            target[nt.name] = _schema_values(nt.asn1Object, depth + 1)
        if depth > 6:
            optional = {}
        complete = st.fixed_dictionaries(required, optional=optional)
        if not required:
            return complete
        # now and then a mandatory field is missing (pyasn1 skips such an OPTIONAL value)
        return complete | st.fixed_dictionaries({}, optional={**required, **optional})
    if isinstance(spec, univ.SequenceOfAndSetOfBase):
        return st.lists(_schema_values(spec.componentType, depth + 1), max_size=2)
    if isinstance(spec, univ.Boolean):
        return st.booleans()
    if isinstance(spec, univ.Enumerated):
        return st.sampled_from(sorted(spec.namedValues.keys()))
    if isinstance(spec, univ.Integer):
        return _INTS
    if isinstance(spec, univ.Null):
        return st.none()
    if isinstance(spec, univ.BitString):
        return _BITS
    if isinstance(spec, univ.ObjectIdentifier):
        return _OIDS
    if isinstance(spec, useful.GeneralizedTime):
        return st.sampled_from(["20260101120000Z", "20261130082600.5Z"])
    if isinstance(spec, char.AbstractCharacterString):
        return _TEXT
    return st.binary(max_size=4) | st.just(b"\x00" * 130)


_TOP_TYPES = sorted({name for name in REGISTRY if "-" not in name})


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_schema_values_encode_as_pyasn1_does(data: st.DataObject) -> None:
    type_name = data.draw(st.sampled_from(_TOP_TYPES))
    value = data.draw(_schema_values(REGISTRY[type_name]()))
    expected = outcome(slow, type_name, value)
    assert outcome(codec.encode, type_name, value) == expected
    try:
        got = fast(type_name, value)
    except fast_ber.Unsupported:
        return
    assert ("ok", got) == expected


# -- fallback ----------------------------------------------------------------------------
class MyInt(int):
    pass


BAD_VALUES = [
    ("HoldCallArgument", {"callToBeHeld": CONN_A, "extensions": {"privateData": b""}}),  # opaque
    ("MakeCallArgument", {"callingDevice": DEV_A}),  # mandatory field missing
    ("MakeCallArgument", {"callingDevice": DEV_A, "calledDirectoryNumber": DEV_B, "x": 1}),
    ("HoldCallArgument", {"callToBeHeld": ("nonsense", b"")}),
    ("HoldCallArgument", {"callToBeHeld": CONN_A, "connectionReservation": "yes"}),
    ("ClearCallArgument", {"callToBeCleared": CONN_A, "reason": "noSuchCause"}),
    ("SetForwardingArgument", {"device": DEV_A, "activateForward": True, "ringCount": 101}),
    ("MonitorStartArgument", {"monitorObject": ("deviceObject", DEV_A), "monitorType": 1}),
    ("DeviceID", {"deviceIdentifier": ("dialingNumber", "caf\xe9")}),  # not IA5
    ("DeviceID", {"deviceIdentifier": ("deviceNumber", True)}),
    ("DeviceID", {"deviceIdentifier": ("dialingNumber",)}),
    ("DeviceID", ["deviceIdentifier"]),
    ("ConnectionID", ("callID", bytearray(b"1"))),
    ("UniversalFailure", ("unspecified", 0)),
]


@pytest.mark.parametrize(("type_name", "value"), BAD_VALUES, ids=repr)
def test_bad_values_fall_back_to_the_same_error(type_name: str, value: Any) -> None:
    with pytest.raises(fast_ber.Unsupported):
        fast(type_name, value)
    expected = outcome(slow, type_name, value)
    assert expected[0] == "CodecError"
    assert outcome(codec.encode, type_name, value) == expected


def test_unknown_type_and_bad_rose_errors_are_unchanged() -> None:
    assert outcome(codec.encode, "NoSuchType", {}) == ("CodecError", "unknown type 'NoSuchType'")
    with pytest.raises(CodecError, match="4 bytes"):
        codec.encode_rose(codec.Invoke(2**31, "makeCall", {}))


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        # int subclass: the fast path leaves it to pyasn1, which encodes it
        ("DeviceID", {"deviceIdentifier": ("deviceNumber", MyInt(5))}),
        # an OPTIONAL field whose SEQUENCE lacks a mandatory field: pyasn1 skips it
        (
            "CSTAEventReportArgument",
            event_report(
                "delivered", {**EVENTS["delivered"], "messageInfo": {"contentsLength": 1}}
            ),
        ),
    ],
    ids=["int-subclass", "incomplete-optional"],
)
def test_unsupported_values_fall_back_to_pyasn1_bytes(type_name: str, value: Any) -> None:
    expected = outcome(slow, type_name, value)
    assert outcome(codec.encode, type_name, value) == expected


def test_only_opaque_placeholders_are_refused_by_construction() -> None:
    for cls in set(REGISTRY.values()):
        fast_ber.encoder_for(cls)
    refused = {
        type(spec).__name__
        for spec, enc, _ in fast_ber._CACHE.values()
        if enc.__name__ == "unsupported"
    }
    assert refused <= {"Opaque"}


@pytest.mark.parametrize(
    "value", [0, 1, -1, 127, 128, -128, -129, 255, 256, -256, -257, 2**31 - 1, -(2**31), 2**64]
)
def test_integers_match_pyasn1(value: int) -> None:
    dev = {"deviceIdentifier": ("deviceNumber", value)}
    assert fast("DeviceID", dev) == slow("DeviceID", dev)


@pytest.mark.parametrize(
    "bits",
    [(b"", 0), (b"\x00", 0), (b"\x80", 1), (b"\xff", 3), (b"\x00\x01", 16), (b"\xff\xff", 9)],
)
def test_bit_strings_match_pyasn1(bits: tuple[bytes, int]) -> None:
    value = ("arbitrary", bits)
    spec = acse.EXTERNAL.componentType["encoding"].asn1Object
    assert fast_ber.encode(type(spec), value) == codec_pdu._encode_spec(type(spec)(), value)
