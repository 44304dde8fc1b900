"""Services over the CSTA link: each operation maps to the same command as the MQTT face, the
result is rendered in CSTA terms, and a refusal is a returnError universalFailure that
changes nothing (CALL-01..CALL-16)."""

from __future__ import annotations

from typing import Any

import pytest

from cti.app.config import ConfigError, CstaSettings, config_from_dict
from cti.calls.services.queries import SnapshotCall
from cti.csta import codec
from cti.csta.client import CstaClient, CstaRefused
from cti.csta.codec.types import errors as asn1_errors
from cti.csta.ids import connection, device_id, subject
from cti.csta.refusals import ERROR_TABLE
from cti.domain import CONTEXTS
from tests.csta.conftest import Link
from tests.csta.flows import Trace

ENUMS = {
    "operation": asn1_errors.OperationErrors,
    "stateIncompatibility": asn1_errors.StateIncompatibilityErrors,
    "systemResourceAvailability": asn1_errors.SystemResourceAvailabilityErrors,
}


def test_every_refusal_of_every_context_has_a_csta_value() -> None:
    """Each refusal name travels as a universalFailure value the standard defines; call
    control's own names keep their name on the wire."""
    names = set().union(*(ctx.refusals for ctx in CONTEXTS))
    assert names == set(ERROR_TABLE)
    for name, (branch, value) in ERROR_TABLE.items():
        assert value in ENUMS[branch].namedValues, name
        codec.encode("UniversalFailure", (branch, value))
    for name in CONTEXTS[0].refusals:  # the calls context speaks ECMA-269 names
        assert ERROR_TABLE[name][1] == name


async def _refused(client: CstaClient, operation: str, argument: dict[str, Any]) -> tuple[str, Any]:
    with pytest.raises(CstaRefused) as info:
        await client.invoke(operation, argument)
    return info.value.branch, info.value.value


def _dial(calling: str, called: str) -> dict[str, Any]:
    return {"callingDevice": device_id(calling), "calledDirectoryNumber": device_id(called)}


async def test_make_call_result_names_the_calling_connection(link: Link, app: CstaClient) -> None:
    result = await app.invoke("makeCall", _dial("330", "331"))
    assert result == {"callingDevice": connection(1, "330")}
    assert link.node.query(SnapshotCall(call=1)) == [
        {"device": "330", "state": "connected"},
        {"device": "331", "state": "alerting"},
    ]


async def test_make_call_to_external_e164(link: Link, app: CstaClient) -> None:
    await app.invoke("makeCall", _dial("330", "+4930123456"))
    assert [p["device"] for p in link.node.query(SnapshotCall(call=1))] == ["330", "+4930123456"]


async def test_refused_answer_changes_nothing(link: Link, app: CstaClient) -> None:
    await app.invoke("makeCall", _dial("330", "331"))
    before, seq = link.node.state, link.node.state.seq
    assert await _refused(app, "answerCall", {"callToBeAnswered": connection(1, "330")}) == (
        "stateIncompatibility",
        "noCallToAnswer",
    )
    assert link.node.state is before and link.node.state.seq == seq


PRIVATE_DATA_REFUSED = ("operation", "privateDataNotSupported")


