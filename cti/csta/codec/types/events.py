"""CSTAEventReportArgument (operation cSTAEventReport, local:21) and the
supported events. Event categories/events not listed here are absent from the
CHOICEs, so a report carrying one fails to decode (MistypedArgument)."""

from __future__ import annotations

from typing import Any

from pyasn1.type import namedtype, namedval, univ

from cti.csta.codec.types.base import explicit, implicit
from cti.csta.codec.types.bits import CallCharacteristics, CallOrigination
from cti.csta.codec.types.causes import EventCause
from cti.csta.codec.types.common import extensions
from cti.csta.codec.types.features import (
    CallLinkageData,
    CallLinkageDataList,
    ConnectionList,
    CorrelatorData,
    DeviceHistory,
    ForwardDefault,
    ForwardingType,
    LanguagePreferences,
    MessageInfo,
    RingCount,
    ServicesPermitted,
    SubjectOfCall,
    UserData,
    charging_info,
    location_info,
)
from cti.csta.codec.types.identifiers import (
    AssociatedCalledDeviceID,
    AssociatedCallingDeviceID,
    CalledDeviceID,
    CallingDeviceID,
    ConnectionID,
    DeviceID,
    LocalConnectionState,
    MonitorCrossRefID,
    NetworkCalledDeviceID,
    NetworkCallingDeviceID,
    RedirectionDeviceID,
    SubjectDeviceID,
)
from cti.csta.codec.types.media import ConnectionInformation, MediaCallCharacteristics
from cti.csta.codec.types.services import DeviceIDList

N = namedtype.NamedType
O = namedtype.OptionalNamedType  # noqa: E741 - reads like the ASN.1 keyword


def _seq(name: str, *fields: Any) -> Any:
    return type(name, (univ.Sequence,), {"componentType": namedtype.NamedTypes(*fields)})


def _ext() -> Any:
    return O("extensions", extensions())


def _net_assoc(called: bool = True) -> list[Any]:
    fields = [
        O("networkCallingDevice", NetworkCallingDeviceID()),
        O("networkCalledDevice", NetworkCalledDeviceID()),
        O("associatedCallingDevice", AssociatedCallingDeviceID()),
    ]
    if called:
        fields.append(O("associatedCalledDevice", AssociatedCalledDeviceID()))
    return fields


def _call_event(name: str, conn: str, subject: str, info: str, *, queued: bool = False) -> Any:
    """Delivered/Established/Failed/Queued share this layout; only the first
    context tag number differs (Queued inserts numberQueued/callsInFront)."""
    t = 2 if queued else (1 if name == "EstablishedEvent" else 0)
    head = [
        N(conn, ConnectionID()),
        N(subject, SubjectDeviceID()),
        N("callingDevice", CallingDeviceID()),
        N("calledDevice", CalledDeviceID()),
        N("lastRedirectionDevice", RedirectionDeviceID()),
    ]
    if queued:
        head += [
            O("numberQueued", implicit(univ.Integer(), 0)),
            O("callsInFront", implicit(univ.Integer(), 1)),
        ]
    else:
        head.append(O("originatingNIDConnection", ConnectionID()))
    return _seq(
        name,
        *head,
        O("localConnectionInfo", LocalConnectionState()),
        O("correlatorData", implicit(CorrelatorData(), t)),
        O("userData", UserData()),
        N("cause", EventCause()),
        O("servicesPermitted", implicit(ServicesPermitted(), t + 1)),
        *_net_assoc(),
        O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), t + 2)),
        O("callCharacteristics", implicit(CallCharacteristics(), t + 3)),
        O(info, implicit(ConnectionInformation(), t + 4)),
        O("callLinkageData", implicit(CallLinkageData(), t + 5)),
        O("subjectOfCall", implicit(SubjectOfCall(), t + 6)),
        O("messageInfo", implicit(MessageInfo(), t + 7)),
        O("languagePreferences", implicit(LanguagePreferences(), t + 8)),
        O("deviceHistory", implicit(DeviceHistory(), t + 9)),
        O("locationInfo", location_info(t + 10)),
        _ext(),
    )


