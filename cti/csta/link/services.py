"""ROSE invokes -> core commands and queries -> CSTA results.

An adapter: it translates arguments into the same commands the MQTT face builds and renders the
outcome; every decision (and every refusal) comes from the engine. Arguments the engine never
sees (unsupported identifier forms, forwarding types) are refused here with the CSTA error an
application expects. Fields we do not model (userData, correlatorData, accountCode, ...) are
accepted and ignored. Every command and query goes with the association's account (its
principal), so the node authorizes it as it does an MQTT request (cti.accounts.access); a
monitor on a device is allowed exactly when reading the device (snapshotDevice) is, one on a
call when reading the call (snapshotCall) is. Services the node cannot carry out (setDisplay,
generateDigits, escape) check their argument like the others, then answer the precise error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs

from cti.accounts.access import authorize
from cti.api import voicemail
from cti.app.engine import Engine
from cti.app.node import Accepted
from cti.calls import commands as cmd
from cti.calls import events as ev
from cti.calls.services.queries import (
    GetDoNotDisturb,
    GetForwarding,
    SnapshotCall,
    SnapshotDevice,
)
from cti.calls.values import ForwardingType
from cti.csta.ids import (
    connection,
    device_id,
    full_connection,
    number_of,
    parse_connection,
    subject,
)
from cti.csta.link.monitors import Monitors
from cti.csta.link.mulap import GroupCalls, group_calls, member_for
from cti.csta.link.reports import connection_list
from cti.csta.refusals import ServiceRefused
from cti.kernel.messages import Query
from cti.kernel.refusal import Refusal

NO_DATA = ("noData", None)
FILTER = "requestedMonitorFilter"  # of monitorStart
E = TypeVar("E", ev.Transferred, ev.Conferenced)
QueryService = Callable[["Services", dict[str, Any]], Awaitable[Any]]
Build = Callable[["Services", dict[str, Any]], cmd.Command]
Render = Callable[[Accepted, Any], Any]


class NotOffered(Exception):
    """An operation of the codec that an application may not invoke on us (Reject it)."""


@attrs.frozen
class Executed:
    """An invoke carried out; its result is rendered separately by :meth:`result`.

    ``accepted`` is True when a command was accepted: its events are durable, so whatever
    happens while rendering, the application must get a ReturnResult (never a ReturnError
    that would make it retry a service that took place).
    """

    render: Callable[[], Any]
    accepted: bool = False
    first_seq: int | None = None  # of the events the command caused (None: none)

    def result(self) -> Any:
        return self.render()


@attrs.frozen
class CommandService:
    """A service that is one core command: build it from the argument, render the outcome."""

    build: Build
    render: Render = attrs.field(default=lambda outcome, command: NO_DATA)


class Services:
    """The services of one association (its monitors live here too)."""

    def __init__(self, engine: Engine, monitors: Monitors, principal: str | None = None) -> None:
        self.engine = engine
        self.node = engine.node
        self.monitors = monitors
        self.principal = principal  # the association's account; None: the [csta] account

    @staticmethod
    def operations() -> frozenset[str]:
        """The operations the link serves (what its AARE says it can supply)."""
        return frozenset(_HANDLERS)

    async def invoke(self, operation: str, argument: dict[str, Any]) -> Executed:
        """Carry the operation out; raises ServiceRefused or NotOffered (nothing happened)."""
        handler = _HANDLERS.get(operation)
        if handler is None:
            raise NotOffered(operation)
        if isinstance(handler, CommandService):
            command = handler.build(self, argument)
            if isinstance(command, cmd.GenerateDigits) and voicemail.keys_pin(self.node, command):
                return await self._keyed_pin(command)
            outcome = await self.run(command)
            render = handler.render
            first = outcome.events[0].seq if outcome.events else None
            return Executed(lambda: render(outcome, command), accepted=True, first_seq=first)
        value = await handler(self, argument)
        return Executed(lambda: value)

    async def _keyed_pin(self, command: cmd.GenerateDigits) -> Executed:
        """VM-03: a PIN keyed as DTMF in the voicemail's menu takes the API's PIN path (argon2
        outside the writer, the same throttle and events), as over MQTT. Its events are the
        voicemail's, no CSTA event report follows them."""
        reply = await voicemail.execute(self.engine, command, self.principal, secure=False)
        if not reply["ok"]:
            raise ServiceRefused.named(reply["error"]["code"], reply["error"]["message"])
        return Executed(lambda: NO_DATA, accepted=True)

    async def run(self, command: cmd.Command) -> Accepted:
        """The accepted outcome (result and committed events); raises ServiceRefused."""
        outcome = await self.engine.execute(command, self.principal)
        if isinstance(outcome, Accepted):
            return outcome
        raise ServiceRefused.from_error(outcome.error)

    def query(self, query: Query) -> Any:
        """The answer of the node to a query; raises ServiceRefused."""
        try:
            return self.node.query(query, self.principal)
        except Refusal as err:
            raise ServiceRefused.from_error(err) from None

    def may_read(self, device: str) -> None:
        """Refuse (ServiceRefused) unless the association's account may read ``device``:
        integrators and monitors every device, users their own (as snapshotDevice)."""
        if self.principal is None:
            return
        try:
            read = SnapshotDevice(device=device)
            authorize(self.node.site, self.node.state, self.principal, read)
        except Refusal as err:
            raise ServiceRefused.from_error(err) from None

    def connection(self, value: Any) -> tuple[int, str]:
        """(call, device) of a ConnectionID naming both; a MULAP number's connection (as its
        group monitor reports it) stands for the member phone holding the group's call."""
        call, device = full_connection(value)
        return call, member_for(self.node.site, self.node.state.calls, call, device)

    def known_device(self, number: str) -> str:
        if self.node.site.device(number) is None:
            raise ServiceRefused.named("invalidDeviceID", f"unknown device {number!r}")
        return number


