"""Arguments and results of the supported CSTA services (one ECMA-285 module
each: CSTA-make-call, CSTA-monitor-start, ...). Field order, tags and
OPTIONAL/DEFAULT follow the modules; ``extensions`` is CSTACommonArguments
(:mod:`~cti.csta.codec.types.common`); a few exotic fields are
:class:`~cti.csta.codec.types.base.Opaque`."""

from __future__ import annotations

from typing import Any

from pyasn1.type import char, constraint, namedtype, namedval, univ

from cti.csta.codec.types.base import Opaque, explicit, implicit, opaque_ctx
from cti.csta.codec.types.bits import CallCharacteristics, CallOrigination, MonitorMediaClass
from cti.csta.codec.types.causes import EventCause
from cti.csta.codec.types.common import extensions
from cti.csta.codec.types.features import (
    AccountInfo,
    AuthCode,
    AutoOriginate,
    CallLinkageData,
    CallLinkageDataList,
    ConnectionList,
    ConsultOptions,
    CorrelatorData,
    ForwardingType,
    ForwardList,
    LanguagePreferences,
    RingCount,
    SubjectOfCall,
    SysStatRegisterID,
    SystemStatus,
    UserData,
)
from cti.csta.codec.types.identifiers import ConnectionID, CSTAObject, DeviceID, MonitorCrossRefID
from cti.csta.codec.types.media import ConnectionInformation, MediaCallCharacteristics
from cti.csta.codec.types.status import (
    MonitorFilter,
    MonitorType,
    ServiceCrossRefID,
    SnapshotCallData,
    SnapshotDeviceData,
)

N = namedtype.NamedType
O = namedtype.OptionalNamedType  # noqa: E741 - reads like the ASN.1 keyword
D = namedtype.DefaultedNamedType


def _ext() -> Any:
    return O("extensions", extensions())


def _seq(name: str, *fields: Any) -> Any:
    return type(name, (univ.Sequence,), {"componentType": namedtype.NamedTypes(*fields)})


def _no_data(name: str) -> Any:
    """``name ::= CHOICE { extensions CSTACommonArguments, noData NULL }``."""
    fields = namedtype.NamedTypes(N("extensions", extensions()), N("noData", univ.Null()))
    return type(name, (univ.Choice,), {"componentType": fields})


def _new_call_result(name: str, first: str, info: str) -> Any:
    """Shared shape of Transfer/SingleStepTrans/Conference results."""
    return _seq(
        name,
        N(first, ConnectionID()),
        O("connections", implicit(ConnectionList(), 0)),
        O(info, implicit(ConnectionInformation(), 1)),
        O("callLinkageDataList", implicit(CallLinkageDataList(), 2)),
        _ext(),
    )


# -- systemStatus (211) ------------------------------------------------------
SystemStatusArg = _seq(
    "SystemStatusArg",
    O("sysStatRegisterID", SysStatRegisterID()),
    N("systemStatus", SystemStatus()),
    _ext(),
)
SystemStatusRes = _no_data("SystemStatusRes")

# -- monitorStart (71) / monitorStop (73) -------------------------------------
MonitorStartArgument = _seq(
    "MonitorStartArgument",
    N("monitorObject", CSTAObject()),
    O("requestedMonitorFilter", implicit(MonitorFilter(), 0)),
    O("monitorType", MonitorType()),
    O("requestedMonitorMediaClass", implicit(MonitorMediaClass(), 1)),
    _ext(),
)
MonitorStartResult = _seq(
    "MonitorStartResult",
    N("crossRefIdentifier", MonitorCrossRefID()),
    O("actualmonitorFilter", implicit(MonitorFilter(), 0)),
    O("actualMonitorMediaClass", implicit(MonitorMediaClass(), 1)),
    O("monitorExistingCalls", univ.Boolean()),
    _ext(),
)
MonitorStopArgument = _seq(
    "MonitorStopArgument", N("crossRefIdentifier", MonitorCrossRefID()), _ext()
)
MonitorStopResult = _no_data("MonitorStopResult")

# -- snapshotDevice (74) / snapshotCall (75) ----------------------------------
SnapshotDeviceArgument = _seq("SnapshotDeviceArgument", N("snapshotObject", DeviceID()), _ext())


class _DeviceRefOrData(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("serviceCrossRefID", ServiceCrossRefID()), N("snapshotData", SnapshotDeviceData())
    )


SnapshotDeviceResult = _seq(
    "SnapshotDeviceResult", N("crossRefIDorSnapshotData", _DeviceRefOrData()), _ext()
)
SnapshotCallArgument = _seq("SnapshotCallArgument", N("snapshotObject", ConnectionID()), _ext())


