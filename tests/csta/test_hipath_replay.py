"""Conformance replay (issue 20 item 8): a HiPath / OpenScape Business application's session,
byte for byte, through a real TCP association.

The application's PDUs are written here in hex from the public description of such
applications (the AARQ with the external credentials, HiPath's factory user AMHOST / password
77777, configured as the link's ``[csta]`` account) and ECMA-285 / X.880 / X.227; so are the
switch's answers: the AARE, the systemStatus probe, the results and the event reports with
their security timestamps (the node runs on a ManualClock, so the times are known). Every
PDU is also decoded by asn1tools alone (a small ROSE module plus the shipped ECMA-285
modules) as an independent check of the hex."""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, datetime
from typing import Any

import asn1tools  # type: ignore[import-untyped]
import attrs
import pytest

from cti.accounts.commands import AccountSeed, SeedAccounts
from cti.accounts.model import Role
from cti.app.config.users import UserSpec
from cti.csta.link import monitors
from tests.csta import asn1tools_check
from tests.csta.conftest import SETTINGS, LinkFactory, Raw
from tests.csta.test_hipath_aare import HIPATH_AARE, asn1tools_aare
from tests.csta.test_hipath_association import HIPATH_AARQ

HIPATH = attrs.evolve(SETTINGS, user="AMHOST", password="77777")
AT = 8 * 3600 + 15 * 60 + 30.25  # the clock starts 2026-01-01T00:00Z: 08:15:30.250
TIMESTAMP = datetime(2026, 1, 1, 8, 15, 30, 250_000, tzinfo=UTC)

# -- the application's PDUs -----------------------------------------------------------------
SYSTEM_STATUS_OK = bytes.fromhex(
    "a20b"  # [2] ReturnResult
    "020102"  # invokeId 2 (the switch's systemStatus)
    "3006" "020200d3"  # result: opcode local 211 (systemStatus)
    "0500"  # SystemStatusRes noData
)  # fmt: skip


def monitor_start(invoke_id: int, digits: str) -> bytes:
    return bytes.fromhex(
        "a10f"  # [1] Invoke
        f"0201{invoke_id:02x}"  # invokeId
        "020147"  # opcode local 71 (monitorStart)
        "3007"  # MonitorStartArgument
        "3005" "8003" + digits.encode().hex()  # monitorObject deviceObject: dialingNumber [0]
    )  # fmt: skip


MAKE_CALL = bytes.fromhex(
    "a116"  # [1] Invoke
    "020104"  # invokeId 4
    "02010a"  # opcode local 10 (makeCall)
    "300e"  # MakeCallArgument
    "3005" "8003" "333330"  # callingDevice: dialingNumber "330"
    "3005" "8003" "333331"  # calledDirectoryNumber: dialingNumber "331"
)  # fmt: skip

# -- the switch's answers -------------------------------------------------------------------
SYSTEM_STATUS = bytes.fromhex(
    "a10c"  # [1] Invoke
    "020102"  # invokeId 2
    "020200d3"  # opcode local 211 (systemStatus)
    "3003" "0a0102"  # SystemStatusArg { systemStatus normal (2) }
)  # fmt: skip


def monitor_started(invoke_id: int, xref: int) -> bytes:
    return bytes.fromhex(
        "a210"  # [2] ReturnResult
        f"0201{invoke_id:02x}"  # invokeId
        "300b" "020147"  # result: opcode 71
        "3006" f"5504{xref:08x}"  # MonitorStartResult { crossRefIdentifier [APPLICATION 21] }
    )  # fmt: skip


CALL_1_AT = {  # ConnectionID [APPLICATION 11] both { callID [0] "1", deviceID [1] staticID }
    "330": "6b0e" "300c" "800131" "a107" "3005" "8003" "333330",
    "331": "6b0e" "300c" "800131" "a107" "3005" "8003" "333331",
}  # fmt: skip
MAKE_CALL_RESULT = bytes.fromhex(
    "a21a"  # [2] ReturnResult
    "020104"  # invokeId 4: the very next PDU after the invoke (result first)
    "3015" "02010a"  # result: opcode 10 (makeCall)
    "3010" + CALL_1_AT["330"]  # MakeCallResult { callingDevice: call 1 at 330 }
)  # fmt: skip

