"""ROSE invokes -> core commands and queries -> CSTA results.

An adapter: it translates arguments into the same commands the MQTT face builds and renders the
outcome; every decision (and every refusal) comes from the engine. Arguments the engine never
sees (unsupported identifier forms, forwarding types) are refused here with the CSTA error an
application expects. Fields we do not model (userData, correlatorData, accountCode, ...) are
accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from cti.app.engine import Engine
from cti.app.node import Accepted
from cti.csta.ids import (
    connection,
    device_id,
    full_connection,
    number_of,
    parse_connection,
    subject,
)
from cti.csta.monitors import Monitors
from cti.csta.refusals import ServiceRefused
from cti.domain import commands as cmd
from cti.domain.errors import CstaError
from cti.domain.values import ForwardingType

NO_DATA = ("noData", None)
Handler = Callable[["Services", dict[str, Any]], Awaitable[Any]]


class NotOffered(Exception):
    """An operation of the codec that an application may not invoke on us (Reject it)."""


class Services:
    """The services of one association (its monitors live here too)."""

    def __init__(self, engine: Engine, monitors: Monitors) -> None:
        self.engine = engine
        self.node = engine.node
        self.monitors = monitors

    async def invoke(self, operation: str, argument: dict[str, Any]) -> Any:
        """The operation's result value; raises ServiceRefused or NotOffered."""
        handler = _HANDLERS.get(operation)
        if handler is None:
            raise NotOffered(operation)
        return await handler(self, argument)

    async def run(self, command: cmd.Command) -> dict[str, Any]:
        outcome = await self.engine.execute(command)
        if isinstance(outcome, Accepted):
            return dict(outcome.result)
        raise ServiceRefused.from_error(outcome.error)

    def known_device(self, number: str) -> str:
        if self.node.site.device(number) is None:
            raise ServiceRefused.named("invalidDeviceID", f"unknown device {number!r}")
        return number


# -- call control ------------------------------------------------------------------------------
async def _make_call(s: Services, a: dict[str, Any]) -> Any:
    calling = number_of(a["callingDevice"], "invalidCallingDeviceID")
    called = number_of(a["calledDirectoryNumber"], "invalidCalledDeviceID")
    r = await s.run(cmd.MakeCall(calling=calling, called=called))
    return {"callingDevice": connection(r["call"], r["device"])}


async def _clear_call(s: Services, a: dict[str, Any]) -> Any:
    call, _ = parse_connection(a["callToBeCleared"])
    if call is None:
        raise ServiceRefused.named("invalidCallID", "callToBeCleared names no call")
    await s.run(cmd.ClearCall(call=call))
    return NO_DATA


async def _consult(s: Services, a: dict[str, Any]) -> Any:
    call, device = full_connection(a["existingCall"])
    consulted = number_of(a["consultedDevice"], "invalidCalledDeviceID")
    r = await s.run(cmd.ConsultationCall(call=call, device=device, consulted=consulted))
    return {"initiatedCall": connection(r["call"], r["device"])}


def _on_connection(field: str, command: Callable[..., cmd.Command]) -> Handler:
    """A service whose argument is one connection and whose result is noData."""

    async def handler(s: Services, a: dict[str, Any]) -> Any:
        call, device = full_connection(a[field])
        await s.run(command(call=call, device=device))
        return NO_DATA

    return handler


def _on_two_calls(command: Callable[..., cmd.Command]) -> Handler:
    """alternateCall / reconnectCall: a device's held and active call, result noData."""

    async def handler(s: Services, a: dict[str, Any]) -> Any:
        await s.run(command(**_two_calls(a)))
        return NO_DATA

    return handler


def _two_calls(a: dict[str, Any]) -> dict[str, Any]:
    held, held_dev = full_connection(a["heldCall"])
    active, active_dev = full_connection(a["activeCall"])
    if held_dev != active_dev:
        raise ServiceRefused.named(
            "invalidConnectionID", "heldCall and activeCall must be connections of one device"
        )
    return {"device": held_dev, "held_call": held, "active_call": active}


def _connections_of(s: Services, call: int) -> list[dict[str, Any]]:
    found = s.node.state.call(call)
    parties = found.parties if found is not None else ()
    return [
        {"newConnection": connection(call, p.device), "endpoint": ("deviceID", device_id(p.device))}
        for p in parties
    ]


async def _transfer(s: Services, a: dict[str, Any]) -> Any:
    r = await s.run(cmd.TransferCall(**_two_calls(a)))
    return {"transferredCall": connection(r["call"]), "connections": _connections_of(s, r["call"])}


async def _conference(s: Services, a: dict[str, Any]) -> Any:
    args = _two_calls(a)
    r = await s.run(cmd.ConferenceCall(**args))
    return {
        "conferenceCall": connection(r["call"], args["device"]),
        "connections": _connections_of(s, r["call"]),
    }


async def _single_step(s: Services, a: dict[str, Any]) -> Any:
    call, device = full_connection(a["activeCall"])
    to = number_of(a["transferredTo"], "invalidDestination")
    r = await s.run(cmd.SingleStepTransferCall(call=call, device=device, to=to))
    return {"transferredCall": connection(r["call"], r["device"])}


async def _deflect(s: Services, a: dict[str, Any]) -> Any:
    call, device = full_connection(a["callToBeDiverted"])
    to = number_of(a["newDestination"], "invalidDestination")
    await s.run(cmd.DeflectCall(call=call, device=device, to=to))
    return NO_DATA