class _CallRefOrData(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("serviceCrossRefID", implicit(ServiceCrossRefID(), 0)),
        N("snapshotData", SnapshotCallData()),
    )


def _snapshot_call_result() -> Any:
    from cti.csta.codec.types.features import DeviceHistory, MessageInfo
    from cti.csta.codec.types.identifiers import (
        AssociatedCalledDeviceID,
        AssociatedCallingDeviceID,
        CalledDeviceID,
        CallingDeviceID,
    )

    return _seq(
        "SnapshotCallResult",
        N("crossRefIDorSnapshotData", _CallRefOrData()),
        O("mediaCallCharacteristics", MediaCallCharacteristics()),
        O("callCharacteristics", CallCharacteristics()),
        O("callingDevice", CallingDeviceID()),
        O("calledDevice", CalledDeviceID()),
        O("associatedCallingDeviceID", AssociatedCallingDeviceID()),
        O("associatedCalledDeviceID", AssociatedCalledDeviceID()),
        O("correlatorData", implicit(CorrelatorData(), 1)),
        O("callLinkageData", implicit(CallLinkageData(), 2)),
        O("subjectOfCall", implicit(SubjectOfCall(), 3)),
        O("messageInfo", implicit(MessageInfo(), 4)),
        O("languagePreferences", implicit(LanguagePreferences(), 5)),
        O("deviceHistory", implicit(DeviceHistory(), 6)),
        _ext(),
    )


SnapshotCallResult = _snapshot_call_result()

# -- makeCall (10) ------------------------------------------------------------
MakeCallArgument = _seq(
    "MakeCallArgument",
    N("callingDevice", DeviceID()),
    N("calledDirectoryNumber", DeviceID()),
    O("accountCode", implicit(AccountInfo(), 0)),
    O("authCode", implicit(AuthCode(), 1)),
    D("autoOriginate", implicit(AutoOriginate("prompt"), 3)),
    O("correlatorData", implicit(CorrelatorData(), 2)),
    O("userData", UserData()),
    O("callCharacteristics", CallCharacteristics()),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 4)),
    O("callingConnectionInfo", implicit(ConnectionInformation(), 5)),
    O("subjectOfCall", implicit(SubjectOfCall(), 6)),
    O("languagePreferences", implicit(LanguagePreferences(), 7)),
    O("reason", implicit(EventCause(), 8)),
    _ext(),
)
MakeCallResult = _seq(
    "MakeCallResult",
    N("callingDevice", ConnectionID()),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 0)),
    O("initiatedCallInfo", implicit(ConnectionInformation(), 1)),
    O("callLinkageData", implicit(CallLinkageData(), 2)),
    _ext(),
)

# -- answerCall (2), clearConnection (5), clearCall (4) ------------------------
AnswerCallArgument = _seq(
    "AnswerCallArgument",
    N("callToBeAnswered", ConnectionID()),
    O("correlatorData", CorrelatorData()),
    O("userData", UserData()),
    _ext(),
)
AnswerCallResult = _no_data("AnswerCallResult")
ClearConnectionArgument = _seq(
    "ClearConnectionArgument",
    N("connectionToBeCleared", ConnectionID()),
    O("correlatorData", CorrelatorData()),
    O("userData", UserData()),
    O("reason", EventCause()),
    _ext(),
)
ClearConnectionResult = _no_data("ClearConnectionResult")
ClearCallArgument = _seq(
    "ClearCallArgument",
    N("callToBeCleared", ConnectionID()),
    O("userData", UserData()),
    O("reason", EventCause()),
    _ext(),
)
ClearCallResult = _no_data("ClearCallResult")

# -- holdCall (9), retrieveCall (14) ------------------------------------------
HoldCallArgument = _seq(
    "HoldCallArgument",
    N("callToBeHeld", ConnectionID()),
    O("connectionReservation", univ.Boolean()),
    _ext(),
)
HoldCallResult = _no_data("HoldCallResult")
RetrieveCallArgument = _seq("RetrieveCallArgument", N("callToBeRetrieved", ConnectionID()), _ext())
RetrieveCallResult = _no_data("RetrieveCallResult")