# CSTACommonArguments [APPLICATION 30] { security [0] { timestamp "20260101081530.25Z" } }
EXTENSIONS = "7e16a0141812" + b"20260101081530.25Z".hex()
SUBJECT = {  # [APPLICATION n] deviceIdentifier: dialingNumber [0]
    (tag, number): f"{tag:02x}07" "3005" "8003" + number.encode().hex()
    for tag in (0x61, 0x62, 0x63)  # callingDevice, calledDevice, subject (initiating...)
    for number in ("330", "331")
}  # fmt: skip


def report(invoke_id: int, xref: int, event_tag: str, event: str) -> bytes:
    """cSTAEventReport Invoke: [1] { invokeId, opcode 21, CSTAEventReportArgument
    { crossRefIdentifier, eventSpecificInfo callControlEvents [0] { event } } }."""
    body = bytes.fromhex(event + EXTENSIONS)
    specific = bytes.fromhex(event_tag) + bytes([len(body)]) + body  # [n] IMPLICIT SEQUENCE
    info = bytes([0xA0, len(specific)]) + specific  # callControlEvents [0]
    argument = bytes.fromhex(f"5504{xref:08x}") + info  # crossRefIdentifier [APPLICATION 21]
    argument = bytes([0x30, len(argument)]) + argument
    pdu = bytes.fromhex(f"0201{invoke_id:02x}020115") + argument  # invokeId, opcode 21
    return bytes([0xA1, len(pdu)]) + pdu


SERVICE_INITIATED = report(3, 1, "b0",  # serviceInitiated [16]
    CALL_1_AT["330"]  # initiatedConnection
    + SUBJECT[0x63, "330"]  # initiatingDevice
    + SUBJECT[0x62, "331"]  # calledDevice
    + "4e0101"  # localConnectionInfo [APPLICATION 14] initiated (1)
    + "0a012c"  # cause makeCall (44)
)  # fmt: skip
ORIGINATED = report(4, 1, "ad",  # originated [13]
    CALL_1_AT["330"]  # originatedConnection
    + SUBJECT[0x63, "330"]  # callingDevice (a SubjectDeviceID in this event)
    + SUBJECT[0x62, "331"]  # calledDevice
    + "4e0103"  # localConnectionInfo connected (3)
    + "0a0116"  # cause newCall (22)
)  # fmt: skip


def delivered(invoke_id: int, xref: int, local_state: str) -> bytes:
    return report(invoke_id, xref, "a4",  # delivered [4]
        CALL_1_AT["331"]  # connection
        + SUBJECT[0x63, "331"]  # alertingDevice
        + SUBJECT[0x61, "330"]  # callingDevice
        + SUBJECT[0x62, "331"]  # calledDevice
        + "64028800"  # lastRedirectionDevice [APPLICATION 4] notRequired [8] (not redirected)
        + "4e01" + local_state  # localConnectionInfo
        + "0a0116"  # cause newCall
    )  # fmt: skip


AFTER_MAKE_CALL = [
    MAKE_CALL_RESULT,
    SERVICE_INITIATED,  # to the monitor of 330 (crossRefIdentifier 1)
    ORIGINATED,
    delivered(5, 1, "03"),  # 330 sees the call delivered, its own connection connected
    delivered(6, 2, "02"),  # 331's monitor (crossRefIdentifier 2): alerting (2)
]

ROSE = """
Rose DEFINITIONS IMPLICIT TAGS ::= BEGIN
ROS ::= CHOICE {
  invoke [1] SEQUENCE { invokeId INTEGER, opcode INTEGER, argument ANY },
  returnResult [2] SEQUENCE { invokeId INTEGER, result SEQUENCE { opcode INTEGER, result ANY } } }
END
"""
ARGUMENT = {10: "MakeCallArgument", 21: "CSTAEventReportArgument", 71: "MonitorStartArgument",
            211: "SystemStatusArg"}  # fmt: skip
RESULT = {10: "MakeCallResult", 71: "MonitorStartResult", 211: "SystemStatusRes"}


def by_asn1tools(pdu: bytes) -> tuple[str, int, int, Any]:
    """(kind, invoke id, opcode, argument / result) decoded by asn1tools alone."""
    kind, body = asn1tools.compile_string(ROSE, "ber").decode("ROS", pdu)
    if kind == "invoke":
        opcode, inner, table = body["opcode"], body["argument"], ARGUMENT
    else:
        opcode, inner, table = body["result"]["opcode"], body["result"]["result"], RESULT
    return kind, body["invokeId"], opcode, asn1tools_check.decode(table[opcode], bytes(inner))