DeliveredEvent = _call_event("DeliveredEvent", "connection", "alertingDevice", "connectionInfo")
EstablishedEvent = _call_event(
    "EstablishedEvent", "establishedConnection", "answeringDevice", "establishedConnectionInfo"
)
FailedEvent = _call_event(
    "FailedEvent", "failedConnection", "failingDevice", "failedConnectionInfo"
)
QueuedEvent = _call_event(
    "QueuedEvent", "queuedConnection", "queue", "queuedConnectionInfo", queued=True
)


class NetworkType(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("iSDNPublic", 0),
        ("nonISDNPublic", 1),
        ("iSDNPrivate", 2),
        ("nonISDNPrivate", 3),
        ("other", 4),
    )


class EventsProvided(univ.BitString):
    namedValues = namedval.NamedValues(
        ("bridged", 0),
        ("allCleared", 1),
        ("conferenced", 2),
        ("connectionCleared", 3),
        ("delivered", 4),
        ("digitsDialed", 5),
        ("diverted", 6),
        ("established", 7),
        ("failed", 8),
        ("held", 9),
        ("networkCapabilitiesChange", 10),
        ("networkReached", 11),
        ("offered", 12),
        ("originated", 13),
        ("queued", 14),
        ("retrieved", 15),
        ("serviceInitiated", 16),
        ("transferred", 17),
    )


NetworkCapability = _seq(
    "NetworkCapability",
    N("networkType", NetworkType()),
    O("eventsProvided", EventsProvided()),
)

NetworkReachedEvent = _seq(
    "NetworkReachedEvent",
    N("outboundConnection", ConnectionID()),
    N("networkInterfaceUsed", SubjectDeviceID()),
    N("callingDevice", CallingDeviceID()),
    N("calledDevice", CalledDeviceID()),
    N("lastRedirectionDevice", RedirectionDeviceID()),
    O("originatingNIDConneciton", ConnectionID()),  # sic: the standard's spelling
    O("localConnectionInfo", LocalConnectionState()),
    O("correlatorData", implicit(CorrelatorData(), 0)),
    O("userData", UserData()),
    O("networkCapability", implicit(NetworkCapability(), 1)),
    N("cause", EventCause()),
    O("servicesPermitted", implicit(ServicesPermitted(), 2)),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 3)),
    O("callCharacteristics", implicit(CallCharacteristics(), 4)),
    O("outboundConnectionInfo", implicit(ConnectionInformation(), 5)),
    O("networkCallingDevice", NetworkCallingDeviceID()),
    O("networkCalledDevice", NetworkCalledDeviceID()),
    O("associatedCallingDevice", AssociatedCallingDeviceID()),
    O("callLinkageData", implicit(CallLinkageData(), 6)),
    O("languagePreferences", implicit(LanguagePreferences(), 7)),
    O("deviceHistory", implicit(DeviceHistory(), 8)),
    O("locationInfo", location_info(9)),
    _ext(),
)

OfferedEvent = _seq(
    "OfferedEvent",
    N("offeredConnection", ConnectionID()),
    N("offeredDevice", SubjectDeviceID()),
    N("callingDevice", CallingDeviceID()),
    N("calledDevice", CalledDeviceID()),
    N("lastRedirectionDevice", RedirectionDeviceID()),
    O("originatingNIDConnection", ConnectionID()),
    O("localConnectionInfo", LocalConnectionState()),
    O("correlatorData", CorrelatorData()),
    O("userData", UserData()),
    N("cause", EventCause()),
    O("servicesPermitted", implicit(ServicesPermitted(), 0)),
    *_net_assoc(),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 1)),
    O("callCharacteristics", implicit(CallCharacteristics(), 2)),
    O("offeredConnectionInfo", implicit(ConnectionInformation(), 3)),
    O("callLinkageData", implicit(CallLinkageData(), 4)),
    O("subjectOfCall", implicit(SubjectOfCall(), 5)),
    O("messageInfo", implicit(MessageInfo(), 6)),
    O("languagePreferences", implicit(LanguagePreferences(), 7)),
    O("deviceHistory", implicit(DeviceHistory(), 8)),
    O("locationInfo", location_info(9)),
    _ext(),
)

