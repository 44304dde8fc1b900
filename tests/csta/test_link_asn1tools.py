"""An "unmodified" CSTA application: built only from asn1tools (the standard ECMA-285 modules
compiled by tests/csta/asn1tools_check.py, plus ROSE and ACSE transcribed from X.880 / X.227)
and a hand-made frame header. It shares no code with cti.csta, so it catches any place where
our codec and server agree with each other but not with the standard."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import asn1tools

from cti.calls import events as ev
from tests.csta.asn1tools_check import compiled
from tests.csta.conftest import SETTINGS, TIMEOUT, Link

ROSE_ACSE = """
Link-ROSE DEFINITIONS IMPLICIT TAGS ::= BEGIN
ROS ::= CHOICE {
  invoke [1] Invoke, returnResult [2] ReturnResult, returnError [3] ReturnError, reject [4] Reject }
InvokeId ::= CHOICE { present INTEGER, absent NULL }
Code ::= CHOICE { local INTEGER, global OBJECT IDENTIFIER }
Invoke ::= SEQUENCE {
  invokeId InvokeId,
  linkedId CHOICE { present [0] IMPLICIT INTEGER, absent [1] IMPLICIT NULL } OPTIONAL,
  opcode Code,
  argument ANY OPTIONAL }
ReturnResult ::= SEQUENCE {
  invokeId InvokeId, result SEQUENCE { opcode Code, result ANY } OPTIONAL }
ReturnError ::= SEQUENCE { invokeId InvokeId, errcode Code, parameter ANY OPTIONAL }
Reject ::= SEQUENCE { invokeId InvokeId, problem CHOICE {
  general [0] INTEGER, invoke [1] INTEGER, returnResult [2] INTEGER, returnError [3] INTEGER } }
END

Link-ACSE DEFINITIONS ::= BEGIN
ACSE-apdu ::= CHOICE {
  aarq AARQ-apdu, aare AARE-apdu, rlrq RLRQ-apdu, rlre RLRE-apdu, abrt ABRT-apdu }
AP-title ::= CHOICE { ap-title-form2 OBJECT IDENTIFIER, ap-title-form3 PrintableString }
Authentication-value ::= CHOICE {
  charstring [0] IMPLICIT GraphicString, bitstring [1] IMPLICIT BIT STRING }
AARQ-apdu ::= [APPLICATION 0] IMPLICIT SEQUENCE {
  protocol-version [0] IMPLICIT BIT STRING { version1(0) } DEFAULT { version1 },
  aSO-context-name [1] OBJECT IDENTIFIER,
  calling-AP-title [6] AP-title OPTIONAL,
  sender-acse-requirements [10] IMPLICIT BIT STRING { authentication(0) } OPTIONAL,
  mechanism-name [11] IMPLICIT OBJECT IDENTIFIER OPTIONAL,
  calling-authentication-value [12] Authentication-value OPTIONAL }
AARE-apdu ::= [APPLICATION 1] IMPLICIT SEQUENCE {
  protocol-version [0] IMPLICIT BIT STRING { version1(0) } DEFAULT { version1 },
  aSO-context-name [1] OBJECT IDENTIFIER,
  result [2] INTEGER,
  result-source-diagnostic [3] CHOICE {
    acse-service-user [1] INTEGER, acse-service-provider [2] INTEGER } }
RLRQ-apdu ::= [APPLICATION 2] IMPLICIT SEQUENCE { reason [0] IMPLICIT INTEGER OPTIONAL }
RLRE-apdu ::= [APPLICATION 3] IMPLICIT SEQUENCE { reason [0] IMPLICIT INTEGER OPTIONAL }
ABRT-apdu ::= [APPLICATION 4] IMPLICIT SEQUENCE {
  abort-source [0] IMPLICIT INTEGER, abort-diagnostic [1] IMPLICIT ENUMERATED {
    no-reason-given(1), protocol-error(2), authentication-mechanism-name-not-recognized(3),
    authentication-mechanism-name-required(4), authentication-failure(5),
    authentication-required(6) } OPTIONAL }