# -- call control ------------------------------------------------------------------------------
def _new_connection(field: str) -> Render:
    """The result names the (call, device) connection of the core's result as ``field``."""

    def render(outcome: Accepted, command: Any) -> Any:
        result: dict[str, Any] = dict(outcome.result)
        return {field: connection(result["call"], result["device"])}

    return render


def _make_call(s: Services, a: dict[str, Any]) -> cmd.Command:
    calling = number_of(a["callingDevice"], "invalidCallingDeviceID")
    called = number_of(a["calledDirectoryNumber"], "invalidCalledDeviceID")
    return cmd.MakeCall(calling=calling, called=called)


def _clear_call(s: Services, a: dict[str, Any]) -> cmd.Command:
    call, _ = parse_connection(a["callToBeCleared"])
    if call is None:
        raise ServiceRefused.named("invalidCallID", "callToBeCleared names no call")
    return cmd.ClearCall(call=call)


def _consult(s: Services, a: dict[str, Any]) -> cmd.Command:
    call, device = s.connection(a["existingCall"])
    consulted = number_of(a["consultedDevice"], "invalidCalledDeviceID")
    return cmd.ConsultationCall(call=call, device=device, consulted=consulted)


def _on_connection(field: str, command: Callable[..., cmd.Command]) -> CommandService:
    """A service whose argument is one connection and whose result is noData."""

    def build(s: Services, a: dict[str, Any]) -> cmd.Command:
        call, device = s.connection(a[field])
        return command(call=call, device=device)

    return CommandService(build)


def _on_two_calls(command: Callable[..., cmd.Command]) -> Build:
    """alternate/reconnect/transfer/conferenceCall: a device's held and active call."""

    def build(s: Services, a: dict[str, Any]) -> cmd.Command:
        return command(**_two_calls(s, a))

    return build


def _two_calls(s: Services, a: dict[str, Any]) -> dict[str, Any]:
    held, held_dev = s.connection(a["heldCall"])
    active, active_dev = s.connection(a["activeCall"])
    if held_dev != active_dev:
        raise ServiceRefused.named(
            "invalidConnectionID", "heldCall and activeCall must be connections of one device"
        )
    return {"device": held_dev, "held_call": held, "active_call": active}


def _merged(outcome: Accepted, kind: type[E]) -> E:
    """The Transferred / Conferenced event the command committed."""
    for item in outcome.events:
        if isinstance(item.event, kind):
            return item.event
    raise LookupError(f"no {kind.KIND} event among the committed events")


def _transferred(outcome: Accepted, command: Any) -> Any:
    e = _merged(outcome, ev.Transferred)
    return {"transferredCall": connection(e.call), "connections": connection_list(e)}


def _conferenced(outcome: Accepted, command: Any) -> Any:
    e = _merged(outcome, ev.Conferenced)
    return {
        "conferenceCall": connection(e.call, command.device),
        "connections": connection_list(e),
    }


