"""cti.csta.codec: round trips, cross-check with asn1tools, ROSE/ACSE behaviour."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.csta import codec
from cti.csta.codec import pdu as codec_pdu
from cti.csta.codec.errors import (
    CodecError,
    MistypedArgument,
    MistypedParameter,
    UnknownOperation,
    UnrecognizedError,
)
from cti.csta.codec.types import events, services
from cti.csta.codec.types.operations import ERRORS, OPERATIONS
from tests.csta import asn1tools_check
from tests.csta.examples import (
    ARGUMENTS,
    CONN_A,
    DEV_A,
    DEV_B,
    EVENTS,
    RESULTS,
    UNIVERSAL_FAILURES,
    event_report,
    full,
)

codec_types = {name: getattr(services, name) for name in [*ARGUMENTS, *RESULTS]}
EVENT_TYPES = {
    name: events.CallControlEvents.componentType[name].asn1Object
    if name in events.CallControlEvents.componentType
    else events.LogicalDeviceFeatureEvents.componentType[name].asn1Object
    for name in EVENTS
}
OPCODES_JSON = Path(__file__).parents[2] / "specs" / "csta" / "opcodes.json"

ALL_EXAMPLES = [
    pytest.param(type_name, value, id=f"{type_name}-{i}")
    for table in (ARGUMENTS, RESULTS)
    for type_name, values in table.items()
    for i, value in enumerate(values)
]
ALL_EXAMPLES += [
    pytest.param("CSTAEventReportArgument", event_report(name, ev), id=f"event-{name}")
    for name, ev in EVENTS.items()
]
ALL_EXAMPLES += [
    pytest.param(type_name, full(codec_types[type_name], values[0]), id=f"full-{type_name}")
    for table in (ARGUMENTS, RESULTS)
    for type_name, values in table.items()
    if isinstance(values[0], dict)
]
ALL_EXAMPLES += [
    pytest.param(
        "CSTAEventReportArgument",
        event_report(name, full(EVENT_TYPES[name], ev)),
        id=f"full-event-{name}",
    )
    for name, ev in EVENTS.items()
]
ALL_EXAMPLES += [
    pytest.param("UniversalFailure", value, id=f"universalFailure-{value[0]}")
    for value in UNIVERSAL_FAILURES
]


def plain(value: Any) -> Any:
    """asn1tools returns bytearray for BIT STRING data: compare as bytes."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, bytearray):
        return bytes(value)
    return value


TIME_FIELDS = {"callLinkageIDTimestamp", "threadIDTimeStamp", "timestamp"}