END
"""
# Operation codes from ECMA-285 (opcodes.json), written out: the client owns its tables.
OPS = {
    "answerCall": (2, "AnswerCallArgument", "AnswerCallResult"),
    "clearCall": (4, "ClearCallArgument", "ClearCallResult"),
    "conferenceCall": (6, "ConferenceCallArgument", "ConferenceCallResult"),
    "consultationCall": (7, "ConsultationCallArgument", "ConsultationCallResult"),
    "makeCall": (10, "MakeCallArgument", "MakeCallResult"),
    "transferCall": (16, "TransferCallArgument", "TransferCallResult"),
    "monitorStart": (71, "MonitorStartArgument", "MonitorStartResult"),
    "deflectCall": (218, "DeflectCallArgument", "DeflectCallResult"),
    "directedPickupCall": (220, "DirectedPickupCallArgument", "DirectedPickupCallResult"),
    "groupPickupCall": (221, "GroupPickupCallArgument", "GroupPickupCallResult"),
    # issue 20 item 6
    "holdCall": (9, "HoldCallArgument", "HoldCallResult"),
    "retrieveCall": (14, "RetrieveCallArgument", "RetrieveCallResult"),
    "escape": (51, "EscapeArgument", "EscapeResult"),
    "changeMonitorFilter": (72, "ChangeMonitorFilterArgument", "ChangeMonitorFilterResult"),
    "monitorStop": (73, "MonitorStopArgument", "MonitorStopResult"),
    "generateDigits": (232, "GenerateDigitsArgument", "GenerateDigitsResult"),
    "setDisplay": (274, "SetDisplayArgument", "SetDisplayResult"),
    "getDoNotDisturb": (308, "GetDoNotDisturbArgument", "GetDoNotDisturbResult"),
}
EVENT_REPORT, SYSTEM_STATUS = 21, 211


@functools.cache
def link_spec() -> Any:
    return asn1tools.compile_string(ROSE_ACSE, "ber")


def dev(number: str) -> dict[str, Any]:
    return {"deviceIdentifier": ("dialingNumber", number)}


def conn(call: bytes, number: str) -> Any:
    return ("both", {"callID": call, "deviceID": ("staticID", dev(number))})


class Asn1toolsApp:
    """Siemens framing: 0x26, 15-bit length with the top bit set, APDU."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.csta, self.link = compiled(), link_spec()
        self.next_id = 100
        self.reports: list[tuple[bytes, str, dict[str, Any]]] = []

    def send(self, apdu: bytes) -> None:
        self.writer.write(bytes((0x26, 0x80 | len(apdu) >> 8, len(apdu) & 0xFF)) + apdu)

    async def frame(self) -> bytes:
        head = await asyncio.wait_for(self.reader.readexactly(3), TIMEOUT)
        assert head[0] == 0x26 and head[1] & 0x80
        return await self.reader.readexactly((head[1] & 0x7F) << 8 | head[2])

    async def associate(self, user: str, password: str) -> None:
        aarq = {
            "aSO-context-name": "1.3.12.0.218",
            "calling-AP-title": ("ap-title-form3", user),
            "sender-acse-requirements": (b"\x80", 1),
            "mechanism-name": "2.2.3.1",
            "calling-authentication-value": ("charstring", password),
        }
        self.send(self.link.encode("ACSE-apdu", ("aarq", aarq)))
        kind, aare = self.link.decode("ACSE-apdu", await self.frame())
        assert kind == "aare" and aare["result"] == 0, aare

    async def invoke(self, name: str, argument: Any) -> Any:
        kind, pdu = await self.answer(name, argument)
        assert kind == "returnResult", (kind, pdu)
        code, _, result_type = OPS[name]
        assert pdu["result"]["opcode"] == ("local", code)
        return self.csta.decode(result_type, bytes(pdu["result"]["result"]))

    async def refused(self, name: str, argument: Any) -> Any:
        """The UniversalFailure of a returnError (error code 1)."""
        kind, pdu = await self.answer(name, argument)
        assert kind == "returnError" and pdu["errcode"] == ("local", 1), (kind, pdu)
        return self.csta.decode("UniversalFailure", bytes(pdu["parameter"]))

    async def answer(self, name: str, argument: Any) -> tuple[str, Any]:
        code, arg_type, _ = OPS[name]
        self.next_id += 1
        invoke = {
            "invokeId": ("present", self.next_id),
            "opcode": ("local", code),
            "argument": self.csta.encode(arg_type, argument),
        }
        self.send(self.link.encode("ROS", ("invoke", invoke)))
        while True:
            kind, pdu = self.link.decode("ROS", await self.frame())
            if kind == "invoke":
                self.on_invoke(pdu)
                continue
            assert pdu["invokeId"] == ("present", self.next_id), pdu
            return kind, pdu

    def on_invoke(self, pdu: dict[str, Any]) -> None:
        code = pdu["opcode"][1]
        if code == SYSTEM_STATUS:
            assert self.csta.decode("SystemStatusArg", bytes(pdu["argument"])) == {
                "systemStatus": "normal"
            }
            result = {
                "opcode": ("local", SYSTEM_STATUS),
                "result": self.csta.encode("SystemStatusRes", ("noData", None)),
            }
            self.send(
                self.link.encode(
                    "ROS", ("returnResult", {"invokeId": pdu["invokeId"], "result": result})
                )
            )
        else:
            assert code == EVENT_REPORT, code
            report = self.csta.decode("CSTAEventReportArgument", bytes(pdu["argument"]))
            _category, (name, value) = report["eventSpecificInfo"]
            self.reports.append((report["crossRefIdentifier"], name, value))

    async def release(self) -> None:
        self.send(self.link.encode("ACSE-apdu", ("rlrq", {"reason": 0})))
        while True:
            frame = await self.frame()
            if frame[0] & 0xE0 == 0x60:  # an ACSE APDU
                assert self.link.decode("ACSE-apdu", frame)[0] == "rlre"
                return
            self.on_invoke(self.link.decode("ROS", frame)[1])