async def _directed_pickup(s: Services, a: dict[str, Any]) -> Any:
    call, picked = parse_connection(a["callToBePickedUp"])
    if picked is None:
        raise ServiceRefused.named("invalidConnectionID", "callToBePickedUp names no device")
    device = number_of(a["requestingDevice"])
    r = await s.run(cmd.DirectedPickupCall(picked=picked, device=device, call=call))
    return {"pickedCall": connection(r["call"], r["device"])}


async def _group_pickup(s: Services, a: dict[str, Any]) -> Any:
    device = number_of(a["newDestination"])
    r = await s.run(cmd.GroupPickupCall(device=device))
    return {"pickedCall": connection(r["call"], r["device"])}


# -- logical device features -------------------------------------------------------------------
async def _set_forwarding(s: Services, a: dict[str, Any]) -> Any:
    device = number_of(a["device"])
    try:
        kind = ForwardingType(a.get("forwardingType", ""))
    except ValueError:
        raise ServiceRefused.named(
            "invalidForwardingType",
            "forwardingType must be forwardImmediate, forwardBusy or forwardNoAns",
        ) from None
    destination = a.get("forwardDN")
    await s.run(
        cmd.SetForwarding(
            device=device,
            forwarding_type=kind,
            on=bool(a["activateForward"]),
            destination=None
            if destination is None
            else number_of(destination, "invalidForwardingDestination"),
            ring_time=a.get("ringDuration"),
        )
    )
    return NO_DATA


async def _get_forwarding(s: Services, a: dict[str, Any]) -> Any:
    device = s.known_device(number_of(a["device"]))
    entries = []
    for kind, fwd in sorted(s.node.state.device(device).forwarding.items()):
        entry: dict[str, Any] = {
            "forwardingType": str(kind),
            "forwardStatus": True,
            "forwardDN": device_id(fwd.destination),
        }
        if kind is ForwardingType.NO_ANSWER and fwd.ring_time:
            entry["ringDuration"] = fwd.ring_time
        entries.append(entry)
    return {"forwardingList": entries}


async def _set_dnd(s: Services, a: dict[str, Any]) -> Any:
    device = number_of(a["device"])
    await s.run(cmd.SetDoNotDisturb(device=device, on=bool(a["doNotDisturbOn"])))
    return NO_DATA


# -- snapshots, monitors, status --------------------------------------------------------------
async def _snapshot_device(s: Services, a: dict[str, Any]) -> Any:
    device = number_of(a["snapshotObject"])
    try:
        rows = s.node.snapshot_device(device)
    except CstaError as err:
        raise ServiceRefused.from_error(err) from None
    data = [
        {
            "connectionIdentifier": connection(int(str(r["call"])), device),
            "localCallState": ("compoundCallState", [str(r["state"])]),
        }
        for r in rows
    ]
    return {"crossRefIDorSnapshotData": ("snapshotData", data)}


async def _snapshot_call(s: Services, a: dict[str, Any]) -> Any:
    call, _ = parse_connection(a["snapshotObject"])
    if call is None:
        raise ServiceRefused.named("invalidCallID", "snapshotObject names no call")
    try:
        rows = s.node.snapshot_call(call)
    except CstaError as err:
        raise ServiceRefused.from_error(err) from None
    data = [
        {
            "deviceOnCall": subject(str(r["device"])),
            "callIdentifier": connection(call, str(r["device"])),
            "localConnectionState": str(r["state"]),
        }
        for r in rows
    ]
    return {"crossRefIDorSnapshotData": ("snapshotData", data)}


async def _monitor_start(s: Services, a: dict[str, Any]) -> Any:
    kind, target = a["monitorObject"]
    if kind != "deviceObject" or a.get("monitorType", "device") != "device":
        raise ServiceRefused("operation", "invalidMonitorObjectType", "device monitors only")
    device = number_of(target, "invalidDeviceID")
    if s.node.site.device(device) is None:
        raise ServiceRefused("operation", "invalidMonitorObject", f"unknown device {device!r}")
    monitor = s.monitors.start(device, a.get("requestedMonitorFilter"))
    result: dict[str, Any] = {"crossRefIdentifier": monitor.xref}
    if "requestedMonitorFilter" in a:
        result["actualmonitorFilter"] = a["requestedMonitorFilter"]  # honoured as asked
    return result


async def _monitor_stop(s: Services, a: dict[str, Any]) -> Any:
    s.monitors.stop(a["crossRefIdentifier"])
    return NO_DATA


async def _system_status(s: Services, a: dict[str, Any]) -> Any:
    return NO_DATA  # an application may report its status too; we only acknowledge it


_HANDLERS: dict[str, Handler] = {
    "makeCall": _make_call,
    "answerCall": _on_connection("callToBeAnswered", cmd.AnswerCall),
    "clearConnection": _on_connection("connectionToBeCleared", cmd.ClearConnection),
    "clearCall": _clear_call,
    "holdCall": _on_connection("callToBeHeld", cmd.HoldCall),
    "retrieveCall": _on_connection("callToBeRetrieved", cmd.RetrieveCall),
    "consultationCall": _consult,
    "alternateCall": _on_two_calls(cmd.AlternateCall),
    "reconnectCall": _on_two_calls(cmd.ReconnectCall),
    "transferCall": _transfer,
    "conferenceCall": _conference,
    "singleStepTrans": _single_step,
    "deflectCall": _deflect,
    "directedPickupCall": _directed_pickup,
    "groupPickupCall": _group_pickup,
    "setForwarding": _set_forwarding,
    "getForwarding": _get_forwarding,
    "setDoNotDisturb": _set_dnd,
    "snapshotDevice": _snapshot_device,
    "snapshotCall": _snapshot_call,
    "monitorStart": _monitor_start,
    "monitorStop": _monitor_stop,
    "systemStatus": _system_status,
}
SERVICES = frozenset(_HANDLERS)
