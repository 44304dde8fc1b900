"""Our services -> CSTA invokes, and CSTA results and refusals -> our results and error names.

The client-side inverse of :mod:`cti.csta.link.services`: an application that thinks in our
service names and fields (the JSON fields of MQTT requests, see specs/mqtt.md) gets the CSTA
operation and argument value (value notation of :mod:`cti.csta.codec`) that the server turns
back into the very command the MQTT face would have built, and the result dict the MQTT face
would have replied. Fields are checked by the MQTT request parser itself
(:func:`cti.api.requests.parse_request`), so a bad field is refused with the same error
whichever door it is sent to.

What does not map:

* ``offHook``, ``onHook``, ``dial`` (a phone's hook and keypad are not CTI) and
  ``redialList`` (a feature of our node, not an ECMA-269 service): :data:`NOT_CSTA`.
* alternate/reconnect/transfer/conferenceCall without ``heldCall`` / ``activeCall``: CSTA
  needs both connections; :func:`two_calls_at` fills them in from a snapshotDevice the way
  the engine would pick them.
* deflectCall answers noData: the result has the call but not the destination after the
  number plan (the MQTT face also tells ``device``).
"""

from __future__ import annotations

from typing import Any

import attrs

from cti.api.requests import BadRequest, parse_action
from cti.calls import commands as cmd
from cti.calls.errors import CstaError
from cti.calls.services.queries import (
    GetDoNotDisturb,
    GetForwarding,
    SnapshotCall,
    SnapshotDevice,
)
from cti.calls.values import ACTIVE_STATES, ConnectionState
from cti.csta.ids import connection, device_id, parse_connection
from cti.csta.refusals import ERROR_TABLE
from cti.kernel.messages import Query

Action = cmd.Command | Query

NOT_CSTA = frozenset(
    {"offHook", "onHook", "dial", "redialList"}
    # presence (PRES-01..03): a context of the node, not an ECMA-269 service
    | {"setPresence", "setPresenceForwarding", "getPresence", "getPresenceForwarding"}
)
TWO_CALL_SERVICES = frozenset({"alternateCall", "reconnectCall", "transferCall", "conferenceCall"})
OPERATION_OF = {"singleStepTransferCall": "singleStepTrans"}  # ECMA-285 spells it short

# Reverse of the standard entries: a refusal of another context arrives as its closest value.
ERROR_NAMES: dict[tuple[str, str], str] = {
    pair: name for name, pair in ERROR_TABLE.items() if pair[1] == name
}


def error_name(branch: str, value: Any) -> str:
    """Our error name of a universalFailure ``(branch, value)`` (the reverse of ERROR_TABLE).

    Errors only the link raises (invalidMonitorObject, objectMonitorLimitExceeded, ...) keep
    their ECMA-285 name; an enumeration the codec could not name is ``generic``."""
    if not isinstance(value, str):
        return "generic"
    return ERROR_NAMES.get((branch, value), value)


def parse(service: str, fields: dict[str, Any]) -> Action:
    """The command or query of a request; raises ``cti.api.requests.BadRequest``."""
    action = parse_action(service, fields)
    if not isinstance(action, cmd.Command | Query):
        raise BadRequest("serviceNotSupported", f"{service} is not offered over CSTA")
    return action


def is_csta(service: str) -> bool:
    """Whether ``service`` is an ECMA-269 service this client can send over the link (the
    node's other contexts, voicemail, presence, ..., are not)."""
    return service in CSTA_SERVICES


def operation_name(service: str) -> str:
    return OPERATION_OF.get(service, service)


def invoke_of(action: Action) -> tuple[str, dict[str, Any]]:
    """(CSTA operation, argument) for a command or query; ValueError for what CSTA lacks."""
    if isinstance(action, Query):
        return _query(action)
    if isinstance(action, cmd.TwoCallCommand):
        if action.held_call is None or action.active_call is None:
            raise ValueError(f"{action.SERVICE} needs heldCall and activeCall (two_calls_at)")
        device = action.device
        return action.SERVICE, {
            "heldCall": connection(action.held_call, device),
            "activeCall": connection(action.active_call, device),
        }
    build = _COMMANDS.get(type(action))
    if build is None:
        raise ValueError(f"{action.SERVICE!r} is not a CSTA service")
    return operation_name(action.SERVICE), build(action)


def _query(q: Query) -> tuple[str, dict[str, Any]]:
    if isinstance(q, SnapshotDevice):
        return "snapshotDevice", {"snapshotObject": device_id(q.device)}
    if isinstance(q, SnapshotCall):
        return "snapshotCall", {"snapshotObject": connection(q.call)}
    if isinstance(q, GetForwarding):
        return "getForwarding", {"device": device_id(q.device)}
    if isinstance(q, GetDoNotDisturb):
        return "getDoNotDisturb", {"device": device_id(q.device)}
    raise ValueError(f"{q.SERVICE!r} is not a CSTA service")


def _forwarding(c: cmd.SetForwarding) -> dict[str, Any]:
    argument: dict[str, Any] = {
        "device": device_id(c.device),
        "forwardingType": str(c.forwarding_type),
        "activateForward": c.on,
    }
    if c.destination is not None:
        argument["forwardDN"] = device_id(c.destination)
    if c.ring_time is not None:
        argument["ringDuration"] = c.ring_time
    return argument