def _single_step(s: Services, a: dict[str, Any]) -> cmd.Command:
    call, device = s.connection(a["activeCall"])
    to = number_of(a["transferredTo"], "invalidDestination")
    return cmd.SingleStepTransferCall(call=call, device=device, to=to)


def _deflect(s: Services, a: dict[str, Any]) -> cmd.Command:
    call, device = s.connection(a["callToBeDiverted"])
    to = number_of(a["newDestination"], "invalidDestination")
    return cmd.DeflectCall(call=call, device=device, to=to)


def _directed_pickup(s: Services, a: dict[str, Any]) -> cmd.Command:
    call, picked = parse_connection(a["callToBePickedUp"])
    if picked is None:
        raise ServiceRefused.named("invalidConnectionID", "callToBePickedUp names no device")
    if call is not None:  # the group's connection (call, 340): pick it from a ringing member
        picked = member_for(s.node.site, s.node.state.calls, call, picked)
    device = number_of(a["requestingDevice"])
    return cmd.DirectedPickupCall(picked=picked, device=device, call=call)


def _group_pickup(s: Services, a: dict[str, Any]) -> cmd.Command:
    return cmd.GroupPickupCall(device=number_of(a["newDestination"]))


# -- logical device features -------------------------------------------------------------------
def _set_forwarding(s: Services, a: dict[str, Any]) -> cmd.Command:
    device = number_of(a["device"])
    try:
        kind = ForwardingType(a.get("forwardingType", ""))
    except ValueError:
        raise ServiceRefused.named(
            "invalidForwardingType",
            "forwardingType must be forwardImmediate, forwardBusy or forwardNoAns",
        ) from None
    destination = a.get("forwardDN")
    return cmd.SetForwarding(
        device=device,
        forwarding_type=kind,
        on=bool(a["activateForward"]),
        destination=None
        if destination is None
        else number_of(destination, "invalidForwardingDestination"),
        ring_time=a.get("ringDuration"),
    )


async def _get_forwarding(s: Services, a: dict[str, Any]) -> Any:
    answer = s.query(GetForwarding(device=number_of(a["device"])))
    entries = []
    for fwd in answer["forwarding"]:
        entry: dict[str, Any] = {
            "forwardingType": fwd["type"],
            "forwardStatus": True,
            "forwardDN": device_id(fwd["destination"]),
        }
        if fwd["type"] == ForwardingType.NO_ANSWER and fwd["ringTime"]:
            entry["ringDuration"] = fwd["ringTime"]
        entries.append(entry)
    return {"forwardingList": entries}


def _set_dnd(s: Services, a: dict[str, Any]) -> cmd.Command:
    return cmd.SetDoNotDisturb(device=number_of(a["device"]), on=bool(a["doNotDisturbOn"]))


async def _get_dnd(s: Services, a: dict[str, Any]) -> Any:
    answer = s.query(GetDoNotDisturb(device=number_of(a["device"])))
    return {"doNotDisturbOn": bool(answer["on"])}


# -- services the node cannot carry out (specs/csta.md: what we answer and why) ----------------
async def _set_display(s: Services, a: dict[str, Any]) -> Any:
    """The node does not drive phone displays: a phone shows what its call state says
    (phone_sim renders it from the node's documents), so there is nothing to write to."""
    device = s.known_device(number_of(a["device"]))
    s.may_read(device)
    raise ServiceRefused.named("serviceNotSupported", f"the display of {device} is the phone's own")


def _generate_digits(s: Services, a: dict[str, Any]) -> cmd.Command:
    """DTMF only (digitMode rotaryPulse is refused); durations are the phone's business."""
    if a.get("digitMode", "dTMF") != "dTMF":
        raise ServiceRefused.named("invalidParameterValue", "only DTMF digits are generated")
    call, device = s.connection(a["connectionToSendDigits"])
    return cmd.GenerateDigits(call=call, device=device, digits=str(a["charactersToSend"]))


async def _escape(s: Services, a: dict[str, Any]) -> Any:
    """No private (manufacturer-specific) services are defined here: whatever the private
    data asks for, the answer is privateDataNotSupported (the request itself is understood,
    so it is a ReturnError, not a Reject)."""
    raise ServiceRefused(
        "operation", "privateDataNotSupported", "this switch defines no private services"
    )


