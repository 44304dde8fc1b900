"""cti.csta.client.arguments: our service + fields -> CSTA invoke is the exact inverse of what the
server (cti.csta.link.services) decodes, the CSTA result reads back as the MQTT face's result,
and universalFailure maps back to our error names."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from cti.api import execute as replies
from cti.api.requests import BadRequest, parse_request
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.node import Accepted, Committed, Node
from cti.calls import commands as cmd
from cti.calls import events as ev
from cti.calls.events import Local
from cti.calls.services.queries import SnapshotDevice
from cti.calls.values import Cause, ConnectionState
from cti.csta import codec
from cti.csta.client import CstaClient, RequestFailed, arguments
from cti.csta.codec import Invoke
from cti.csta.link.services import Services
from cti.csta.refusals import ERROR_TABLE
from cti.store import MemoryStore
from tests.csta.conftest import Link

# service, fields (as phones and MQTT clients send them), what the core answers (d.result)
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("makeCall", {"calling": "330", "called": "331"}, {"call": 7, "device": "330"}),
    ("makeCall", {"calling": "330", "called": "0 030 123456"}, {"call": 7, "device": "330"}),
    ("answerCall", {"call": 7, "device": "331"}, {"call": 7, "device": "331"}),
    ("clearConnection", {"call": 7, "device": "331"}, {}),
    ("clearCall", {"call": 7}, {}),
    ("holdCall", {"call": 7, "device": "330"}, {}),
    ("retrieveCall", {"call": 7, "device": "330"}, {}),
    (
        "consultationCall",
        {"call": 7, "device": "330", "consulted": "332"},
        {"call": 8, "device": "330"},
    ),
    ("alternateCall", {"device": "330", "heldCall": 7, "activeCall": 8}, {}),
    ("reconnectCall", {"device": "330", "heldCall": 7, "activeCall": 8}, {}),
    ("transferCall", {"device": "330", "heldCall": 7, "activeCall": 8}, {"call": 7}),
    ("conferenceCall", {"device": "330", "heldCall": 7, "activeCall": 8}, {"call": 7}),
    (
        "singleStepTransferCall",
        {"call": 7, "device": "331", "to": "332"},
        {"call": 7, "device": "332"},
    ),
    ("deflectCall", {"call": 7, "device": "331", "to": "332"}, {"call": 7, "device": "332"}),
    ("directedPickupCall", {"picked": "331", "device": "332"}, {"call": 7, "device": "332"}),
    (
        "directedPickupCall",
        {"picked": "331", "device": "332", "call": 7},
        {"call": 7, "device": "332"},
    ),
    ("groupPickupCall", {"device": "332"}, {"call": 7, "device": "332"}),
    (
        "setForwarding",
        {"device": "331", "forwardingType": "forwardImmediate", "on": True, "destination": "332"},
        {},
    ),
    (
        "setForwarding",
        {
            "device": "331",
            "forwardingType": "forwardNoAns",
            "on": True,
            "destination": "+4930123456",
            "ringTime": 10,
        },
        {},
    ),
    ("setForwarding", {"device": "331", "forwardingType": "forwardBusy", "on": False}, {}),
    ("setDoNotDisturb", {"device": "331", "on": True}, {}),
    ("setDoNotDisturb", {"device": "331", "on": False}, {}),
    ("generateDigits", {"call": 7, "device": "330", "digits": "12*#"}, {}),
]
# deflectCall answers noData: the destination after the number plan does not come back.
NOT_RETURNED = {"deflectCall": {"device"}}


class Capture(Services):
    """The server's service mapping with the engine replaced by a recorder."""

    def __init__(self, node: Node, result: dict[str, Any]) -> None:
        self.node = node
        self.result = result
        self.commands: list[cmd.Command] = []

    async def run(self, command: cmd.Command) -> Accepted:
        self.commands.append(command)
        return Accepted(self.result, _merge_events(command))


def _merge_events(command: cmd.Command) -> tuple[Committed, ...]:
    """The Transferred / Conferenced event the transfer/conference results are built from."""
    local = (Local(device="331", state=ConnectionState.CONNECTED),)
    if isinstance(command, cmd.TransferCall):
        event: ev.Event = ev.Transferred(
            call=command.held_call,
            cause=Cause.TRANSFER,
            local=local,
            secondary_call=command.active_call,
            transferring=command.device,
            transferred_to="331",
        )
    elif isinstance(command, cmd.ConferenceCall):
        event = ev.Conferenced(
            call=command.held_call,
            cause=Cause.CONFERENCE,
            local=local,
            secondary_call=command.active_call,
            conferencing=command.device,
            added=("331",),
        )
    else:
        return ()
    return (Committed(1, 0, event),)


@pytest.fixture
def node() -> Node:
    return Node(load_site(), MemoryStore(), ManualClock())


def _on_the_wire(operation: str, argument: Any) -> tuple[str, Any]:
    """Through the codec, as the server would receive it."""
    pdu = codec.decode_rose(codec.encode_rose(Invoke(1, operation, argument)))
    assert isinstance(pdu, Invoke)
    return str(pdu.opcode), pdu.argument


@pytest.mark.parametrize(("service", "fields", "core_result"), CASES)
async def test_arguments_give_the_command_of_the_mqtt_parser(
    node: Node, service: str, fields: dict[str, Any], core_result: dict[str, Any]
) -> None:
    expected = parse_request(service, orjson.dumps(fields))
    action = arguments.parse(service, fields)
    assert action == expected
    operation, argument = _on_the_wire(*arguments.invoke_of(action))
    server = Capture(node, core_result)
    value = (await server.invoke(operation, argument)).result()
    assert server.commands == [expected]
    result = arguments.result_of(action, _on_the_wire_result(operation, value))
    dropped = NOT_RETURNED.get(service, set())
    assert result == {k: v for k, v in core_result.items() if k not in dropped}


