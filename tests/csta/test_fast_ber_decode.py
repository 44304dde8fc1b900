"""cti.csta.codec.fast_ber_decode: the compiled decoder gives what pyasn1 gives, or falls back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.csta import codec
from cti.csta.codec import fast_ber_decode, pdu
from cti.csta.codec.errors import CodecError
from cti.csta.codec.types import acse, rose
from cti.csta.codec.types.base import Opaque
from cti.csta.codec.types.operations import OPERATIONS_BY_CODE
from tests.csta.test_codec import (
    ALL_EXAMPLES,
    ROSE_PDUS,
    connection_ids,
    device_ids,
    reports,
)
from tests.csta.test_fast_ber import ACSE_PDUS, _schema_values

REGISTRY = pdu._registry()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.ber"))


def fast(type_name: str, data: bytes) -> Any:
    return fast_ber_decode.decode(REGISTRY[type_name], data)


def slow(type_name: str, data: bytes) -> Any:
    return pdu._pyasn1_decode(type_name, data)


def outcome(decode: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    try:
        return ("ok", decode(*args))
    except CodecError as exc:
        return (type(exc).__name__, str(exc))


def _switched_off(cls: type, data: bytes) -> Any:
    """Stands in for fast_ber_decode.decode: every codec call takes the pyasn1 path."""
    raise fast_ber_decode.Unsupported("switched off")


@contextmanager
def pyasn1_only() -> Iterator[None]:
    with mock.patch.object(codec.fast_ber_decode, "decode", _switched_off):
        yield


def check(type_name: str, data: bytes, *, must_be_fast: bool = False) -> None:
    """Fast result == pyasn1 result, or Unsupported and codec.decode == pyasn1 outcome."""
    expected = outcome(slow, type_name, data)
    assert outcome(codec.decode, type_name, data) == expected
    try:
        got = fast(type_name, data)
    except fast_ber_decode.Unsupported:
        assert not must_be_fast
        return
    assert ("ok", got) == expected


def decode_any(data: bytes) -> Any:
    if codec.classify(data) == "rose":
        return codec.decode_rose(data)
    return codec.decode_acse(data)


def check_pdu(data: bytes) -> None:
    """A whole PDU: outer type, argument by opcode, and the codec entry points."""
    for type_name in ("ROS", "ACSE-apdu"):
        check(type_name, data)
    try:
        kind, body = slow("ROS", data)
    except CodecError:
        pass
    else:
        if kind == "invoke" and "argument" in body and body["opcode"][0] == "local":
            op = OPERATIONS_BY_CODE.get(body["opcode"][1])
            if op is not None:
                check(op.argument, body["argument"])
    got = outcome(decode_any, data)
    with pyasn1_only():
        assert outcome(decode_any, data) == got


# -- examples ---------------------------------------------------------------------------
@pytest.mark.parametrize(("type_name", "value"), ALL_EXAMPLES)
def test_examples_decode_as_pyasn1_does(type_name: str, value: Any) -> None:
    data = pdu._pyasn1_encode(type_name, value)
    check(type_name, data, must_be_fast=True)
    assert codec.decode(type_name, data) == value


@pytest.mark.parametrize("pdu", ROSE_PDUS, ids=repr)
def test_rose_pdus_decode_as_pyasn1_does(pdu: Any) -> None:
    data = codec.encode_rose(pdu)
    check("ROS", data, must_be_fast=True)
    assert codec.decode_rose(data) == pdu
    with pyasn1_only():
        assert codec.decode_rose(data) == pdu


@pytest.mark.parametrize("pdu", ACSE_PDUS, ids=repr)
def test_acse_pdus_decode_as_pyasn1_does(pdu: Any) -> None:
    data = codec.encode_acse(pdu)
    check("ACSE-apdu", data, must_be_fast=True)
    got = codec.decode_acse(data)
    with pyasn1_only():
        assert codec.decode_acse(data) == got


def test_delivered_report_is_not_a_fallback() -> None:
    from bench.csta_codec import delivered_report

    pdu = delivered_report(4711)
    data = codec.encode_rose(pdu)
    kind, body = fast_ber_decode.decode(rose.ROS, data)
    assert kind == "invoke"
    argument = fast("CSTAEventReportArgument", body["argument"])
    assert argument == slow("CSTAEventReportArgument", body["argument"])
    assert codec.decode_rose(data) == pdu


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_decodes_as_pyasn1_does(path: Path) -> None:
    check_pdu(path.read_bytes())


# -- property based -----------------------------------------------------------------------
@SETTINGS
@given(device_ids)
def test_device_ids(value: dict[str, Any]) -> None:
    check("DeviceID", codec.encode("DeviceID", value), must_be_fast=True)


@SETTINGS
@given(connection_ids)
def test_connection_ids(value: Any) -> None:
    check("ConnectionID", codec.encode("ConnectionID", value), must_be_fast=True)


@SETTINGS
@given(reports, st.integers(-(2**31), 2**31 - 1))
def test_event_reports(report: dict[str, Any], invoke_id: int) -> None:
    check("CSTAEventReportArgument", codec.encode("CSTAEventReportArgument", report))
    check_pdu(codec.encode_rose(codec.Invoke(invoke_id, "cSTAEventReport", report)))


_TOP_TYPES = sorted({name for name in REGISTRY if "-" not in name})


@MANY
@given(st.data())
def test_schema_values_decode_as_pyasn1_does(data: st.DataObject) -> None:
    type_name = data.draw(st.sampled_from(_TOP_TYPES))
    value = data.draw(_schema_values(REGISTRY[type_name]()))
    try:
        encoded = pdu._pyasn1_encode(type_name, value)
    except CodecError:
        return
    check(type_name, encoded)


# -- hostile input ----------------------------------------------------------------------------
def _example_encodings() -> list[tuple[str, bytes]]:
    out = [
        (str(p.values[0]), pdu._pyasn1_encode(str(p.values[0]), p.values[1])) for p in ALL_EXAMPLES
    ]
    out += [("ROS", codec.encode_rose(pdu)) for pdu in ROSE_PDUS]
    out += [("ACSE-apdu", codec.encode_acse(pdu)) for pdu in ACSE_PDUS]
    out += [("ROS", p.read_bytes()) for p in CORPUS]
    return out


ENCODINGS = _example_encodings()


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    type_name, original = draw(st.sampled_from(ENCODINGS))
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "set", "cut", "append", "insert", "drop"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x81, 0x84, 0xFF, 0x30]))
        elif op == "cut":
            del data[pos:]
        elif op == "append":
            data += draw(st.binary(min_size=1, max_size=3))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=3))
        elif op == "drop" and data:
            del data[pos]
    return type_name, bytes(data)


@MANY
@given(mutated())
def test_mutated_encodings(sample: tuple[str, bytes]) -> None:
    type_name, data = sample
    check(type_name, data)
    if type_name == "ROS":
        check_pdu(data)


@SETTINGS
@given(st.sampled_from(_TOP_TYPES), st.binary(max_size=60))
def test_random_bytes(type_name: str, data: bytes) -> None:
    check(type_name, data)


HOSTILE = [
    ("DeviceID", "3080a0038001310000"),  # indefinite length
    ("DeviceID", "3081050103a0018000"),  # non-minimal length
    ("DeviceID", "3005a00380013100"),  # trailing byte
    ("DeviceID", "3006a004a0028000"),  # constructed encoding of a primitive
    ("DeviceID", "3005a0038301ff"),  # deviceNumber: fine
    ("DeviceID", "3004a0028300"),  # empty INTEGER
    ("DeviceID", "3005bf1f0380013100"),  # multi-octet tag
    ("ConnectionID", "6b0380016100"),  # explicit tag with extra contents
    ("UniversalFailure", "a0030a017f"),  # ENUMERATED number without a name
    ("ROS", "a1090201010201060181ff"),  # bad ANY length
    ("ROS", "a1080201010201060000"),  # end-of-contents as ANY
    ("ROS", "a30b02010902010120030a010b"),  # constructed end-of-contents tag as ANY
]


@pytest.mark.parametrize(("type_name", "hexdata"), HOSTILE, ids=lambda v: str(v))
def test_irregular_input_falls_back_to_the_same_outcome(type_name: str, hexdata: str) -> None:
    check(type_name, bytes.fromhex(hexdata))


def test_non_bytes_take_the_pyasn1_path() -> None:
    data = codec.encode("DeviceID", {"deviceIdentifier": ("dialingNumber", "1")})
    for arg in (bytearray(data), memoryview(data)):
        assert codec.decode("DeviceID", arg) == slow("DeviceID", data)
    assert outcome(codec.decode, "DeviceID", "text") == outcome(slow, "DeviceID", "text")
    assert outcome(codec.decode, "NoSuchType", data) == outcome(slow, "NoSuchType", data)
    with pytest.raises(fast_ber_decode.Unsupported):
        fast_ber_decode.decode(REGISTRY["DeviceID"], bytearray(data))  # type: ignore[arg-type]


def test_every_type_compiles() -> None:
    for cls in set(REGISTRY.values()):
        fast_ber_decode.decoder_for(cls)
    refused = {
        type(spec).__name__
        for spec, dec, _ in fast_ber_decode._CACHE.values()
        if dec.__name__ == "unsupported"
    }
    assert refused == set()
    assert any(isinstance(spec, Opaque) for spec, _, _ in fast_ber_decode._CACHE.values())


def test_acse_user_information_is_decoded_fast() -> None:
    data = codec.encode_acse(codec.aarq("cti", "secret", csta_version=(b"\x10", 4)))
    got = fast_ber_decode.decode(acse.ACSE_apdu, data)
    assert got == slow("ACSE-apdu", data)
