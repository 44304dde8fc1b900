"""Every service of the link, driven as applications of the HiPath / OpenScape generation do
(issue 20 item 8): send the invoke, read the very next PDU as its answer, over a real TCP
association. That PDU is the invoke's ReturnResult (or ReturnError), never an event report:
the reports a service causes follow its answer, in the order of the log.

One association monitors 330 and 331 (and, for a while, call 1 on a call monitor); each step
names the reports that follow its answer, by event name, exactly."""

from __future__ import annotations

from typing import Any

from cti.csta import codec
from cti.csta.codec.types.operations import OPERATIONS
from cti.csta.ids import connection, device_id
from tests.csta.conftest import Link
from tests.csta.test_link_result_first import sync_app

EMPTY = (b"", 0)
CALL_MONITOR = b"call monitor"  # stands for the crossRefIdentifier the switch gives it


def _filter(*call_control: str) -> dict[str, Any]:
    return {
        "callControl": codec.named_bits(call_control, "CallControlEvents"),
        "callAssociated": EMPTY,
        "mediaAttachment": EMPTY,
        "physicalDeviceFeature": EMPTY,
        "logicalDeviceFeature": EMPTY,
        "maintenance": EMPTY,
        "voiceUnit": EMPTY,
        "private": EMPTY,
    }


def _dial(calling: str, called: str) -> dict[str, Any]:
    return {"callingDevice": device_id(calling), "calledDirectoryNumber": device_id(called)}


def _two(held: tuple[int, str], active: tuple[int, str]) -> dict[str, Any]:
    return {"heldCall": connection(*held), "activeCall": connection(*active)}