async def test_asn1tools_client_drives_the_link(link: Link) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
    app = Asn1toolsApp(reader, writer)
    await app.associate("cti", SETTINGS.password)
    where: dict[bytes, str] = {}
    for device in ("330", "331"):
        result = await app.invoke("monitorStart", {"monitorObject": ("deviceObject", dev(device))})
        where[result["crossRefIdentifier"]] = device
    start = len(link.committed)

    async def call(a: str, b: str) -> bytes:
        made = await app.invoke(
            "makeCall", {"callingDevice": dev(a), "calledDirectoryNumber": dev(b)}
        )
        kind, ids = made["callingDevice"]
        assert kind == "both" and ids["deviceID"] == ("staticID", dev(a))
        return bytes(ids["callID"])

    async def consult(call_id: bytes) -> bytes:
        await app.invoke("answerCall", {"callToBeAnswered": conn(call_id, "331")})
        made = await app.invoke(
            "consultationCall",
            {"existingCall": conn(call_id, "330"), "consultedDevice": dev("332")},
        )
        second = bytes(made["initiatedCall"][1]["callID"])
        await app.invoke("answerCall", {"callToBeAnswered": conn(second, "332")})
        return second

    first = await call("330", "331")
    second = await consult(first)
    done = await app.invoke(
        "transferCall", {"heldCall": conn(first, "330"), "activeCall": conn(second, "330")}
    )
    assert done["transferredCall"] == ("callID", first)
    await app.invoke("clearCall", {"callToBeCleared": ("callID", first)})
    third = await call("330", "331")
    fourth = await consult(third)
    await app.invoke(
        "conferenceCall", {"heldCall": conn(third, "330"), "activeCall": conn(fourth, "330")}
    )
    await app.invoke("clearCall", {"callToBeCleared": ("callID", third)})
    fifth = await call("330", "331")
    await app.invoke(
        "deflectCall", {"callToBeDiverted": conn(fifth, "331"), "newDestination": dev("332")}
    )
    picked = await app.invoke(
        "directedPickupCall",
        {"callToBePickedUp": conn(fifth, "332"), "requestingDevice": dev("331")},
    )
    assert picked["pickedCall"] == conn(fifth, "331")
    await app.invoke("clearCall", {"callToBeCleared": ("callID", fifth)})
    sixth = await call("330", "332")
    picked = await app.invoke("groupPickupCall", {"newDestination": dev("331")})
    assert picked["pickedCall"] == conn(sixth, "331")
    await app.release()  # reads every report still in flight

    expected = []
    for item in link.committed[start:]:
        event = item.event
        if isinstance(event, ev.CallEvent):
            for entry in event.local:
                if entry.device in ("330", "331"):
                    expected.append((entry.device, event.KIND, str(event.cause), str(entry.state)))
    got = [
        (where[xref], name, value["cause"], value.get("localConnectionInfo", "null"))
        for xref, name, value in app.reports
    ]
    assert got == expected
    names = {name for _, name, _ in app.reports}
    assert {
        "delivered",
        "established",
        "held",
        "transferred",
        "conferenced",
        "diverted",
        "callCleared",
    } <= names
    writer.close()


