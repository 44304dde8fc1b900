"""Monitoring and snapshot types (CSTA-status-reporting)."""

from __future__ import annotations

from pyasn1.type import namedtype, namedval, univ

from cti.csta.codec.types.base import app_tagset, implicit, opaque_ctx
from cti.csta.codec.types.bits import (
    CallAssociatedEvents,
    CallControlEvents,
    DeviceMaintenanceEvents,
    LogicalDeviceFeatureEvents,
    MediaAttachmentEvents,
    PhysicalDeviceFeatureEvents,
    VendorSpecEvents,
    VoiceUnitEvents,
)
from cti.csta.codec.types.features import CallLinkageData, ServicesPermitted
from cti.csta.codec.types.identifiers import ConnectionID, LocalConnectionState, SubjectDeviceID
from cti.csta.codec.types.media import MediaCallCharacteristics

__all__ = [
    "MonitorFilter",
    "MonitorType",
    "ServiceCrossRefID",
    "SnapshotCallData",
    "SnapshotDeviceData",
]


class ServiceCrossRefID(univ.OctetString):
    # Defined in CSTA-capability-exchange (not shipped with the modules): OCTET STRING.
    pass


class MonitorType(univ.Enumerated):
    namedValues = namedval.NamedValues(("call", 0), ("device", 1))


def _filter(bits: univ.BitString, n: int) -> univ.BitString:
    # Each filter is "[n] IMPLICIT ... DEFAULT {}": absent means "no event filtered".
    return implicit(bits.clone(()), n)


class MonitorFilter(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.DefaultedNamedType("callControl", _filter(CallControlEvents(), 0)),
        namedtype.DefaultedNamedType("callAssociated", _filter(CallAssociatedEvents(), 6)),
        namedtype.DefaultedNamedType("mediaAttachment", _filter(MediaAttachmentEvents(), 7)),
        namedtype.DefaultedNamedType(
            "physicalDeviceFeature", _filter(PhysicalDeviceFeatureEvents(), 8)
        ),
        namedtype.DefaultedNamedType(
            "logicalDeviceFeature", _filter(LogicalDeviceFeatureEvents(), 9)
        ),
        namedtype.DefaultedNamedType("maintenance", _filter(DeviceMaintenanceEvents(), 3)),
        namedtype.DefaultedNamedType("voiceUnit", _filter(VoiceUnitEvents(), 5)),
        namedtype.DefaultedNamedType("private", _filter(VendorSpecEvents(), 4)),
    )


class SimpleCallState(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("callNull", 0),
        ("callPending", 1),
        ("callOriginated", 3),
        ("callDelivered", 35),
        ("callDeliveredHeld", 36),
        ("callReceived", 50),
        ("callEstablished", 51),
        ("callEstablishedHeld", 52),
        ("callReceivedOnHold", 66),
        ("callEstablishedOnHold", 67),
        ("callQueued", 83),
        ("callQueuedHeld", 84),
        ("callFailed", 99),
        ("callFailedHeld", 100),
        ("callBlocked", 96),
    )


class CompoundCallState(univ.SequenceOf):
    componentType = LocalConnectionState()


class CallState(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("compoundCallState", implicit(CompoundCallState(), 0)),
        namedtype.NamedType("simpleCallState", implicit(SimpleCallState(), 1)),
        namedtype.NamedType("unknown", implicit(univ.Null(), 2)),
    )


class SnapshotDeviceResponseInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("connectionIdentifier", ConnectionID()),
        namedtype.OptionalNamedType("endpointDevice", implicit(SubjectDeviceID(), 3)),
        namedtype.NamedType("localCallState", CallState()),
        namedtype.OptionalNamedType("servicesPermitted", implicit(ServicesPermitted(), 0)),
        # DeviceMediaInfoList: not modelled.
        namedtype.OptionalNamedType("mediaServiceInfoList", opaque_ctx(1)),
        namedtype.OptionalNamedType(
            "mediaCallCharacteristics", implicit(MediaCallCharacteristics(), 2)
        ),
        namedtype.OptionalNamedType("callLinkageData", implicit(CallLinkageData(), 4)),
    )


class SnapshotDeviceData(univ.SequenceOf):
    tagSet = app_tagset(univ.SequenceOf, 22, implicit_tag=True)
    componentType = SnapshotDeviceResponseInfo()


class SnapshotCallResponseInfo(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("deviceOnCall", SubjectDeviceID()),
        namedtype.OptionalNamedType("callIdentifier", ConnectionID()),
        namedtype.OptionalNamedType("localConnectionState", LocalConnectionState()),
        namedtype.OptionalNamedType("servicesPermitted", implicit(ServicesPermitted(), 0)),
        # CallMediaInfoList and LocationInfoList: not modelled.
        namedtype.OptionalNamedType("mediaServiceInfoList", opaque_ctx(1)),
        namedtype.OptionalNamedType("locationInfo", opaque_ctx(2)),
    )


class SnapshotCallData(univ.SequenceOf):
    tagSet = app_tagset(univ.SequenceOf, 23, implicit_tag=True)
    componentType = SnapshotCallResponseInfo()