# -- snapshots, monitors, status --------------------------------------------------------------
async def _snapshot_device(s: Services, a: dict[str, Any]) -> Any:
    device = number_of(a["snapshotObject"])
    rows: list[Any] = s.query(SnapshotDevice(device=device))
    if GroupCalls.is_group(s.node.site, device):  # the group's calls, as its monitor sees them
        calls = group_calls(s.node.site, s.node.state.calls, device)
        rows = [{"call": call, "state": state} for call, state in calls]
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
    rows = s.query(SnapshotCall(call=call))
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
    monitor_type = a.get("monitorType")
    if kind == "callObject":
        if monitor_type not in (None, "call"):
            raise ServiceRefused(
                "operation", "invalidMonitorObjectType", "a call object takes a call monitor"
            )
        monitor = s.monitors.start_call(_monitored_call(s, target), a.get(FILTER))
    else:
        if monitor_type not in (None, "device"):  # a call-type monitor of a device's calls
            raise ServiceRefused(
                "operation",
                "monitorTypeNotSupported",
                "call-type monitors are started on a call object (callObject)",
            )
        device = number_of(target, "invalidDeviceID")
        if s.node.site.device(device) is None:
            raise ServiceRefused("operation", "invalidMonitorObject", f"unknown device {device!r}")
        s.may_read(device)
        monitor = s.monitors.start(device, a.get(FILTER), s.node.state.calls)
    result: dict[str, Any] = {"crossRefIdentifier": monitor.xref}
    if FILTER in a:
        result["actualmonitorFilter"] = a[FILTER]  # honoured as asked
    return result


def _monitored_call(s: Services, target: Any) -> int:
    """The call of a callObject (a ConnectionID naming at least the callID) that the
    association may see (as snapshotCall); invalidMonitorObject when there is no such call."""
    call, _ = parse_connection(target)
    if call is None:
        raise ServiceRefused("operation", "invalidMonitorObject", "the call object names no call")
    try:
        s.query(SnapshotCall(call=call))
    except ServiceRefused as refused:
        if refused.parameter == ("operation", "invalidCallID"):
            raise ServiceRefused("operation", "invalidMonitorObject", f"no call {call}") from None
        raise
    return call


async def _change_monitor_filter(s: Services, a: dict[str, Any]) -> Any:
    """The monitor's filter is replaced: later reports follow the new one."""
    s.monitors.change_filter(a["crossRefIdentifier"], a["requestedFilterList"])
    return {"actualFilterList": a["requestedFilterList"]}  # honoured as asked


async def _monitor_stop(s: Services, a: dict[str, Any]) -> Any:
    s.monitors.stop(a["crossRefIdentifier"])
    return NO_DATA


async def _system_status(s: Services, a: dict[str, Any]) -> Any:
    return NO_DATA  # an application may report its status too; we only acknowledge it


_HANDLERS: dict[str, CommandService | QueryService] = {
    "makeCall": CommandService(_make_call, _new_connection("callingDevice")),
    "answerCall": _on_connection("callToBeAnswered", cmd.AnswerCall),
    "clearConnection": _on_connection("connectionToBeCleared", cmd.ClearConnection),
    "clearCall": CommandService(_clear_call),
    "holdCall": _on_connection("callToBeHeld", cmd.HoldCall),
    "retrieveCall": _on_connection("callToBeRetrieved", cmd.RetrieveCall),
    "consultationCall": CommandService(_consult, _new_connection("initiatedCall")),
    "alternateCall": CommandService(_on_two_calls(cmd.AlternateCall)),
    "reconnectCall": CommandService(_on_two_calls(cmd.ReconnectCall)),
    "transferCall": CommandService(_on_two_calls(cmd.TransferCall), _transferred),
    "conferenceCall": CommandService(_on_two_calls(cmd.ConferenceCall), _conferenced),
    "singleStepTrans": CommandService(_single_step, _new_connection("transferredCall")),
    "deflectCall": CommandService(_deflect),
    "directedPickupCall": CommandService(_directed_pickup, _new_connection("pickedCall")),
    "groupPickupCall": CommandService(_group_pickup, _new_connection("pickedCall")),
    "setForwarding": CommandService(_set_forwarding),
    "getForwarding": _get_forwarding,
    "setDoNotDisturb": CommandService(_set_dnd),
    "getDoNotDisturb": _get_dnd,
    "setDisplay": _set_display,
    "generateDigits": CommandService(_generate_digits),
    "escape": _escape,
    "snapshotDevice": _snapshot_device,
    "snapshotCall": _snapshot_call,
    "monitorStart": _monitor_start,
    "monitorStop": _monitor_stop,
    "changeMonitorFilter": _change_monitor_filter,
    "systemStatus": _system_status,
}
