"""Small shared types from CSTA-device-feature-types, CSTA-call-control and
CSTA-connection-states used by the supported services and events."""

from __future__ import annotations

from pyasn1.type import char, constraint, namedtype, namedval, univ, useful

from cti.csta.codec.types.base import app_tagset, explicit, implicit, opaque_ctx
from cti.csta.codec.types.bits import (
    CallAssociatedServices,
    CallControlServices,
    MediaAttachmentServices,
    RouteingServices,
    VoiceUnitServices,
)
from cti.csta.codec.types.causes import EventCause
from cti.csta.codec.types.identifiers import ConnectionID, DeviceID
from cti.csta.codec.types.media import ConnectionInformation

__all__ = [
    "AccountInfo",
    "AuthCode",
    "AutoOriginate",
    "CallLinkageData",
    "CallLinkageDataList",
    "ConnectionList",
    "ConsultOptions",
    "CorrelatorData",
    "DeviceHistory",
    "ForwardDefault",
    "ForwardList",
    "ForwardingType",
    "LanguagePreferences",
    "MessageInfo",
    "ServicesPermitted",
    "SubjectOfCall",
    "SysStatRegisterID",
    "SystemStatus",
    "UserData",
]


class AccountInfo(univ.OctetString):
    pass


class AuthCode(univ.OctetString):
    pass


class CorrelatorData(univ.OctetString):
    pass


class SysStatRegisterID(univ.OctetString):
    pass


class SubjectOfCall(char.IA5String):
    pass


class LanguagePreferences(char.IA5String):
    pass


class UserData(univ.OctetString):
    # [APPLICATION 29] without IMPLICIT in an EXPLICIT-tags module: a wrapper TLV.
    tagSet = app_tagset(univ.OctetString, 29, implicit_tag=False)


class AutoOriginate(univ.Enumerated):
    namedValues = namedval.NamedValues(("prompt", 0), ("doNotPrompt", 1))


class ConsultOptions(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("unrestricted", 0), ("consultOnly", 1), ("transferOnly", 2), ("conferenceOnly", 3)
    )


class SystemStatus(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("disabled", 4),
        ("partiallyDisabled", 8),
        ("enabled", 1),
        ("initializing", 0),
        ("messagesLost", 3),
        ("normal", 2),
        ("overloadImminent", 5),
        ("overloadReached", 6),
        ("overloadRelieved", 7),
    )


class ForwardingType(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("forwardImmediate", 0),
        ("forwardBusy", 1),
        ("forwardNoAns", 2),
        ("forwardDND", 9),
        ("forwardBusyInt", 3),
        ("forwardBusyExt", 4),
        ("forwardNoAnsInt", 5),
        ("forwardNoAnsExt", 6),
        ("forwardImmInt", 7),
        ("forwardImmExt", 8),
        ("forwardDNDInt", 10),
        ("forwardDNDExt", 11),
    )


class ForwardDefault(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("forwardingTypeAndForwardDN", 0), ("forwardingType", 1), ("forwardDN", 2)
    )


class RingCount(univ.Integer):
    subtypeSpec = univ.Integer.subtypeSpec + constraint.ValueRangeConstraint(1, 100)


class _ForwardListEntry(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("forwardingType", ForwardingType()),
        namedtype.NamedType("forwardStatus", univ.Boolean()),
        namedtype.OptionalNamedType("forwardDN", DeviceID()),
        namedtype.OptionalNamedType("forwardDefault", ForwardDefault()),
        namedtype.OptionalNamedType("ringDuration", implicit(univ.Integer(), 0)),
        namedtype.OptionalNamedType("ringCount", RingCount()),
    )


class ForwardList(univ.SequenceOf):
    componentType = _ForwardListEntry()


class MessageInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("contents", char.IA5String()),
        namedtype.OptionalNamedType("contentTypeAndSubtype", char.IA5String()),
        namedtype.OptionalNamedType("contentsLength", univ.Integer()),
    )


class DeviceHistory(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("oldDeviceID", DeviceID()),
        namedtype.OptionalNamedType("eventCause", implicit(EventCause(), 1)),
        namedtype.OptionalNamedType("oldConnectionID", implicit(ConnectionID(), 2)),
    )


class ServicesPermitted(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("callControlServices", CallControlServices()),
        namedtype.NamedType("callAssociatedServices", CallAssociatedServices()),
        namedtype.NamedType("mediaAttachmentServices", MediaAttachmentServices()),
        namedtype.NamedType("routeingServices", RouteingServices()),
        namedtype.NamedType("voiceUnitServices", VoiceUnitServices()),
    )


def _linkage_id(first: str, second: str) -> univ.Choice:
    class _LinkageID(univ.Choice):
        componentType = namedtype.NamedTypes(
            namedtype.NamedType(first, implicit(univ.OctetString(), 0)),
            namedtype.NamedType(second, implicit(univ.OctetString(), 1)),
        )

    return _LinkageID()


class _GlobalCallData(univ.Sequence):
    # TimeInfo is GeneralizedTime: carried as its ASN.1 text (e.g. "20260101120000Z").
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("globalCallSwitchingSubDomainName", char.IA5String()),
        namedtype.NamedType(
            "globalCallLinkageID",
            _linkage_id("subDomainCallLinkageID", "globallyUniqueCallLinkageID"),
        ),
        namedtype.OptionalNamedType("callLinkageIDTimestamp", useful.GeneralizedTime()),
    )


class _ThreadData(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("threadSwitchingSubDomainName", char.IA5String()),
        namedtype.NamedType(
            "threadLinkageID", _linkage_id("subDomainThreadID", "globallyUniqueThreadID")
        ),
        namedtype.OptionalNamedType("threadIDTimeStamp", useful.GeneralizedTime()),
    )


class CallLinkageData(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("globalCallData", _GlobalCallData()),
        namedtype.OptionalNamedType("threadData", _ThreadData()),
    )


class CallLinkageDataList(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("newCallLinkageData", CallLinkageData()),
        namedtype.NamedType("oldCallLinkageData", CallLinkageData()),
    )


class _Endpoint(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("deviceID", DeviceID()),
        namedtype.NamedType("notKnown", univ.Null()),
        namedtype.NamedType("restricted", explicit(univ.Null(), 1)),  # EXPLICIT: no keyword
    )


class _AssociatedNID(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("deviceID", DeviceID()),
        namedtype.NamedType("notKnown", univ.Null()),
    )


class _ConnectionListEntry(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("newConnection", explicit(ConnectionID(), 0)),
        namedtype.OptionalNamedType("oldConnection", explicit(ConnectionID(), 1)),
        namedtype.OptionalNamedType("endpoint", explicit(_Endpoint(), 2)),
        namedtype.OptionalNamedType("associatedNID", explicit(_AssociatedNID(), 3)),
        namedtype.OptionalNamedType("resultingConnectionInfo", ConnectionInformation()),
    )


class ConnectionList(univ.SequenceOf):
    componentType = _ConnectionListEntry()


def location_info(n: int) -> univ.Any:
    """``[n] IMPLICIT LocationInfoList`` (GeoPriv civic locations): not modelled."""
    return opaque_ctx(n)


def charging_info(n: int) -> univ.Any:
    """``[n] IMPLICIT ChargingInfo``: not modelled."""
    return opaque_ctx(n)