# -- consultationCall (7) -------------------------------------------------------
ConsultationCallArgument = _seq(
    "ConsultationCallArgument",
    N("existingCall", implicit(ConnectionID(), 0)),
    N("consultedDevice", explicit(DeviceID(), 1)),
    O("connectionReservation", implicit(univ.Boolean(), 2)),
    O("accountCode", implicit(AccountInfo(), 3)),
    O("authCode", implicit(AuthCode(), 4)),
    O("correlatorData", implicit(CorrelatorData(), 5)),
    # [6] IMPLICIT on the [APPLICATION 29]-wrapped UserData replaces the wrapper.
    O("userData", implicit(UserData(), 6)),
    O("callCharacteristics", implicit(CallCharacteristics(), 7)),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 8)),
    O("callingConnectionInfo", implicit(ConnectionInformation(), 9)),
    D("consultOptions", implicit(ConsultOptions("unrestricted"), 10)),
    O("subjectOfCall", implicit(SubjectOfCall(), 11)),
    O("languagePreferences", implicit(LanguagePreferences(), 12)),
    _ext(),
)
ConsultationCallResult = _seq(
    "ConsultationCallResult",
    N("initiatedCall", ConnectionID()),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 0)),
    O("initiatedCallInfo", implicit(ConnectionInformation(), 1)),
    O("callLinkageData", implicit(CallLinkageData(), 2)),
    _ext(),
)

# -- alternateCall (1), reconnectCall (13) ----------------------------------------
AlternateCallArgument = _seq(
    "AlternateCallArgument",
    N("heldCall", ConnectionID()),
    N("activeCall", ConnectionID()),
    O("connectionReservation", univ.Boolean()),
    D("consultOptions", ConsultOptions("unrestricted")),
    _ext(),
)
AlternateCallResult = _no_data("AlternateCallResult")
ReconnectCallArgument = _seq(
    "ReconnectCallArgument", N("activeCall", ConnectionID()), N("heldCall", ConnectionID()), _ext()
)
ReconnectCallResult = _no_data("ReconnectCallResult")

# -- transferCall (16), singleStepTransfer (50), conferenceCall (6) ---------------
TransferCallArgument = _seq(
    "TransferCallArgument", N("heldCall", ConnectionID()), N("activeCall", ConnectionID()), _ext()
)
TransferCallResult = _new_call_result(
    "TransferCallResult", "transferredCall", "transferredCallInfo"
)
SingleStepTransArgument = _seq(
    "SingleStepTransArgument",
    N("activeCall", ConnectionID()),
    N("transferredTo", DeviceID()),
    O("accountCode", implicit(AccountInfo(), 0)),
    O("authCode", implicit(AuthCode(), 1)),
    O("correlatorData", implicit(CorrelatorData(), 2)),
    O("userData", UserData()),
    O("callCharacteristics", implicit(CallCharacteristics(), 3)),
    O("subjectOfCall", implicit(SubjectOfCall(), 4)),
    O("languagePreferences", implicit(LanguagePreferences(), 5)),
    O("reason", implicit(EventCause(), 6)),
    _ext(),
)
SingleStepTransResult = _new_call_result(
    "SingleStepTransResult", "transferredCall", "transferredCallInfo"
)
ConferenceCallArgument = _seq(
    "ConferenceCallArgument", N("heldCall", ConnectionID()), N("activeCall", ConnectionID()), _ext()
)
ConferenceCallResult = _new_call_result(
    "ConferenceCallResult", "conferenceCall", "conferenceCallInfo"
)


# -- deflectCall (218), directedPickupCall (220), groupPickupCall (221) ------------
class DeviceIDList(univ.SequenceOf):
    componentType = DeviceID()


DeflectCallArgument = _seq(
    "DeflectCallArgument",
    N("callToBeDiverted", ConnectionID()),
    N("newDestination", DeviceID()),
    O("addNewDestinationsList", DeviceIDList()),
    O("correlatorData", CorrelatorData()),
    O("userData", UserData()),
    O("callCharacteristics", implicit(CallCharacteristics(), 0)),
    O("subjectOfCall", implicit(SubjectOfCall(), 1)),
    O("languagePreferences", implicit(LanguagePreferences(), 2)),
    O("reason", implicit(EventCause(), 3)),
    _ext(),
)
DeflectCallResult = _no_data("DeflectCallResult")
DirectedPickupCallArgument = _seq(
    "DirectedPickupCallArgument",
    N("callToBePickedUp", ConnectionID()),
    N("requestingDevice", DeviceID()),
    O("correlatorData", CorrelatorData()),
    O("userData", UserData()),
    _ext(),
)


def _pickup_result(name: str) -> Any:
    return _seq(
        name,
        O("pickedCall", ConnectionID()),
        O("pickedCallInfo", ConnectionInformation()),
        O("callLinkageData", implicit(CallLinkageData(), 1)),
        _ext(),
    )


DirectedPickupCallResult = _pickup_result("DirectedPickupCallResult")
GroupPickupCallArgument = _seq(
    "GroupPickupCallArgument",
    N("newDestination", DeviceID()),
    O("pickGroup", DeviceID()),
    O("correlatorData", CorrelatorData()),
    O("userData", UserData()),
    _ext(),
)
GroupPickupCallResult = _pickup_result("GroupPickupCallResult")