OK, REFUSED = "result", "error"
MADE = ["serviceInitiated", "originated", "delivered", "delivered"]  # 330's, then 331's
# (operation, argument, answer, the reports after it)
STEPS: list[tuple[str, Any, str, list[str]]] = [
    ("systemStatus", {"systemStatus": "normal"}, OK, []),
    ("getDoNotDisturb", {"device": device_id("330")}, OK, []),
    ("setDoNotDisturb", {"device": device_id("330"), "doNotDisturbOn": True}, OK, ["doNotDisturb"]),
    (
        "setDoNotDisturb",
        {"device": device_id("330"), "doNotDisturbOn": False},
        OK,
        ["doNotDisturb"],
    ),
    (
        "setForwarding",
        {
            "device": device_id("331"),
            "forwardingType": "forwardNoAns",
            "activateForward": True,
            "forwardDN": device_id("333"),
            "ringDuration": 20,
        },
        OK,
        ["forwarding"],
    ),
    ("getForwarding", {"device": device_id("331")}, OK, []),
    (
        "setForwarding",
        {"device": device_id("331"), "forwardingType": "forwardNoAns", "activateForward": False},
        OK,
        ["forwarding"],
    ),
    ("makeCall", _dial("330", "331"), OK, MADE),
    ("snapshotDevice", {"snapshotObject": device_id("330")}, OK, []),
    ("snapshotCall", {"snapshotObject": connection(1)}, OK, []),
    ("monitorStart", {"monitorObject": ("callObject", connection(1))}, OK, []),
    (
        "changeMonitorFilter",
        {"crossRefIdentifier": CALL_MONITOR, "requestedFilterList": _filter("held", "retrieved")},
        OK,
        [],
    ),
    ("answerCall", {"callToBeAnswered": connection(1, "331")}, OK, ["established"] * 3),
    ("holdCall", {"callToBeHeld": connection(1, "330")}, OK, ["held"] * 2),  # not the call's
    ("retrieveCall", {"callToBeRetrieved": connection(1, "330")}, OK, ["retrieved"] * 2),
    (
        "generateDigits",
        {"connectionToSendDigits": connection(1, "330"), "charactersToSend": "51"},
        OK,
        [],  # digitsGenerated has no CSTA report here (specs/csta.md)
    ),
    ("setDisplay", {"device": device_id("330"), "contentsOfDisplay": "Hello"}, REFUSED, []),
    ("escape", {"privateData": bytes.fromhex("0403") + b"ver"}, REFUSED, []),
    (
        "consultationCall",
        {"existingCall": connection(1, "330"), "consultedDevice": device_id("332")},
        OK,
        ["held"] * 2 + ["serviceInitiated", "originated", "delivered"],
    ),
    ("answerCall", {"callToBeAnswered": connection(2, "332")}, OK, ["established"]),
    ("alternateCall", _two((1, "330"), (2, "330")), OK, ["held", "retrieved", "retrieved"]),
    ("alternateCall", _two((2, "330"), (1, "330")), OK, ["held", "held", "retrieved"]),
    ("reconnectCall", _two((1, "330"), (2, "330")), OK, ["connectionCleared"] + ["retrieved"] * 2),
    (
        "consultationCall",
        {"existingCall": connection(1, "330"), "consultedDevice": device_id("332")},
        OK,
        ["held"] * 2 + ["serviceInitiated", "originated", "delivered"],
    ),
    ("answerCall", {"callToBeAnswered": connection(3, "332")}, OK, ["established"]),
    ("conferenceCall", _two((1, "330"), (3, "330")), OK, ["conferenced"] * 3),  # + call 1
    (
        "clearConnection",
        {"connectionToBeCleared": connection(1, "332")},
        OK,
        ["connectionCleared"] * 3,
    ),
    (
        "consultationCall",
        {"existingCall": connection(1, "330"), "consultedDevice": device_id("332")},
        OK,
        ["held"] * 2 + ["serviceInitiated", "originated", "delivered"],
    ),
    ("answerCall", {"callToBeAnswered": connection(4, "332")}, OK, ["established"]),
    ("transferCall", _two((1, "330"), (4, "330")), OK, ["transferred"] * 3),
    (
        "singleStepTrans",
        {"activeCall": connection(1, "331"), "transferredTo": device_id("330")},
        OK,
        ["transferred"] * 2 + ["delivered"] * 2,  # 331 and call 1, then 330 and call 1
    ),
    (  # 332 leaves, then the call clears with 330; the call monitor ends with it
        "clearCall",
        {"callToBeCleared": connection(1)},
        OK,
        ["connectionCleared"] * 2 + ["callCleared"] * 2,
    ),
    ("makeCall", _dial("330", "331"), OK, MADE),
    (
        "deflectCall",
        {"callToBeDiverted": connection(5, "331"), "newDestination": device_id("332")},
        OK,
        ["diverted", "diverted", "delivered"],
    ),
    ("clearCall", {"callToBeCleared": connection(5)}, OK, ["connectionCleared"]),  # 330's
    ("makeCall", _dial("330", "331"), OK, MADE),
    (
        "directedPickupCall",
        {"callToBePickedUp": connection(6, "331"), "requestingDevice": device_id("332")},
        OK,
        ["diverted", "diverted", "established"],
    ),
    ("clearCall", {"callToBeCleared": connection(6)}, OK, ["connectionCleared"]),
    ("makeCall", _dial("330", "331"), OK, MADE),
    (
        "groupPickupCall",
        {"newDestination": device_id("332")},
        OK,
        ["diverted", "diverted", "established"],
    ),
    ("clearCall", {"callToBeCleared": connection(7)}, OK, ["connectionCleared"]),
    ("monitorStop", {"crossRefIdentifier": b"330"}, OK, []),
    ("makeCall", _dial("330", "331"), OK, ["delivered"]),  # 330's monitor is gone
]


def test_every_service_of_the_link_is_driven() -> None:
    driven = {operation for operation, *_ in STEPS} | {"monitorStart"}
    assert driven == set(OPERATIONS) - {"cSTAEventReport"}


async def test_each_answer_is_the_next_pdu_after_its_invoke(link: Link) -> None:
    app = await sync_app(link)
    xrefs = {}
    for device in ("330", "331"):
        started, _ = await app.call(
            "monitorStart", {"monitorObject": ("deviceObject", device_id(device))}
        )
        assert isinstance(started, codec.ReturnResult)
        xrefs[device.encode()] = started.result["crossRefIdentifier"]
    got = []
    for operation, argument, answer, _ in STEPS:
        if operation in ("changeMonitorFilter", "monitorStop"):
            argument = {**argument, "crossRefIdentifier": xrefs[argument["crossRefIdentifier"]]}
        reply, events = await app.call(operation, argument)
        assert reply.invoke_id == app.next_id - 1, operation  # the invoke just sent
        if answer == OK:
            assert isinstance(reply, codec.ReturnResult), (operation, reply)
            assert reply.opcode in (operation, None), (operation, reply)
        else:
            assert isinstance(reply, codec.ReturnError), (operation, reply)
        if operation == "monitorStart":
            xrefs[CALL_MONITOR] = reply.result["crossRefIdentifier"]
        got.append((operation, events))
    assert got == [(operation, events) for operation, _, _, events in STEPS]