def dialing(number: str) -> dict[str, Any]:
    return {"deviceIdentifier": ("dialingNumber", number)}


def test_the_written_pdus_decode_with_asn1tools() -> None:
    assert by_asn1tools(MAKE_CALL) == (
        "invoke",
        4,
        10,
        {
            "callingDevice": dialing("330"),
            "calledDirectoryNumber": dialing("331"),
            "autoOriginate": "prompt",  # the DEFAULT, filled in
        },
    )
    assert by_asn1tools(SYSTEM_STATUS)[3] == {"systemStatus": "normal"}
    assert by_asn1tools(SYSTEM_STATUS_OK)[:3] == ("returnResult", 2, 211)
    assert by_asn1tools(monitor_started(2, 1))[3] == {"crossRefIdentifier": b"\x00\x00\x00\x01"}
    _, _, _, made = by_asn1tools(MAKE_CALL_RESULT)
    assert made["callingDevice"] == (
        "both",
        {"callID": b"1", "deviceID": ("staticID", dialing("330"))},
    )
    expected = [
        (1, "serviceInitiated", "initiated", "makeCall"),
        (1, "originated", "connected", "newCall"),
        (1, "delivered", "connected", "newCall"),
        (2, "delivered", "alerting", "newCall"),
    ]
    for pdu, (xref, name, state, cause) in zip(AFTER_MAKE_CALL[1:], expected, strict=True):
        kind, _, opcode, argument = by_asn1tools(pdu)
        assert (kind, opcode, argument["crossRefIdentifier"]) == (
            "invoke",
            21,
            bytes([0, 0, 0, xref]),
        )
        category, (event, fields) = argument["eventSpecificInfo"]
        assert (category, event) == ("callControlEvents", name)
        assert (fields["localConnectionInfo"], fields["cause"]) == (state, cause)
        assert fields["extensions"] == {"security": {"timestamp": TIMESTAMP}}
    aare, _ = asn1tools_aare(HIPATH_AARE)
    assert aare["result"] == 0


@functools.cache
def _amhost() -> AccountSeed:
    """AMHOST / 77777 as an integrator account of the node (hashed once: argon2 is slow)."""
    return UserSpec(
        "AMHOST", "HiPath application", Role.INTEGRATOR, (), frozenset(), "77777", must_change=False
    ).seed()


@pytest.mark.parametrize("where", ["csta-settings", "account"])
async def test_a_hipath_session_replays_byte_for_byte(
    make_link: LinkFactory, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """AMHOST / 77777 as the ``[csta]`` account, or as an integrator account of the node
    (the ``[csta]`` account is then another): the same bytes either way."""
    # crossRefIdentifiers count per process: this switch starts afresh, as a real one would
    monkeypatch.setattr(monitors, "_next_xref", itertools.count(1))
    monkeypatch.setattr(monitors, "_in_use", set())
    async with make_link(settings=HIPATH if where == "csta-settings" else SETTINGS) as link:
        if where == "account":
            assert (await link.engine.execute(SeedAccounts(accounts=(_amhost(),)))).ok
        link.clock.advance(AT)
        raw = await Raw.connect(link.port)
        raw.send(HIPATH_AARQ)
        assert await raw.frame() == HIPATH_AARE
        assert await raw.frame() == SYSTEM_STATUS
        (session,) = link.server.sessions
        assert session.principal == ("AMHOST" if where == "account" else None)  # None: [csta]
        raw.send(SYSTEM_STATUS_OK)
        raw.send(monitor_start(2, "330"))
        assert await raw.frame() == monitor_started(2, 1)
        raw.send(monitor_start(3, "331"))
        assert await raw.frame() == monitor_started(3, 2)
        raw.send(MAKE_CALL)
        got = [await raw.frame() for _ in AFTER_MAKE_CALL]
        assert got == AFTER_MAKE_CALL
        raw.send(bytes.fromhex("6200"))  # RLRQ
        assert await raw.eof() == [bytes.fromhex("6303800100")]  # RLRE reason normal (0)