async def test_asn1tools_client_uses_the_hipath_services(link: Link) -> None:
    """Issue 20 item 6 from an application built only from asn1tools: getDoNotDisturb,
    changeMonitorFilter, a call monitor, generateDigits, and the refusals of setDisplay and
    escape (its private data encoded by asn1tools as ECMA-285 spells CSTAPrivateData)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
    app = Asn1toolsApp(reader, writer)
    await app.associate("cti", SETTINGS.password)
    assert await app.invoke("getDoNotDisturb", {"device": dev("331")}) == {"doNotDisturbOn": False}
    made = await app.invoke(
        "makeCall", {"callingDevice": dev("330"), "calledDirectoryNumber": dev("331")}
    )
    call = bytes(made["callingDevice"][1]["callID"])
    started = await app.invoke("monitorStart", {"monitorObject": ("callObject", ("callID", call))})
    xref = started["crossRefIdentifier"]
    empty = (b"", 0)
    quiet = {
        "callControl": (b"\x01", 8),  # bit 7: held
        "callAssociated": empty,
        "mediaAttachment": empty,
        "physicalDeviceFeature": empty,
        "logicalDeviceFeature": empty,
        "maintenance": empty,
        "voiceUnit": empty,
        "private": empty,
    }
    changed = await app.invoke(
        "changeMonitorFilter", {"crossRefIdentifier": xref, "requestedFilterList": quiet}
    )
    assert changed == {"actualFilterList": quiet}
    await app.invoke("answerCall", {"callToBeAnswered": conn(call, "331")})
    await app.invoke("holdCall", {"callToBeHeld": conn(call, "330")})  # filtered out
    await app.invoke("retrieveCall", {"callToBeRetrieved": conn(call, "330")})
    digits = {
        "connectionToSendDigits": conn(call, "330"),
        "digitMode": "dTMF",
        "charactersToSend": "5",
    }
    assert await app.invoke("generateDigits", digits) == ("noData", None)
    assert await app.refused(
        "setDisplay", {"device": dev("331"), "contentsOfDisplay": "Hello", "characterSet": "ascii"}
    ) == ("operation", "serviceNotSupported")
    for private in (("string", b"ver"), ("private", None)):
        assert await app.refused("escape", {"privateData": private}) == (
            "operation",
            "privateDataNotSupported",
        )
    await app.invoke("clearCall", {"callToBeCleared": ("callID", call)})
    await app.invoke("monitorStart", {"monitorObject": ("deviceObject", dev("330"))})  # a fence
    assert [(x, name) for x, name, _ in app.reports] == [
        (xref, "established"),
        (xref, "retrieved"),
        (xref, "connectionCleared"),
        (xref, "callCleared"),
    ]
    await app.release()
    writer.close()