OriginatedEvent = _seq(
    "OriginatedEvent",
    N("originatedConnection", ConnectionID()),
    N("callingDevice", SubjectDeviceID()),
    N("calledDevice", CalledDeviceID()),
    O("originatingDevice", DeviceID()),
    O("localConnectionInfo", LocalConnectionState()),
    O("correlatorData", implicit(CorrelatorData(), 2)),
    N("cause", EventCause()),
    O("servicesPermitted", implicit(ServicesPermitted(), 3)),
    *_net_assoc(),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 4)),
    O("callCharacteristics", implicit(CallCharacteristics(), 5)),
    O("originatedConnectionInfo", implicit(ConnectionInformation(), 6)),
    O("callLinkageData", implicit(CallLinkageData(), 7)),
    O("subjectOfCall", implicit(SubjectOfCall(), 8)),
    O("messageInfo", implicit(MessageInfo(), 9)),
    O("languagePreferences", implicit(LanguagePreferences(), 10)),
    O("locationInfo", location_info(11)),
    _ext(),
)


def _hold_event(name: str, conn: str, device: str, info: str) -> Any:
    """Held and Retrieved events are tag-for-tag identical."""
    return _seq(
        name,
        N(conn, ConnectionID()),
        N(device, SubjectDeviceID()),
        O("localConnectionInfo", LocalConnectionState()),
        O("correlatorData", implicit(CorrelatorData(), 0)),
        N("cause", EventCause()),
        O("servicesPermitted", implicit(ServicesPermitted(), 1)),
        O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 2)),
        O("callCharacteristics", implicit(CallCharacteristics(), 3)),
        O(info, implicit(ConnectionInformation(), 4)),
        O("callLinkageData", implicit(CallLinkageData(), 5)),
        O("languagePreferences", implicit(LanguagePreferences(), 6)),
        O("locationInfo", location_info(7)),
        _ext(),
    )


HeldEvent = _hold_event("HeldEvent", "heldConnection", "holdingDevice", "heldConnectionInfo")
RetrievedEvent = _hold_event(
    "RetrievedEvent", "retrievedConnection", "retrievingDevice", "retrievedConnectionInfo"
)

ConnectionClearedEvent = _seq(
    "ConnectionClearedEvent",
    N("droppedConnection", ConnectionID()),
    N("releasingDevice", SubjectDeviceID()),
    O("localConnectionInfo", LocalConnectionState()),
    O("correlatorData", implicit(CorrelatorData(), 0)),
    O("userData", UserData()),
    O("chargingInfo", charging_info(1)),
    N("cause", EventCause()),
    O("servicesPermitted", implicit(ServicesPermitted(), 2)),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 3)),
    O("callCharacteristics", implicit(CallCharacteristics(), 4)),
    O("droppedConnectionInfo", implicit(ConnectionInformation(), 5)),
    O("callLinkageData", implicit(CallLinkageData(), 6)),
    O("languagePreferences", implicit(LanguagePreferences(), 7)),
    O("deviceHistory", implicit(DeviceHistory(), 8)),
    O("locationInfo", location_info(9)),
    _ext(),
)

CallClearedEvent = _seq(
    "CallClearedEvent",
    N("clearedCall", ConnectionID()),
    O("correlatorData", implicit(CorrelatorData(), 1)),
    O("userData", UserData()),
    N("cause", EventCause()),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 2)),
    O("callCharacteristics", implicit(CallCharacteristics(), 3)),
    O("callLinkageData", implicit(CallLinkageData(), 4)),
    O("languagePreferences", implicit(LanguagePreferences(), 5)),
    O("locationInfo", location_info(6)),
    _ext(),
)