def _on_the_wire_result(operation: str, value: Any) -> Any:
    pdu = codec.decode_rose(codec.encode_rose(codec.ReturnResult(1, operation, value)))
    assert isinstance(pdu, codec.ReturnResult)
    return pdu.result


def test_every_csta_command_has_a_case() -> None:
    services = {s for s, _, _ in CASES}
    offered = set(cmd.COMMAND_TYPES) - {"fireTimer"} - arguments.NOT_CSTA
    assert services == offered


@pytest.mark.parametrize("service", sorted(arguments.TWO_CALL_SERVICES))
def test_two_calls_are_picked_as_the_engine_does(service: str) -> None:
    action = arguments.parse(service, {"device": "330"})
    assert isinstance(action, cmd.TwoCallCommand)
    rows = [
        {"call": 3, "state": "alerting"},
        {"call": 4, "state": "hold"},
        {"call": 5, "state": "connected"},
        {"call": 6, "state": "hold"},
    ]
    filled = arguments.two_calls_at(action, rows)
    assert (filled.held_call, filled.active_call) == (4, 5)
    with pytest.raises(ValueError):
        arguments.invoke_of(action)
    for kept, error in (([rows[2]], "noHeldCall"), ([rows[1]], "noActiveCall")):
        with pytest.raises(Exception) as info:
            arguments.two_calls_at(action, kept)
        assert getattr(info.value, "name", None) == error


def test_bad_fields_are_refused_like_the_mqtt_face() -> None:
    with pytest.raises(BadRequest) as info:
        arguments.parse("answerCall", {"call": "x", "device": "330"})
    assert info.value.code == "invalidParameterValue"
    with pytest.raises(BadRequest) as unknown:
        arguments.parse("parkCall", {})
    assert unknown.value.code == "serviceNotSupported"


def test_universal_failure_maps_back_to_our_error_names() -> None:
    for branch, value in ERROR_TABLE.values():
        # refusals of other contexts travel as a standard value and come back as its name
        assert arguments.error_name(branch, value) == value
    assert arguments.error_name("operation", "invalidMonitorObject") == "invalidMonitorObject"
    assert arguments.error_name("operation", 999) == "generic"


# -- through a running link -------------------------------------------------------------------
async def test_client_request_replies_like_the_mqtt_face(link: Link) -> None:
    async with link.client() as app:
        made = await app.request("makeCall", {"calling": "330", "called": "331"})
        assert made == {"call": 1, "device": "330"}
        assert await app.request("answerCall", {"call": 1, "device": "331"}) == {
            "call": 1,
            "device": "331",
        }
        await app.request("setDoNotDisturb", {"device": "333", "on": True})
        snapshots = (
            ("snapshotDevice", {"device": "331"}),
            ("snapshotCall", {"call": 1}),
            ("getDoNotDisturb", {"device": "333"}),  # issue 20: offered by the link now
            ("getDoNotDisturb", {"device": "331"}),
        )
        for service, fields in snapshots:
            query = parse_request(service, orjson.dumps(fields))
            mqtt = await replies.execute(link.engine, query)
            assert await app.request(service, fields) == mqtt["result"]
        second = await app.request(
            "consultationCall", {"call": 1, "device": "330", "consulted": "332"}
        )
        assert second == {"call": 2, "device": "330"}
        await app.request("answerCall", {"call": 2, "device": "332"})
        await app.request("alternateCall", {"device": "330"})  # ids from snapshotDevice
        states = {r["call"]: r["state"] for r in link.node.query(SnapshotDevice(device="330"))}
        assert states == {1: "connected", 2: "hold"}
        assert await app.request("transferCall", {"device": "330"}) == {"call": 2}


@pytest.mark.parametrize(
    ("service", "fields", "code"),
    [
        ("answerCall", {"call": 1, "device": "330"}, "invalidCallID"),
        ("transferCall", {"device": "330"}, "noHeldCall"),
        ("makeCall", {"calling": "330"}, "invalidParameterValue"),
        ("snapshotDevice", {"device": "999"}, "invalidDeviceID"),
        ("getDoNotDisturb", {"device": "999"}, "invalidDeviceID"),
        ("dial", {"device": "330", "digits": "331"}, "serviceNotSupported"),
    ],
)
async def test_client_request_refusals_carry_our_error_names(
    link: Link, service: str, fields: dict[str, Any], code: str
) -> None:
    async with link.client() as app:
        with pytest.raises(RequestFailed) as info:
            await app.request(service, fields)
        assert info.value.code == code
    if service in arguments.NOT_CSTA:
        return
    try:  # the MQTT face refuses it with the same name
        reply = await replies.execute(link.engine, parse_request(service, orjson.dumps(fields)))
    except BadRequest as bad:
        reply = replies.error(bad.code, bad.message)
    assert reply["error"]["code"] == code


@pytest.mark.parametrize(
    ("service", "fields"),
    [
        ("addFavourite", {"user": "330", "number": "331"}),  # a context's, not ECMA-269's
        ("getMailbox", {"user": "330"}),
        ("setPresence", {"user": "330", "state": "available"}),
    ],
)
async def test_client_request_refuses_what_csta_lacks_before_sending(
    service: str, fields: dict[str, Any]
) -> None:
    client = CstaClient("127.0.0.1", 1)  # never connected: refused before any I/O
    with pytest.raises(RequestFailed) as info:
        await client.request(service, fields)
    assert info.value.code == "serviceNotSupported"
    assert not arguments.is_csta(service)