def with_datetimes(value: Any) -> Any:
    """asn1tools represents GeneralizedTime as datetime; we keep the text."""
    if isinstance(value, dict):
        return {
            k: _parse_time(v) if k in TIME_FIELDS else with_datetimes(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(with_datetimes(v) for v in value)
    return value


def _parse_time(text: str) -> datetime:
    for fmt in ("%Y%m%d%H%M%SZ", "%Y%m%d%H%M%S.%fZ", "%Y%m%d%H%MZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    raise AssertionError(f"unexpected GeneralizedTime {text!r}")


# -- coverage of the subset ----------------------------------------------------------
def test_every_operation_has_examples() -> None:
    for op in OPERATIONS.values():
        if op.name == "cSTAEventReport":
            continue
        assert ARGUMENTS.get(op.argument), op.argument
        assert op.result is not None and RESULTS.get(op.result), op.result


def test_all_required_events_have_examples() -> None:
    required = {
        "originated delivered established held retrieved connectionCleared callCleared diverted"
        " failed networkReached transferred conferenced offered serviceInitiated digitsDialed"
        " queued doNotDisturb forwarding"
    }
    assert set(next(iter(required)).split()) == set(EVENTS)


def test_operation_table_matches_opcodes_json() -> None:
    data = json.loads(OPCODES_JSON.read_text())
    for name, entry in data.items():
        table = OPERATIONS if entry["kind"] == "OPERATION" else ERRORS
        op = table[name]
        assert (op.code, op.argument, op.result) == (
            entry["code"],
            entry["argument"],
            entry["result"],
        )
    assert len(data) == len(OPERATIONS) + len(ERRORS)


# -- round trips --------------------------------------------------------------------
@pytest.mark.parametrize(("type_name", "value"), ALL_EXAMPLES)
def test_round_trip(type_name: str, value: Any) -> None:
    data = codec.encode(type_name, value)
    assert codec.decode(type_name, data) == value
    assert codec.encode(type_name, codec.decode(type_name, data)) == data


# Open types: our value is the whole TLV, asn1tools' the value of the type the module names.
OPEN_TYPES = {"EscapeArgument": {"privateData": "CSTAPrivateData"}}


def as_asn1tools(type_name: str, value: Any) -> Any:
    """``value`` as asn1tools represents it: times as datetimes, open types decoded."""
    value = with_datetimes(value)
    for field, inner in OPEN_TYPES.get(type_name, {}).items():
        value = {**value, field: plain(asn1tools_check.decode(inner, value[field]))}
    return value


@pytest.mark.parametrize(("type_name", "value"), ALL_EXAMPLES)
def test_asn1tools_decodes_our_encoding(type_name: str, value: Any) -> None:
    data = codec.encode(type_name, value)
    assert plain(asn1tools_check.decode(type_name, data)) == as_asn1tools(type_name, value)


@pytest.mark.parametrize(("type_name", "value"), ALL_EXAMPLES)
def test_we_decode_asn1tools_encoding(type_name: str, value: Any) -> None:
    data = asn1tools_check.encode(type_name, as_asn1tools(type_name, value))
    assert with_datetimes(codec.decode(type_name, data)) == with_datetimes(value)
    # asn1tools encodes TRUE as 0xff (pyasn1: 0x01) and drops zero seconds in times
    if "True" not in repr(value) and "Timestamp" not in repr(value):
        assert codec.encode(type_name, value) == data


def test_defaults_are_filled_in_on_decode() -> None:
    data = codec.encode(
        "MakeCallArgument", {"callingDevice": DEV_A, "calledDirectoryNumber": DEV_B}
    )
    assert codec.decode("MakeCallArgument", data)["autoOriginate"] == "prompt"


def test_known_make_call_invoke_bytes() -> None:
    invoke = codec.Invoke(1, "makeCall", {"callingDevice": DEV_A, "calledDirectoryNumber": DEV_A})
    assert codec.encode_rose(invoke).hex() == (
        "a11802010102010a301030068004343731313006800434373131"
    )


def test_spec_example_bytes() -> None:
    """specs/csta-codec.md shows the encoded and framed makeCall invoke."""
    from cti.csta.codec.framing import encode_frame

    spec = (Path(__file__).resolve().parents[2] / "specs" / "csta-codec.md").read_text("utf-8")
    blocks = [bytes.fromhex(b) for b in re.findall(r"```text\n(.*?)```", spec, re.S)]
    arg = {
        "callingDevice": DEV_A,
        "calledDirectoryNumber": {"deviceIdentifier": ("dialingNumber", "0123")},
    }
    invoke = codec.encode_rose(codec.Invoke(1, "makeCall", arg))
    assert blocks[:2] == [invoke, encode_frame(invoke)]


def test_extensions_are_decoded_and_private_data_skipped() -> None:
    data = codec.encode("HoldCallArgument", {"callToBeHeld": ("callID", b"1")})
    # append extensions: [APPLICATION 30] { security [0] { timestamp "20261207081530Z" },
    # privateData [1] { string 'hi' } }
    ext = bytes.fromhex("7e19a011180f" + b"20261207081530Z".hex() + "a1040402" + b"hi".hex())
    patched = bytes([data[0], data[1] + len(ext)]) + data[2:] + ext
    assert codec.decode("HoldCallArgument", patched) == {
        "callToBeHeld": ("callID", b"1"),
        "extensions": {"security": {"timestamp": "20261207081530Z"}},
    }
    assert codec.decode("HoldCallResult", bytes.fromhex("7e00")) == ("extensions", {})
    only_private = bytes.fromhex("7e06a1040402" + b"hi".hex())
    assert codec.decode("HoldCallResult", only_private) == ("extensions", {})


@pytest.mark.parametrize(
    ("security", "decoded"),
    [
        ("180e" + b"20261207081530".hex(), {"timestamp": "20261207081530"}),  # local time
        ("1813" + b"20261207081530+0100".hex(), {"timestamp": "20261207081530+0100"}),
        ("180178", {"timestamp": "x"}),  # the text is not checked on decode
        # a UTCTime where TimeInfo belongs (some switches): kept as the open field after it
        (
            "170d" + b"250301160723Z".hex(),
            {"securityInfo": bytes.fromhex("170d") + b"250301160723Z"},
        ),
        ("80010104026869", {"messageSequenceNumber": 1, "securityInfo": b"\x04\x02hi"}),
    ],
)
def test_incoming_security_data_is_accepted_as_sent(security: str, decoded: dict[str, Any]) -> None:
    """Applications' extensions decode whatever their timestamp looks like: a report or an
    invoke is never refused for its security data."""
    inner = bytes.fromhex(security)
    ext = bytes([0x7E, len(inner) + 2, 0xA0, len(inner)]) + inner
    data = codec.encode("HoldCallArgument", {"callToBeHeld": ("callID", b"1")})
    patched = bytes([data[0], data[1] + len(ext)]) + data[2:] + ext
    expected = {"callToBeHeld": ("callID", b"1"), "extensions": {"security": decoded}}
    assert codec.decode("HoldCallArgument", patched) == expected
    assert codec_pdu._pyasn1_decode("HoldCallArgument", patched) == expected


def test_security_info_keeps_whatever_type_it_carries() -> None:
    """SecurityInfo's ``private`` alternative is the vendor's own type: the TLV is kept as
    bytes, and asn1tools (which knows only the standard's OCTET STRING / NULL) agrees on
    the standard ones."""
    for info, standard in ((b"\x04\x02hi", ("string", b"hi")), (b"\x05\x00", ("private", None))):
        value = {"security": {"securityInfo": info}}
        data = codec.encode("CSTACommonArguments", value)
        assert data == bytes([0x7E, len(info) + 2, 0xA0, len(info)]) + info
        assert codec.decode("CSTACommonArguments", data) == value
        assert plain(asn1tools_check.decode("CSTACommonArguments", data)) == {
            "security": {"securityInfo": standard}
        }
    vendor = {"security": {"securityInfo": bytes.fromhex("3003020101")}}  # a SEQUENCE
    assert codec.decode("CSTACommonArguments", codec.encode("CSTACommonArguments", vendor)) == (
        vendor
    )


def test_opaque_fields_are_refused_on_encode() -> None:
    with pytest.raises(CodecError, match="not supported"):
        codec.encode(
            "HoldCallArgument", {"callToBeHeld": CONN_A, "extensions": {"privateData": b""}}
        )


@pytest.mark.parametrize(
    ("type_name", "value"),
    [
        ("MakeCallArgument", {"callingDevice": DEV_A}),  # mandatory field missing
        ("MakeCallArgument", {"callingDevice": DEV_A, "calledDirectoryNumber": DEV_B, "x": 1}),
        ("HoldCallArgument", {"callToBeHeld": ("nonsense", b"")}),
        ("HoldCallArgument", {"callToBeHeld": CONN_A, "connectionReservation": "yes"}),
        ("ClearCallArgument", {"callToBeCleared": CONN_A, "reason": "noSuchCause"}),
        ("SetForwardingArgument", {"device": DEV_A, "activateForward": True, "ringCount": 101}),
        ("MonitorStartArgument", {"monitorObject": ("deviceObject", DEV_A), "monitorType": 1}),
        ("NoSuchType", {}),
    ],
)
def test_bad_values_raise_codec_error(type_name: str, value: Any) -> None:
    with pytest.raises(CodecError):
        codec.encode(type_name, value)


def test_decode_rejects_trailing_bytes() -> None:
    data = codec.encode("RetrieveCallArgument", {"callToBeRetrieved": CONN_A})
    with pytest.raises(CodecError, match="trailing"):
        codec.decode("RetrieveCallArgument", data + b"\x00")


def test_bit_helpers() -> None:
    value = codec.named_bits(["delivered", "established", "transferred"], "CallControlEvents")
    assert value[1] == 14
    assert codec.bit_names(value, "CallControlEvents") == {
        "delivered",
        "established",
        "transferred",
    }
    assert codec.named_bits([], "CallControlEvents") == (b"", 0)
    with pytest.raises(CodecError):
        codec.named_bits(["nope"], "CallControlEvents")


# -- ROSE --------------------------------------------------------------------------
ROSE_PDUS = [
    codec.Invoke(1, "makeCall", ARGUMENTS["MakeCallArgument"][0]),
    codec.Invoke(2**31 - 1, "monitorStart", ARGUMENTS["MonitorStartArgument"][1]),
    codec.Invoke(-5, "cSTAEventReport", event_report("delivered", EVENTS["delivered"])),
    codec.Invoke(3, "answerCall", ARGUMENTS["AnswerCallArgument"][0], linked_id=2),
    codec.ReturnResult(1, "makeCall", RESULTS["MakeCallResult"][0]),
    codec.ReturnResult(7),
    codec.ReturnResult(8, "clearConnection", ("noData", None)),
    codec.ReturnError(9, "universalFailure", ("operation", "invalidCallID")),
    codec.Reject(None, ("general", "badlyStructuredPDU")),
    codec.Reject(10, ("invoke", "unrecognizedOperation")),
    codec.Reject(11, ("returnError", "mistypedParameter")),
]


@pytest.mark.parametrize("pdu", ROSE_PDUS, ids=repr)
def test_rose_round_trip(pdu: Any) -> None:
    data = codec.encode_rose(pdu)
    assert codec.classify(data) == "rose"
    assert codec.decode_rose(data) == pdu


def test_rose_accepts_integer_opcodes() -> None:
    pdu = codec.Invoke(1, 10, ARGUMENTS["MakeCallArgument"][0])
    decoded = codec.decode_rose(codec.encode_rose(pdu))
    assert isinstance(decoded, codec.Invoke)
    assert decoded.opcode == "makeCall"


@pytest.mark.parametrize("invoke_id", [2**31, -(2**31) - 1])
def test_invoke_id_limited_to_four_bytes(invoke_id: int) -> None:
    with pytest.raises(CodecError):
        codec.encode_rose(codec.Invoke(invoke_id, "makeCall", ARGUMENTS["MakeCallArgument"][0]))
    # a peer sending a 5-byte id gets a general reject, not a crash
    data = bytes.fromhex("a10a0205") + invoke_id.to_bytes(5, "big", signed=True)
    with pytest.raises(CodecError, match="4 bytes"):
        codec.decode_rose(data + bytes.fromhex("020102"))


def test_unknown_operation_carries_invoke_id_and_opcode() -> None:
    data = bytes.fromhex("a10b020117020203e730020500")  # opcode 999
    with pytest.raises(UnknownOperation) as info:
        codec.decode_rose(data)
    assert (info.value.invoke_id, info.value.opcode) == (0x17, 999)
    assert info.value.problem == ("invoke", "unrecognizedOperation")


def test_mistyped_argument_carries_invoke_id() -> None:
    good = codec.encode_rose(codec.Invoke(42, "holdCall", {"callToBeHeld": CONN_A}))
    # swap the argument for a retrieveCall one with a bad inner tag
    bad = good[:8] + bytes.fromhex("3003800101")
    bad = bytes([bad[0], len(bad) - 2]) + bad[2:]
    with pytest.raises(MistypedArgument) as info:
        codec.decode_rose(bad)
    assert info.value.invoke_id == 42
    assert info.value.problem == ("invoke", "mistypedArgument")


def test_invoke_without_argument_is_mistyped() -> None:
    with pytest.raises(MistypedArgument):
        codec.decode_rose(bytes.fromhex("a106020101020102"))


def test_return_error_problems() -> None:
    with pytest.raises(UnrecognizedError):
        codec.decode_rose(bytes.fromhex("a306020101020163"))
    with pytest.raises(MistypedParameter):
        codec.decode_rose(bytes.fromhex("a30b020101020101a0030a01ff"))


@pytest.mark.parametrize("data", ["", "00", "a1", "a10100", "30020500", "a4020500"])
def test_broken_rose_pdus_raise_codec_error(data: str) -> None:
    with pytest.raises(CodecError) as info:
        codec.decode_rose(bytes.fromhex(data))
    assert info.value.invoke_id is None
    assert info.value.problem[0] == "general"


# -- ACSE --------------------------------------------------------------------------
def test_aarq_round_trip_and_credentials() -> None:
    pdu = codec.aarq("cti-user", "s3cret")
    data = codec.encode_acse(pdu)
    assert codec.classify(data) == "acse"
    decoded = codec.decode_acse(data)
    assert decoded[0] == "aarq"
    body = decoded[1]
    assert body["aSO-context-name"] == "1.3.12.0.218"
    assert body["mechanism-name"] == "2.2.3.1"
    assert codec.bit_names(body["sender-acse-requirements"], "ACSE-requirements") == {
        "authentication"
    }
    assert codec.aarq_credentials(decoded) == ("cti-user", "s3cret")


def test_aarq_with_csta_user_information() -> None:
    version = codec.named_bits(["versionFive"], "CSTAVersion")
    decoded = codec.decode_acse(codec.encode_acse(codec.aarq("u", "p", csta_version=version)))
    (external,) = decoded[1]["user-information"]
    kind, inner = external["encoding"]
    assert kind == "single-ASN1-type"
    assert codec.decode("ACSEUserInformationForCSTA", inner) == (
        "newDefinition",
        {"cSTAVersion": version},
    )


@pytest.mark.parametrize(
    ("accepted", "diagnostic", "result", "code"),
    [(True, "null", 0, 0), (False, "authentication-failure", 1, 13)],
)
def test_aare(accepted: bool, diagnostic: str, result: int, code: int) -> None:
    kind, body = codec.decode_acse(codec.encode_acse(codec.aare(accepted, diagnostic)))
    assert kind == "aare"
    assert body["result"] == result
    assert body["result-source-diagnostic"] == ("acse-service-user", code)


@pytest.mark.parametrize(
    "pdu",
    [
        ("abrt", {"abort-source": 1, "abort-diagnostic": "protocol-error"}),
        ("rlrq", {"reason": 0}),
        ("rlre", {}),
    ],
)
def test_other_acse_apdus(pdu: Any) -> None:
    assert codec.decode_acse(codec.encode_acse(pdu)) == pdu


def test_classify() -> None:
    assert codec.classify(bytes.fromhex("a303")) == "rose"
    assert codec.classify(bytes.fromhex("6000")) == "acse"
    for bad in (b"", b"\x30\x00", b"\x65\x00"):
        with pytest.raises(CodecError):
            codec.classify(bad)


def test_decode_rose_refuses_acse_and_vice_versa() -> None:
    with pytest.raises(CodecError):
        codec.decode_rose(codec.encode_acse(codec.aare(True)))
    with pytest.raises(CodecError):
        codec.decode_acse(codec.encode_rose(codec.ReturnResult(1)))


# -- property based -------------------------------------------------------------------
ia5 = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
device_ids = st.fixed_dictionaries(
    {
        "deviceIdentifier": st.one_of(
            st.tuples(st.just("dialingNumber"), ia5),
            st.tuples(st.just("deviceNumber"), st.integers(-(2**40), 2**40)),
            st.tuples(st.just("implicitPublic"), ia5),
            st.tuples(
                st.just("explicitPublic"),
                st.tuples(st.sampled_from(["unknown", "international", "national"]), ia5),
            ),
            st.tuples(st.just("implicitPrivate"), ia5),
            st.tuples(st.just("explicitPrivate"), st.tuples(st.just("localNumber"), ia5)),
            st.tuples(st.just("other"), st.binary(max_size=6)),
        )
    },
    optional={"privateNumber": ia5, "privateName": ia5},
)
local_device_ids = st.one_of(
    st.tuples(st.just("staticID"), device_ids),
    st.tuples(st.just("dynamicID"), st.binary(max_size=6)),
)
call_ids = st.binary(max_size=8)
connection_ids = st.one_of(
    st.tuples(st.just("callID"), call_ids),
    st.tuples(st.just("deviceID"), local_device_ids),
    st.tuples(
        st.just("both"), st.fixed_dictionaries({"callID": call_ids, "deviceID": local_device_ids})
    ),
)
subject_ids = st.one_of(
    st.tuples(st.just("deviceIdentifier"), device_ids),
    st.tuples(st.sampled_from(["notKnown", "restricted"]), st.none()),
)
causes = st.sampled_from(
    ["newCall", "normalClearing", "busy", "transfer", "redirected", "callPickup"]
)
conn_states = st.sampled_from(
    ["null", "initiated", "alerting", "connected", "hold", "queued", "fail"]
)


def _call_event(conn: str, subject: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            conn: connection_ids,
            subject: subject_ids,
            "callingDevice": subject_ids,
            "calledDevice": subject_ids,
            "lastRedirectionDevice": st.one_of(
                st.tuples(st.just("numberdialed"), device_ids),
                st.tuples(st.sampled_from(["notKnown", "notRequired", "notSpecified"]), st.none()),
            ),
            "cause": causes,
        },
        optional={
            "localConnectionInfo": conn_states,
            "correlatorData": st.binary(max_size=4),
            "userData": st.binary(max_size=4),
            "originatingNIDConnection": connection_ids,
        },
    )


event_choices = st.one_of(
    st.tuples(st.just("delivered"), _call_event("connection", "alertingDevice")),
    st.tuples(st.just("established"), _call_event("establishedConnection", "answeringDevice")),
    st.tuples(st.just("failed"), _call_event("failedConnection", "failingDevice")),
    st.tuples(
        st.just("connectionCleared"),
        st.fixed_dictionaries(
            {"droppedConnection": connection_ids, "releasingDevice": subject_ids, "cause": causes},
            optional={"localConnectionInfo": conn_states},
        ),
    ),
    st.tuples(
        st.just("held"),
        st.fixed_dictionaries(
            {"heldConnection": connection_ids, "holdingDevice": subject_ids, "cause": causes}
        ),
    ),
)
reports = st.builds(
    lambda ev, xref: event_report(ev[0], ev[1], xref),
    event_choices,
    st.binary(min_size=1, max_size=4),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(device_ids)
def test_device_id_round_trip(value: dict[str, Any]) -> None:
    data = codec.encode("DeviceID", value)
    assert codec.decode("DeviceID", data) == value
    assert plain(asn1tools_check.decode("DeviceID", data)) == value


@FAST
@given(connection_ids)
def test_connection_id_round_trip(value: Any) -> None:
    data = codec.encode("ConnectionID", value)
    assert codec.decode("ConnectionID", data) == value
    assert asn1tools_check.encode("ConnectionID", value) == data


@FAST
@given(reports, st.integers(-(2**31), 2**31 - 1))
def test_event_report_round_trip(report: dict[str, Any], invoke_id: int) -> None:
    data = codec.encode("CSTAEventReportArgument", report)
    assert codec.decode("CSTAEventReportArgument", data) == report
    assert plain(asn1tools_check.decode("CSTAEventReportArgument", data)) == report
    pdu = codec.Invoke(invoke_id, "cSTAEventReport", report)
    assert codec.decode_rose(codec.encode_rose(pdu)) == pdu


def test_boolean_true_is_the_octet_ff_on_both_encoder_paths() -> None:
    """HiPath / OpenScape switches write TRUE as 0xFF (as DER and CER do); applications
    written against them may compare the octet (issue 20 item 7)."""
    from cti.csta.codec import pdu as codec_pdu
    from cti.csta.ids import device_id

    value = {"device": device_id("330"), "doNotDisturbOn": True}
    fast = codec.encode("SetDoNotDisturbArgument", value)
    slow = codec_pdu._pyasn1_encode("SetDoNotDisturbArgument", value)
    assert fast == slow and fast.endswith(b"\x01\x01\xff")
    assert codec.decode("SetDoNotDisturbArgument", fast)["doNotDisturbOn"] is True


@pytest.mark.parametrize(
    ("hex_body", "private"),
    [
        ("8001aa0403414243", "0403414243"),  # escapeRegisterID [0] implicit, OCTET STRING
        ("a0030401aa30038001050500", "0500"),  # [0] explicit, security, NULL
        ("e0020500", "e0020500"),  # a vendor's own [PRIVATE 0] type
    ],
)
def test_escape_accepts_any_private_data(hex_body: str, private: str) -> None:
    """CSTAPrivateData is whatever the manufacturer put in place of NULL: an open type.
    The escape register id and the security data are skipped (specs/csta-codec.md)."""
    from cti.csta.codec import pdu as codec_pdu

    body = bytes.fromhex(hex_body)
    data = bytes([0x30, len(body)]) + body
    expected = {"privateData": bytes.fromhex(private)}
    assert codec.decode("EscapeArgument", data) == expected
    assert codec_pdu._pyasn1_decode("EscapeArgument", data) == expected