DivertedEvent = _seq(
    "DivertedEvent",
    N("connection", ConnectionID()),
    N("divertingDevice", SubjectDeviceID()),
    N("newDestination", SubjectDeviceID()),
    O("callingDevice", CallingDeviceID()),
    O("calledDevice", CalledDeviceID()),
    N("lastRedirectionDevice", RedirectionDeviceID()),
    O("localConnectionInfo", LocalConnectionState()),
    O("correlatorData", implicit(CorrelatorData(), 0)),
    O("userData", UserData()),
    N("cause", EventCause()),
    O("servicesPermitted", implicit(ServicesPermitted(), 1)),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 2)),
    O("callCharacteristics", implicit(CallCharacteristics(), 3)),
    O("connectionInfo", implicit(ConnectionInformation(), 4)),
    *_net_assoc(),
    O("callLinkageData", implicit(CallLinkageData(), 5)),
    O("subjectOfCall", implicit(SubjectOfCall(), 6)),
    O("messageInfo", implicit(MessageInfo(), 7)),
    O("languagePreferences", implicit(LanguagePreferences(), 8)),
    O("deviceHistory", implicit(DeviceHistory(), 9)),
    O("locationInfo", location_info(10)),
    _ext(),
)

TransferredEvent = _seq(
    "TransferredEvent",
    N("primaryOldCall", ConnectionID()),
    O("secondaryOldCall", implicit(ConnectionID(), 0)),
    N("transferringDevice", SubjectDeviceID()),
    N("transferredToDevice", SubjectDeviceID()),
    N("transferredConnections", implicit(ConnectionList(), 1)),
    O("localConnectionInfo", LocalConnectionState()),
    O("correlatorData", implicit(CorrelatorData(), 2)),
    O("userData", UserData()),
    O("chargingInfo", charging_info(3)),
    N("cause", EventCause()),
    O("servicesPermitted", implicit(ServicesPermitted(), 4)),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 5)),
    O("callCharacteristics", implicit(CallCharacteristics(), 6)),
    O("callLinkageDataList", implicit(CallLinkageDataList(), 7)),
    O("languagePreferences", implicit(LanguagePreferences(), 8)),
    O("deviceHistory", implicit(DeviceHistory(), 9)),
    O("locationInfo", location_info(10)),
    _ext(),
)

ConferencedEvent = _seq(
    "ConferencedEvent",
    N("primaryOldCall", ConnectionID()),
    O("secondaryOldCall", ConnectionID()),
    N("conferencingDevice", SubjectDeviceID()),
    N("addedParty", SubjectDeviceID()),
    N("conferenceConnections", ConnectionList()),
    O("localConnectionInfo", LocalConnectionState()),
    O("correlatorData", implicit(CorrelatorData(), 1)),
    O("userData", UserData()),
    N("cause", EventCause()),
    O("servicesPermitted", implicit(ServicesPermitted(), 2)),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 3)),
    O("callCharacteristics", implicit(CallCharacteristics(), 4)),
    O("callLinkageDataList", implicit(CallLinkageDataList(), 6)),
    O("languagePreferences", implicit(LanguagePreferences(), 7)),
    O("deviceHistory", implicit(DeviceHistory(), 8)),
    O("locationInfo", location_info(9)),
    # Unlike every other event, extensions is "[5] IMPLICIT" here.
    O("extensions", implicit(extensions(), 5)),
)