# -- setForwarding (317), getForwarding (309), setDoNotDisturb (316) ---------------
SetForwardingArgument = _seq(
    "SetForwardingArgument",
    N("device", DeviceID()),
    O("forwardingType", ForwardingType()),
    N("activateForward", univ.Boolean()),
    O("forwardDN", DeviceID()),
    O("ringCount", RingCount()),
    O("ringDuration", implicit(univ.Integer(), 3)),
    _ext(),
)
SetForwardingResult = _no_data("SetForwardingResult")
GetForwardingArgument = _seq("GetForwardingArgument", N("device", DeviceID()), _ext())
GetForwardingResult = _seq("GetForwardingResult", N("forwardingList", ForwardList()), _ext())
SetDoNotDisturbArgument = _seq(
    "SetDoNotDisturbArgument",
    N("device", DeviceID()),
    N("doNotDisturbOn", univ.Boolean()),
    O("callOrigination", CallOrigination()),
    O("callingDeviceList", DeviceIDList()),
    _ext(),
)
SetDoNotDisturbResult = _no_data("SetDoNotDisturbResult")

# -- getDoNotDisturb (308) ----------------------------------------------------------
GetDoNotDisturbArgument = _seq("GetDoNotDisturbArgument", N("device", DeviceID()), _ext())
GetDoNotDisturbResult = _seq(
    "GetDoNotDisturbResult",
    N("doNotDisturbOn", univ.Boolean()),
    O("callOrigination", CallOrigination()),
    O("callingDeviceList", DeviceIDList()),
    _ext(),
)

# -- changeMonitorFilter (72) ----------------------------------------------------------
ChangeMonitorFilterArgument = _seq(
    "ChangeMonitorFilterArgument",
    N("crossRefIdentifier", MonitorCrossRefID()),
    N("requestedFilterList", MonitorFilter()),
    _ext(),
)
ChangeMonitorFilterResult = _seq(
    "ChangeMonitorFilterResult", O("actualFilterList", MonitorFilter()), _ext()
)


# -- setDisplay (274); DisplayID and CharacterSet are CSTA-physical-device-feature's ------
class DisplayID(univ.OctetString):
    pass


class CharacterSet(univ.Enumerated):
    namedValues = namedval.NamedValues(("ascii", 0), ("unicode", 1), ("proprietary", 2))
    subtypeSpec = univ.Enumerated.subtypeSpec + constraint.SingleValueConstraint(0, 1, 2)


SetDisplayArgument = _seq(
    "SetDisplayArgument",
    N("device", DeviceID()),
    O("display", DisplayID()),
    O("physicalBaseRowNumber", implicit(univ.Integer(), 0)),
    O("physicalBaseColumnNumber", implicit(univ.Integer(), 1)),
    N(
        "contentsOfDisplay",
        char.IA5String().subtype(subtypeSpec=constraint.ValueSizeConstraint(0, 240)),
    ),
    O("offset", implicit(univ.Integer(), 2)),
    O("characterSet", implicit(CharacterSet(), 3)),
    _ext(),
)
SetDisplayResult = _no_data("SetDisplayResult")


# -- generateDigits (232) ---------------------------------------------------------------
class DigitMode(univ.Enumerated):
    namedValues = namedval.NamedValues(("rotaryPulse", 0), ("dTMF", 1))
    subtypeSpec = univ.Enumerated.subtypeSpec + constraint.SingleValueConstraint(0, 1)


GenerateDigitsArgument = _seq(
    "GenerateDigitsArgument",
    N("connectionToSendDigits", ConnectionID()),
    O("digitMode", DigitMode()),
    N("charactersToSend", char.IA5String()),
    O("toneDuration", implicit(univ.Integer(), 0)),
    O("pulseRate", implicit(univ.Integer(), 1)),
    O("pauseDuration", implicit(univ.Integer(), 2)),
    _ext(),
)
GenerateDigitsResult = _no_data("GenerateDigitsResult")

# -- escape (51) ------------------------------------------------------------------------
# CSTAPrivateData is a CHOICE of an OCTET STRING and a NULL "replaced with another valid ASN.1
# type" by each manufacturer: an open type here, so any private encoding is accepted (value
# notation: the whole TLV as bytes). The escape register id ([0], tagged implicitly or
# explicitly depending on the module's reading) and the security data are accepted and
# skipped, like extensions.
EscapeArgument = _seq(
    "EscapeArgument",
    O("escapeRegisterID", opaque_ctx(0)),
    O("security", Opaque(tagSet=univ.Sequence.tagSet)),  # CSTASecurityData: skipped
    N("privateData", univ.Any()),
)
EscapeResult = _no_data("EscapeResult")