@pytest.mark.parametrize(
    ("operation", "argument", "error"),
    [
        ("makeCall", _dial("999", "331"), ("operation", "invalidCallingDeviceID")),
        ("answerCall", {"callToBeAnswered": connection(42, "331")}, ("operation", "invalidCallID")),
        (
            "answerCall",
            {
                "callToBeAnswered": (
                    "both",
                    {"callID": b"x1", "deviceID": ("staticID", device_id("331"))},
                )
            },
            ("operation", "invalidCallID"),
        ),
        (
            "answerCall",
            {"callToBeAnswered": ("callID", b"1")},
            ("operation", "invalidConnectionID"),
        ),
        ("clearCall", {"callToBeCleared": ("callID", b"7")}, ("operation", "invalidCallID")),
        (
            "makeCall",
            {
                "callingDevice": {"deviceIdentifier": ("other", b"x")},
                "calledDirectoryNumber": device_id("331"),
            },
            ("operation", "invalidCallingDeviceID"),
        ),
        (
            "setForwarding",
            {"device": device_id("331"), "forwardingType": "forwardDND", "activateForward": True},
            ("operation", "invalidForwardingType"),
        ),
        ("getForwarding", {"device": device_id("999")}, ("operation", "invalidDeviceID")),
        ("snapshotDevice", {"snapshotObject": device_id("999")}, ("operation", "invalidDeviceID")),
        ("snapshotCall", {"snapshotObject": ("callID", b"5")}, ("operation", "invalidCallID")),
        (
            "monitorStart",
            {"monitorObject": ("deviceObject", device_id("999"))},
            ("operation", "invalidMonitorObject"),
        ),
        (
            "monitorStart",
            {"monitorObject": ("callObject", ("callID", b"1"))},  # no call 1
            ("operation", "invalidMonitorObject"),
        ),
        (
            "monitorStart",
            {"monitorObject": ("callObject", ("deviceID", ("staticID", device_id("330"))))},
            ("operation", "invalidMonitorObject"),
        ),
        (
            "monitorStart",
            {"monitorObject": ("callObject", ("callID", b"1")), "monitorType": "device"},
            ("operation", "invalidMonitorObjectType"),
        ),
        (
            "monitorStart",
            {"monitorObject": ("deviceObject", device_id("330")), "monitorType": "call"},
            ("operation", "monitorTypeNotSupported"),
        ),
        (
            "changeMonitorFilter",
            {"crossRefIdentifier": b"\xff\xff\xff\xff", "requestedFilterList": {}},
            ("operation", "invalidMonitorCrossRefID"),
        ),
        ("getDoNotDisturb", {"device": device_id("999")}, ("operation", "invalidDeviceID")),
        (
            "setDisplay",
            {"device": device_id("999"), "contentsOfDisplay": "x"},
            ("operation", "invalidDeviceID"),
        ),
        (
            "setDisplay",
            {"device": device_id("330"), "contentsOfDisplay": "Call Bernd back"},
            ("operation", "serviceNotSupported"),
        ),
        (
            "generateDigits",
            {"connectionToSendDigits": connection(7, "330"), "charactersToSend": "1"},
            ("operation", "invalidCallID"),
        ),
        (
            "generateDigits",
            {"connectionToSendDigits": ("callID", b"7"), "charactersToSend": "1"},
            ("operation", "invalidConnectionID"),
        ),
        ("escape", {"privateData": bytes.fromhex("0405") + b"hello"}, PRIVATE_DATA_REFUSED),
        ("escape", {"privateData": bytes.fromhex("e0020500")}, PRIVATE_DATA_REFUSED),
        (
            "monitorStop",
            {"crossRefIdentifier": b"\xff\xff\xff\xff"},
            ("operation", "invalidMonitorCrossRefID"),
        ),
        (
            "groupPickupCall",
            {"newDestination": device_id("332")},
            ("stateIncompatibility", "noCallToAnswer"),
        ),
        (
            "groupPickupCall",
            {"newDestination": device_id("333")},  # in no pickup group
            ("operation", "requestIncompatibleWithDevice"),
        ),
        (
            "setDoNotDisturb",
            {"device": device_id("300"), "doNotDisturbOn": True},  # attendant (CALL-14)
            ("operation", "requestIncompatibleWithDevice"),
        ),
    ],
)
async def test_refusals(
    link: Link, app: CstaClient, operation: str, argument: dict[str, Any], error: tuple[str, str]
) -> None:
    seq = link.node.state.seq
    assert await _refused(app, operation, argument) == error
    assert link.node.state.seq == seq


async def test_call_services_end_to_end(link: Link, app: CstaClient) -> None:
    """CALL-03..08 through every call-control operation, checking the node after each."""
    t = Trace(app, link.clock)

    def states(call: int) -> dict[str, str]:
        return {str(r["device"]): str(r["state"]) for r in link.node.query(SnapshotCall(call=call))}

    call = await t.make_call("330", "331")
    await t.answer(call, "331")
    await t.hold(call, "330")
    assert states(call)["330"] == "hold"
    await t.retrieve(call, "330")
    second = await t.consult(call, "330", "332")
    await t.answer(second, "332")
    await t.two_calls("alternateCall", call, second, "330")  # 331 active, 332 held
    assert states(call)["330"] == "connected" and states(second)["330"] == "hold"
    await t.two_calls("alternateCall", second, call, "330")
    await t.two_calls("reconnectCall", call, second, "330")  # drops 332, back to 331
    assert states(call) == {"330": "connected", "331": "connected"}
    second = await t.consult(call, "330", "332")
    await t.answer(second, "332")
    result = await t.two_calls("conferenceCall", call, second, "330")
    assert result["conferenceCall"] == connection(call, "330")
    assert len(result["connections"]) == 3
    await t.clear(call, "330")
    assert states(call) == {"331": "connected", "332": "connected"}
    await t.do("clearCall", {"callToBeCleared": connection(call)})
    assert link.node.state.calls.call(call) is None


async def test_single_step_transfer(link: Link, app: CstaClient) -> None:
    t = Trace(app, link.clock)
    call = await t.make_call("330", "331")
    await t.answer(call, "331")
    result = await t.do(
        "singleStepTrans",
        {"activeCall": connection(call, "331"), "transferredTo": device_id("332")},
    )
    assert result["transferredCall"][1]["callID"] == str(call).encode()
    assert {str(r["device"]) for r in link.node.query(SnapshotCall(call=call))} == {"330", "332"}