ServiceInitiatedEvent = _seq(
    "ServiceInitiatedEvent",
    N("initiatedConnection", ConnectionID()),
    N("initiatingDevice", SubjectDeviceID()),
    O("calledDevice", CalledDeviceID()),
    O("localConnectionInfo", LocalConnectionState()),
    O("correlatorData", implicit(CorrelatorData(), 0)),
    N("cause", EventCause()),
    O("servicesPermitted", implicit(ServicesPermitted(), 1)),
    O("mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 2)),
    O("callCharacteristics", implicit(CallCharacteristics(), 3)),
    O("initiatedConnectionInfo", implicit(ConnectionInformation(), 4)),
    *_net_assoc(called=False),
    O("callLinkageData", implicit(CallLinkageData(), 5)),
    O("subjectOfCall", implicit(SubjectOfCall(), 7)),
    O("messageInfo", implicit(MessageInfo(), 8)),
    O("languagePreferences", implicit(LanguagePreferences(), 9)),
    O("locationInfo", location_info(10)),
    _ext(),
)

DigitsDialedEvent = _seq(
    "DigitsDialedEvent",
    N("dialingConnection", ConnectionID()),
    N("dialingDevice", SubjectDeviceID()),
    N("dialingSequence", DeviceID()),
    O("localConnectionInfo", LocalConnectionState()),
    O("correlatorData", implicit(CorrelatorData(), 0)),
    N("cause", EventCause()),
    O("servicesPermitted", implicit(ServicesPermitted(), 1)),
    *_net_assoc(),
    O("dialingConnectionInfo", implicit(ConnectionInformation(), 2)),
    O("callCharacteristics", implicit(CallCharacteristics(), 3)),
    O("callLinkageData", implicit(CallLinkageData(), 4)),
    O("languagePreferences", implicit(LanguagePreferences(), 5)),
    O("locationInfo", location_info(6)),
    _ext(),
)

DoNotDisturbEvent = _seq(
    "DoNotDisturbEvent",
    N("device", SubjectDeviceID()),
    N("doNotDisturbOn", univ.Boolean()),
    O("callOrigination", CallOrigination()),
    O("callingDeviceList", DeviceIDList()),
    _ext(),
)

ForwardingEvent = _seq(
    "ForwardingEvent",
    N("device", SubjectDeviceID()),
    O("forwardingType", ForwardingType()),
    N("forwardStatus", univ.Boolean()),
    O("forwardTo", DeviceID()),
    O("forwardDefault", ForwardDefault()),
    O("ringCount", RingCount()),
    O("ringDuration", implicit(univ.Integer(), 4)),
    _ext(),
)


def _choice(name: str, *fields: Any) -> Any:
    return type(name, (univ.Choice,), {"componentType": namedtype.NamedTypes(*fields)})


CallControlEvents = _choice(
    "CallControlEvents",
    N("callCleared", implicit(CallClearedEvent(), 1)),
    N("conferenced", implicit(ConferencedEvent(), 2)),
    N("connectionCleared", implicit(ConnectionClearedEvent(), 3)),
    N("delivered", implicit(DeliveredEvent(), 4)),
    N("digitsDialed", implicit(DigitsDialedEvent(), 5)),
    N("diverted", implicit(DivertedEvent(), 6)),
    N("established", implicit(EstablishedEvent(), 7)),
    N("failed", implicit(FailedEvent(), 8)),
    N("held", implicit(HeldEvent(), 9)),
    N("networkReached", implicit(NetworkReachedEvent(), 11)),
    N("offered", implicit(OfferedEvent(), 12)),
    N("originated", implicit(OriginatedEvent(), 13)),
    N("queued", implicit(QueuedEvent(), 14)),
    N("retrieved", implicit(RetrievedEvent(), 15)),
    N("serviceInitiated", implicit(ServiceInitiatedEvent(), 16)),
    N("transferred", implicit(TransferredEvent(), 17)),
)

LogicalDeviceFeatureEvents = _choice(
    "LogicalDeviceFeatureEvents",
    N("doNotDisturb", implicit(DoNotDisturbEvent(), 11)),
    N("forwarding", implicit(ForwardingEvent(), 12)),
)

EventSpecificInfo = _choice(
    "EventSpecificInfo",
    N("callControlEvents", explicit(CallControlEvents(), 0)),
    N("logicalDeviceFeatureEvents", explicit(LogicalDeviceFeatureEvents(), 4)),
)

CSTAEventReportArgument = _seq(
    "CSTAEventReportArgument",
    N("crossRefIdentifier", MonitorCrossRefID()),
    N("eventSpecificInfo", EventSpecificInfo()),
)