def _pickup(c: cmd.DirectedPickupCall) -> dict[str, Any]:
    picked = (
        ("deviceID", ("staticID", device_id(c.picked)))
        if c.call is None
        else connection(c.call, c.picked)
    )
    return {"callToBePickedUp": picked, "requestingDevice": device_id(c.device)}


_COMMANDS: dict[type[cmd.Command], Any] = {
    cmd.MakeCall: lambda c: {
        "callingDevice": device_id(c.calling),
        "calledDirectoryNumber": device_id(c.called),
    },
    cmd.AnswerCall: lambda c: {"callToBeAnswered": connection(c.call, c.device)},
    cmd.ClearConnection: lambda c: {"connectionToBeCleared": connection(c.call, c.device)},
    cmd.ClearCall: lambda c: {"callToBeCleared": connection(c.call)},
    cmd.HoldCall: lambda c: {"callToBeHeld": connection(c.call, c.device)},
    cmd.RetrieveCall: lambda c: {"callToBeRetrieved": connection(c.call, c.device)},
    cmd.ConsultationCall: lambda c: {
        "existingCall": connection(c.call, c.device),
        "consultedDevice": device_id(c.consulted),
    },
    cmd.SingleStepTransferCall: lambda c: {
        "activeCall": connection(c.call, c.device),
        "transferredTo": device_id(c.to),
    },
    cmd.DeflectCall: lambda c: {
        "callToBeDiverted": connection(c.call, c.device),
        "newDestination": device_id(c.to),
    },
    cmd.DirectedPickupCall: _pickup,
    cmd.GroupPickupCall: lambda c: {"newDestination": device_id(c.device)},
    cmd.SetForwarding: _forwarding,
    cmd.SetDoNotDisturb: lambda c: {"device": device_id(c.device), "doNotDisturbOn": c.on},
    cmd.GenerateDigits: lambda c: {
        "connectionToSendDigits": connection(c.call, c.device),
        "charactersToSend": c.digits,
    },
}
# What invoke_of maps (the queries are _query's): one set, asked per request.
CSTA_SERVICES = frozenset(
    {cls.SERVICE for cls in _COMMANDS}
    | TWO_CALL_SERVICES
    | {q.SERVICE for q in (SnapshotDevice, SnapshotCall, GetForwarding, GetDoNotDisturb)}
)


def two_calls_at(command: cmd.TwoCallCommand, rows: list[dict[str, Any]]) -> cmd.TwoCallCommand:
    """``command`` with omitted call ids taken from the device's snapshotDevice ``rows`` (our
    form, oldest first) as the engine picks them: the first held connection and the first in
    an active state (initiated, connected, fail). Raises CstaError noHeldCall / noActiveCall
    as the engine would."""
    held, active = command.held_call, command.active_call
    if held is None:
        held = next((int(r["call"]) for r in rows if r["state"] == ConnectionState.HOLD), None)
        if held is None:
            raise CstaError("noHeldCall", f"{command.device} has no held call")
    if active is None:
        active_states = {str(s) for s in ACTIVE_STATES}
        active = next((int(r["call"]) for r in rows if r["state"] in active_states), None)
        if active is None:
            raise CstaError("noActiveCall", f"{command.device} has no active call")
    return attrs.evolve(command, held_call=held, active_call=active)


def result_of(action: Action, value: Any) -> Any:
    """Our result (what the MQTT face replies as ``result``) from the CSTA result ``value``."""
    if isinstance(action, GetForwarding):
        return {
            "forwarding": [
                {
                    "type": f["forwardingType"],
                    "destination": _number(f["forwardDN"]),
                    "ringTime": f.get("ringDuration", 0),
                }
                for f in value["forwardingList"]
            ]
        }
    if isinstance(action, GetDoNotDisturb):
        return {"on": value["doNotDisturbOn"]}
    if isinstance(action, Query):
        rows = value["crossRefIDorSnapshotData"][1]
        if isinstance(action, SnapshotDevice):
            return [
                {
                    "call": _call_device(r["connectionIdentifier"])["call"],
                    "state": r["localCallState"][1][0],
                }
                for r in rows
            ]
        return [
            {"device": _number(r["deviceOnCall"][1]), "state": str(r["localConnectionState"])}
            for r in rows
        ]
    if isinstance(action, cmd.AnswerCall):
        return {"call": action.call, "device": action.device}  # noData on the wire
    if isinstance(action, cmd.DeflectCall):
        return {"call": action.call}  # noData: the destination after the number plan is unknown
    field = _RESULT_FIELD.get(type(action))
    if field is None:
        return {}
    found = _call_device(value[field])
    if isinstance(action, cmd.TransferCall | cmd.ConferenceCall):
        return {"call": found["call"]}  # the call the parties are in now, as the core answers
    return found


_RESULT_FIELD: dict[type[cmd.Command], str] = {
    cmd.MakeCall: "callingDevice",
    cmd.ConsultationCall: "initiatedCall",
    cmd.TransferCall: "transferredCall",
    cmd.ConferenceCall: "conferenceCall",
    cmd.SingleStepTransferCall: "transferredCall",
    cmd.DirectedPickupCall: "pickedCall",
    cmd.GroupPickupCall: "pickedCall",
}


def _call_device(value: Any) -> dict[str, Any]:
    call, device = parse_connection(value)
    found: dict[str, Any] = {"call": call}
    if device is not None:
        found["device"] = device
    return found


def _number(value: Any) -> str:
    _, ident = value["deviceIdentifier"]
    return str(ident)