async def test_deflect_and_pickups(link: Link, app: CstaClient) -> None:
    t = Trace(app, link.clock)
    call = await t.make_call("330", "331")
    assert await t.do(
        "deflectCall",
        {"callToBeDiverted": connection(call, "331"), "newDestination": device_id("332")},
    ) == ("noData", None)
    assert link.node.query(SnapshotCall(call=call))[-1] == {"device": "332", "state": "alerting"}
    picked = await t.do(
        "directedPickupCall",
        {"callToBePickedUp": connection(call, "332"), "requestingDevice": device_id("331")},
    )
    assert picked == {"pickedCall": connection(call, "331")}
    await t.clear(call, "331")
    other = await t.make_call("332", "330")
    assert other != call
    group = await t.do("groupPickupCall", {"newDestination": device_id("331")})
    assert group == {"pickedCall": connection(other, "331")}


async def test_forwarding_and_dnd(link: Link, app: CstaClient) -> None:
    t = Trace(app, link.clock)
    await t.do(
        "setForwarding",
        {
            "device": device_id("331"),
            "forwardingType": "forwardNoAns",
            "activateForward": True,
            "forwardDN": device_id("332"),
            "ringDuration": 20,
        },
    )
    await t.do(
        "setForwarding",
        {
            "device": device_id("331"),
            "forwardingType": "forwardImmediate",
            "activateForward": True,
            "forwardDN": device_id("+4930123456"),
        },
    )
    got = await app.invoke("getForwarding", {"device": device_id("331")})
    assert got == {
        "forwardingList": [
            {
                "forwardingType": "forwardImmediate",
                "forwardStatus": True,
                "forwardDN": device_id("+4930123456"),
            },
            {
                "forwardingType": "forwardNoAns",
                "forwardStatus": True,
                "forwardDN": device_id("332"),
                "ringDuration": 20,
            },
        ]
    }
    await t.do(
        "setForwarding",
        {
            "device": device_id("331"),
            "forwardingType": "forwardImmediate",
            "activateForward": False,
        },
    )
    assert (
        len((await app.invoke("getForwarding", {"device": device_id("331")}))["forwardingList"])
        == 1
    )
    await t.do("setDoNotDisturb", {"device": device_id("330"), "doNotDisturbOn": True})
    assert link.node.state.calls.device("330").dnd


async def test_snapshots(link: Link, app: CstaClient) -> None:
    t = Trace(app, link.clock)
    call = await t.make_call("330", "331")
    device = await app.invoke("snapshotDevice", {"snapshotObject": device_id("331")})
    assert device == {
        "crossRefIDorSnapshotData": (
            "snapshotData",
            [
                {
                    "connectionIdentifier": connection(call, "331"),
                    "localCallState": ("compoundCallState", ["alerting"]),
                }
            ],
        )
    }
    snap = await app.invoke("snapshotCall", {"snapshotObject": connection(call, "330")})
    rows = snap["crossRefIDorSnapshotData"][1]
    assert [(r["deviceOnCall"], r["localConnectionState"]) for r in rows] == [
        (subject("330"), "connected"),
        (subject("331"), "alerting"),
    ]


async def test_monitor_start_returns_distinct_four_byte_cross_refs(app: CstaClient) -> None:
    first = await app.monitor_start("330")
    second = await app.monitor_start("330")
    assert len(first) == len(second) == 4 and first != second
    await app.monitor_stop(first)
    with pytest.raises(CstaRefused):
        await app.monitor_stop(first)


# -- configuration ----------------------------------------------------------------------------
_SITE: dict[str, Any] = {
    "location": {"country_code": "49", "area_code": "89", "base_number": "7007"}
}


def test_csta_section_defaults_and_values() -> None:
    assert config_from_dict(_SITE).csta == CstaSettings()
    raw = {
        **_SITE,
        "csta": {
            "user": "app",
            "password": "pw",
            "port": 9000,
            "host": "0.0.0.0",
            "framing": "length2",
        },
    }
    assert config_from_dict(raw).csta == CstaSettings("app", "pw", "0.0.0.0", 9000, "length2")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"usr": "x"}, "[csta]: unknown key 'usr'"),
        ({"port": "8800"}, "[csta]: port must be a whole number"),
        ({"port": 70000}, "[csta]: port must be a whole number"),
        ({"framing": "x"}, "[csta]: unknown framing 'x'"),
        ({"password": ""}, "[csta]: user and password must not be empty"),
        ({"user": 7}, "[csta]: user must be a string"),
        ({"host": ""}, "[csta]: host must not be empty"),
        ({"host": " "}, "[csta]: host must not be empty"),
    ],
)
def test_csta_section_validation(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config_from_dict({**_SITE, "csta": section})
