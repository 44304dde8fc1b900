"""Operation and error codes of the supported subset (ECMA-285 ``CODE local: n``).

Mirrors specs/csta/opcodes.json (a test keeps them in sync); argument,
result and parameter names are type names known to :func:`cti.csta.codec.encode`.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ERRORS", "ERRORS_BY_CODE", "OPERATIONS", "OPERATIONS_BY_CODE", "Operation"]


class Operation(NamedTuple):
    code: int
    name: str
    argument: str
    result: str | None


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(1, "alternateCall", "AlternateCallArgument", "AlternateCallResult"),
        Operation(2, "answerCall", "AnswerCallArgument", "AnswerCallResult"),
        Operation(4, "clearCall", "ClearCallArgument", "ClearCallResult"),
        Operation(5, "clearConnection", "ClearConnectionArgument", "ClearConnectionResult"),
        Operation(6, "conferenceCall", "ConferenceCallArgument", "ConferenceCallResult"),
        Operation(7, "consultationCall", "ConsultationCallArgument", "ConsultationCallResult"),
        Operation(9, "holdCall", "HoldCallArgument", "HoldCallResult"),
        Operation(10, "makeCall", "MakeCallArgument", "MakeCallResult"),
        Operation(13, "reconnectCall", "ReconnectCallArgument", "ReconnectCallResult"),
        Operation(14, "retrieveCall", "RetrieveCallArgument", "RetrieveCallResult"),
        Operation(16, "transferCall", "TransferCallArgument", "TransferCallResult"),
        Operation(21, "cSTAEventReport", "CSTAEventReportArgument", None),
        Operation(50, "singleStepTrans", "SingleStepTransArgument", "SingleStepTransResult"),
        Operation(51, "escape", "EscapeArgument", "EscapeResult"),
        Operation(71, "monitorStart", "MonitorStartArgument", "MonitorStartResult"),
        Operation(
            72, "changeMonitorFilter", "ChangeMonitorFilterArgument", "ChangeMonitorFilterResult"
        ),
        Operation(73, "monitorStop", "MonitorStopArgument", "MonitorStopResult"),
        Operation(74, "snapshotDevice", "SnapshotDeviceArgument", "SnapshotDeviceResult"),
        Operation(75, "snapshotCall", "SnapshotCallArgument", "SnapshotCallResult"),
        Operation(211, "systemStatus", "SystemStatusArg", "SystemStatusRes"),
        Operation(218, "deflectCall", "DeflectCallArgument", "DeflectCallResult"),
        Operation(
            220, "directedPickupCall", "DirectedPickupCallArgument", "DirectedPickupCallResult"
        ),
        Operation(221, "groupPickupCall", "GroupPickupCallArgument", "GroupPickupCallResult"),
        Operation(232, "generateDigits", "GenerateDigitsArgument", "GenerateDigitsResult"),
        Operation(274, "setDisplay", "SetDisplayArgument", "SetDisplayResult"),
        Operation(308, "getDoNotDisturb", "GetDoNotDisturbArgument", "GetDoNotDisturbResult"),
        Operation(309, "getForwarding", "GetForwardingArgument", "GetForwardingResult"),
        Operation(316, "setDoNotDisturb", "SetDoNotDisturbArgument", "SetDoNotDisturbResult"),
        Operation(317, "setForwarding", "SetForwardingArgument", "SetForwardingResult"),
    )
}
OPERATIONS_BY_CODE: dict[int, Operation] = {op.code: op for op in OPERATIONS.values()}

# ERROR objects: "argument" holds the PARAMETER type.
ERRORS: dict[str, Operation] = {
    err.name: err for err in (Operation(1, "universalFailure", "UniversalFailure", None),)
}
ERRORS_BY_CODE: dict[int, Operation] = {err.code: err for err in ERRORS.values()}
