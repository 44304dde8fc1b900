"""Hand-written values (value notation) for every supported argument, result,
event and error. DEFAULT fields are spelt out so that decode(encode(v)) == v."""

from __future__ import annotations

from typing import Any

from cti.csta.codec import named_bits

DEV_A: dict[str, Any] = {"deviceIdentifier": ("dialingNumber", "4711")}
DEV_B: dict[str, Any] = {"deviceIdentifier": ("dialingNumber", "+49 89 0123")}
DEV_NUM: dict[str, Any] = {"deviceIdentifier": ("deviceNumber", 1234567)}
DEV_FULL: dict[str, Any] = {
    "deviceIdentifier": ("explicitPublic", ("international", "498912345")),
    "privateNumber": "12345",
    "privateName": "Reception",
    "mediaCallCharacteristics": {
        "mediaClass": named_bits(["voice"], "MediaClass"),
        "bitRate": "constant",
    },
}
CALL = b"\x00\x2a"
CONN_A: Any = ("both", {"callID": CALL, "deviceID": ("staticID", DEV_A)})
CONN_B: Any = ("both", {"callID": CALL, "deviceID": ("staticID", DEV_B)})
CONN_DYN: Any = ("deviceID", ("dynamicID", b"\x07\x01"))
CONN_CALL: Any = ("callID", b"\x99")
SUBJ_A: Any = ("deviceIdentifier", DEV_A)
SUBJ_B: Any = ("deviceIdentifier", DEV_B)
NO_DATA: Any = ("noData", None)
CONN_INFO = {"flowDirection": "transmitAndReceive", "numberOfChannels": 1}
LINKAGE = {
    "globalCallData": {
        "globalCallSwitchingSubDomainName": "pbx1",
        "globalCallLinkageID": ("subDomainCallLinkageID", b"\x01\x02"),
        "callLinkageIDTimestamp": "20260101120000Z",
    },
    "threadData": {"threadLinkageID": ("globallyUniqueThreadID", b"\x05" * 16)},
}
CONN_LIST = [
    {"newConnection": CONN_A, "oldConnection": CONN_B, "endpoint": ("deviceID", DEV_A)},
    {"newConnection": CONN_DYN, "endpoint": ("restricted", None)},
]
SERVICES_PERMITTED = {
    "callControlServices": named_bits(["clearConnection", "holdCall"], "CallControlServices"),
    "callAssociatedServices": (b"", 0),
    "mediaAttachmentServices": (b"", 0),
    "routeingServices": (b"", 0),
    "voiceUnitServices": (b"", 0),
}
EMPTY = (b"", 0)
FILTER = {
    "callControl": named_bits(["delivered", "established"], "CallControlEvents"),
    "callAssociated": EMPTY,
    "mediaAttachment": EMPTY,
    "physicalDeviceFeature": EMPTY,
    "logicalDeviceFeature": named_bits(
        ["doNotDisturb", "forwarding"], "LogicalDeviceFeatureEvents"
    ),
    "maintenance": EMPTY,
    "voiceUnit": EMPTY,
    "private": EMPTY,
}

ARGUMENTS: dict[str, list[Any]] = {
    "SystemStatusArg": [
        {"systemStatus": "normal"},
        {"sysStatRegisterID": b"1", "systemStatus": "disabled"},
    ],
    "MonitorStartArgument": [
        {"monitorObject": ("deviceObject", DEV_A)},
        {
            "monitorObject": ("callObject", CONN_CALL),
            "requestedMonitorFilter": FILTER,
            "monitorType": "call",
            "requestedMonitorMediaClass": named_bits(["voice", "chat"], "MonitorMediaClass"),
        },
    ],
    "MonitorStopArgument": [{"crossRefIdentifier": b"\x00\x00\x00\x01"}],
    "SnapshotDeviceArgument": [{"snapshotObject": DEV_NUM}],
    "SnapshotCallArgument": [{"snapshotObject": CONN_A}],
    "MakeCallArgument": [
        {"callingDevice": DEV_A, "calledDirectoryNumber": DEV_B, "autoOriginate": "prompt"},
        {
            "callingDevice": DEV_FULL,
            "calledDirectoryNumber": DEV_B,
            "accountCode": b"acct",
            "authCode": b"1234",
            "autoOriginate": "doNotPrompt",
            "correlatorData": b"corr",
            "userData": b"hello",
            "callCharacteristics": named_bits(["priorityCall"], "CallCharacteristics"),
            "callingConnectionInfo": CONN_INFO,
            "subjectOfCall": "Meeting",
            "languagePreferences": "de",
            "reason": "makeCall",
        },
    ],
    "AnswerCallArgument": [
        {"callToBeAnswered": CONN_A},
        {"callToBeAnswered": CONN_A, "correlatorData": b"c", "userData": b"u"},
    ],
    "ClearConnectionArgument": [
        {"connectionToBeCleared": CONN_A},
        {"connectionToBeCleared": CONN_DYN, "reason": "normalClearing", "userData": b"bye"},
    ],
    "ClearCallArgument": [{"callToBeCleared": CONN_CALL, "reason": "callCancelled"}],
    "HoldCallArgument": [{"callToBeHeld": CONN_A, "connectionReservation": True}],
    "RetrieveCallArgument": [{"callToBeRetrieved": CONN_A}],
    "ConsultationCallArgument": [
        {"existingCall": CONN_A, "consultedDevice": DEV_B, "consultOptions": "unrestricted"},
        {
            "existingCall": CONN_A,
            "consultedDevice": DEV_B,
            "connectionReservation": False,
            "userData": b"ud",
            "callCharacteristics": named_bits(["acdCall"], "CallCharacteristics"),
            "consultOptions": "transferOnly",
            "subjectOfCall": "s",
        },
    ],
    "AlternateCallArgument": [
        {"heldCall": CONN_A, "activeCall": CONN_B, "consultOptions": "unrestricted"},
        {
            "heldCall": CONN_A,
            "activeCall": CONN_B,
            "connectionReservation": True,
            "consultOptions": "consultOnly",
        },
    ],
    "ReconnectCallArgument": [{"activeCall": CONN_B, "heldCall": CONN_A}],
    "TransferCallArgument": [{"heldCall": CONN_A, "activeCall": CONN_B}],
    "SingleStepTransArgument": [
        {"activeCall": CONN_A, "transferredTo": DEV_B},
        {
            "activeCall": CONN_A,
            "transferredTo": DEV_B,
            "userData": b"x",
            "reason": "singleStepTransfer",
        },
    ],
    "ConferenceCallArgument": [{"heldCall": CONN_A, "activeCall": CONN_B}],
    "DeflectCallArgument": [
        {"callToBeDiverted": CONN_A, "newDestination": DEV_B},
        {
            "callToBeDiverted": CONN_A,
            "newDestination": DEV_B,
            "addNewDestinationsList": [DEV_NUM, DEV_A],
            "correlatorData": b"c",
            "reason": "redirected",
        },
    ],
    "DirectedPickupCallArgument": [{"callToBePickedUp": CONN_B, "requestingDevice": DEV_A}],
    "GroupPickupCallArgument": [
        {"newDestination": DEV_A},
        {"newDestination": DEV_A, "pickGroup": DEV_NUM},
    ],
    "SetForwardingArgument": [
        {"device": DEV_A, "activateForward": False},
        {
            "device": DEV_A,
            "forwardingType": "forwardNoAns",
            "activateForward": True,
            "forwardDN": DEV_B,
            "ringCount": 4,
            "ringDuration": 20,
        },
    ],
    "GetForwardingArgument": [{"device": DEV_A}],
    "SetDoNotDisturbArgument": [
        {"device": DEV_A, "doNotDisturbOn": True},
        {
            "device": DEV_A,
            "doNotDisturbOn": True,
            "callOrigination": named_bits(["external"], "CallOrigination"),
            "callingDeviceList": [DEV_B],
        },
    ],
    "GetDoNotDisturbArgument": [{"device": DEV_A}],
    "ChangeMonitorFilterArgument": [
        {"crossRefIdentifier": b"\x00\x00\x00\x01", "requestedFilterList": FILTER},
        {
            "crossRefIdentifier": b"\x00\x01",
            "requestedFilterList": {
                **FILTER,
                "callControl": EMPTY,
                "logicalDeviceFeature": EMPTY,
            },
        },
    ],
    "SetDisplayArgument": [
        {"device": DEV_A, "contentsOfDisplay": "Call 4711 back"},
        {
            "device": DEV_A,
            "display": b"\x01",
            "physicalBaseRowNumber": 0,
            "physicalBaseColumnNumber": 2,
            "contentsOfDisplay": "",
            "offset": 24,
            "characterSet": "ascii",
        },
    ],
    "GenerateDigitsArgument": [
        {"connectionToSendDigits": CONN_A, "charactersToSend": "1234#"},
        {
            "connectionToSendDigits": CONN_A,
            "digitMode": "dTMF",
            "charactersToSend": "*51",
            "toneDuration": 80,
            "pulseRate": 10,
            "pauseDuration": 60,
        },
    ],
    # privateData is an open type (the whole TLV): an OCTET STRING, a NULL, a vendor's type
    "EscapeArgument": [
        {"privateData": bytes.fromhex("0405") + b"hello"},
        {"privateData": bytes.fromhex("0500")},
    ],
}

RESULTS: dict[str, list[Any]] = {
    "SystemStatusRes": [NO_DATA],
    "MonitorStartResult": [
        {"crossRefIdentifier": b"\x00\x01"},
        {
            "crossRefIdentifier": b"\x00\x01",
            "actualmonitorFilter": FILTER,
            "monitorExistingCalls": True,
        },
    ],
    "MonitorStopResult": [NO_DATA],
    "SnapshotDeviceResult": [
        {"crossRefIDorSnapshotData": ("serviceCrossRefID", b"\x01")},
        {
            "crossRefIDorSnapshotData": (
                "snapshotData",
                [
                    {
                        "connectionIdentifier": CONN_A,
                        "localCallState": ("compoundCallState", ["connected", "alerting"]),
                    },
                    {
                        "connectionIdentifier": CONN_B,
                        "endpointDevice": SUBJ_B,
                        "localCallState": ("simpleCallState", "callEstablished"),
                        "servicesPermitted": SERVICES_PERMITTED,
                        "callLinkageData": LINKAGE,
                    },
                ],
            )
        },
    ],
    "SnapshotCallResult": [
        {
            "crossRefIDorSnapshotData": (
                "snapshotData",
                [
                    {
                        "deviceOnCall": SUBJ_A,
                        "callIdentifier": CONN_A,
                        "localConnectionState": "connected",
                    },
                    {"deviceOnCall": ("notKnown", None)},
                ],
            ),
            "callingDevice": SUBJ_A,
            "calledDevice": SUBJ_B,
            "correlatorData": b"c",
            "deviceHistory": {
                "oldDeviceID": DEV_B,
                "eventCause": "redirected",
                "oldConnectionID": CONN_B,
            },
        }
    ],
    "MakeCallResult": [
        {"callingDevice": CONN_A},
        {"callingDevice": CONN_DYN, "initiatedCallInfo": CONN_INFO, "callLinkageData": LINKAGE},
    ],
    "AnswerCallResult": [NO_DATA],
    "ClearConnectionResult": [NO_DATA],
    "ClearCallResult": [NO_DATA],
    "HoldCallResult": [NO_DATA],
    "RetrieveCallResult": [NO_DATA],
    "ConsultationCallResult": [{"initiatedCall": CONN_B}],
    "AlternateCallResult": [NO_DATA],
    "ReconnectCallResult": [NO_DATA],
    "TransferCallResult": [
        {"transferredCall": CONN_A},
        {"transferredCall": CONN_A, "connections": CONN_LIST, "transferredCallInfo": CONN_INFO},
    ],
    "SingleStepTransResult": [{"transferredCall": CONN_B, "connections": CONN_LIST}],
    "ConferenceCallResult": [
        {
            "conferenceCall": CONN_A,
            "connections": CONN_LIST,
            "callLinkageDataList": {"newCallLinkageData": LINKAGE, "oldCallLinkageData": LINKAGE},
        }
    ],
    "DeflectCallResult": [NO_DATA],
    "DirectedPickupCallResult": [{}, {"pickedCall": CONN_A, "pickedCallInfo": CONN_INFO}],
    "GroupPickupCallResult": [{"pickedCall": CONN_A}],
    "SetForwardingResult": [NO_DATA],
    "GetForwardingResult": [
        {"forwardingList": []},
        {
            "forwardingList": [
                {"forwardingType": "forwardImmediate", "forwardStatus": True, "forwardDN": DEV_B},
                {
                    "forwardStatus": False,
                    "forwardDefault": "forwardDN",
                    "ringDuration": 5,
                    "ringCount": 3,
                },
            ]
        },
    ],
    "SetDoNotDisturbResult": [NO_DATA],
    "GetDoNotDisturbResult": [
        {"doNotDisturbOn": False},
        {
            "doNotDisturbOn": True,
            "callOrigination": named_bits(["internal", "external"], "CallOrigination"),
            "callingDeviceList": [DEV_A, DEV_B],
        },
    ],
    "ChangeMonitorFilterResult": [{}, {"actualFilterList": FILTER}],
    "SetDisplayResult": [NO_DATA],
    "GenerateDigitsResult": [NO_DATA],
    "EscapeResult": [NO_DATA],
}

_CALL_PARTIES = {
    "callingDevice": SUBJ_B,
    "calledDevice": SUBJ_A,
    "lastRedirectionDevice": ("notRequired", None),
}

EVENTS: dict[str, Any] = {
    "originated": {
        "originatedConnection": CONN_A,
        "callingDevice": SUBJ_A,
        "calledDevice": SUBJ_B,
        "localConnectionInfo": "connected",
        "cause": "newCall",
    },
    "networkReached": {
        "outboundConnection": CONN_B,
        "networkInterfaceUsed": (
            "deviceIdentifier",
            {"deviceIdentifier": ("dialingNumber", "trunk1")},
        ),
        **_CALL_PARTIES,
        "localConnectionInfo": "connected",
        "networkCapability": {
            "networkType": "iSDNPublic",
            "eventsProvided": named_bits(["delivered", "established"], "EventsProvided"),
        },
        "cause": "newCall",
    },
    "delivered": {
        "connection": CONN_A,
        "alertingDevice": SUBJ_A,
        **_CALL_PARTIES,
        "localConnectionInfo": "alerting",
        "correlatorData": b"c",
        "userData": b"ud",
        "cause": "newCall",
        "servicesPermitted": SERVICES_PERMITTED,
        "networkCallingDevice": SUBJ_B,
        "associatedCalledDevice": ("restricted", None),
        "callLinkageData": LINKAGE,
        "messageInfo": {"contents": "hi", "contentsLength": 2},
        "deviceHistory": {"oldDeviceID": DEV_NUM},
    },
    "established": {
        "establishedConnection": CONN_A,
        "answeringDevice": SUBJ_A,
        **_CALL_PARTIES,
        "localConnectionInfo": "connected",
        "cause": "newCall",
        "establishedConnectionInfo": CONN_INFO,
    },
    "held": {
        "heldConnection": CONN_A,
        "holdingDevice": SUBJ_A,
        "localConnectionInfo": "hold",
        "cause": "normal",
    },
    "retrieved": {"retrievedConnection": CONN_A, "retrievingDevice": SUBJ_A, "cause": "normal"},
    "connectionCleared": {
        "droppedConnection": CONN_B,
        "releasingDevice": SUBJ_B,
        "localConnectionInfo": "null",
        "cause": "normalClearing",
        "deviceHistory": {"oldDeviceID": DEV_A, "oldConnectionID": CONN_A},
    },
    "callCleared": {"clearedCall": CONN_CALL, "cause": "normalClearing"},
    "diverted": {
        "connection": CONN_A,
        "divertingDevice": SUBJ_A,
        "newDestination": SUBJ_B,
        "lastRedirectionDevice": ("numberdialed", DEV_A),
        "cause": "redirected",
    },
    "failed": {
        "failedConnection": CONN_B,
        "failingDevice": SUBJ_B,
        **_CALL_PARTIES,
        "localConnectionInfo": "fail",
        "cause": "busy",
    },
    "transferred": {
        "primaryOldCall": CONN_A,
        "secondaryOldCall": CONN_B,
        "transferringDevice": SUBJ_A,
        "transferredToDevice": SUBJ_B,
        "transferredConnections": CONN_LIST,
        "cause": "transfer",
    },
    "conferenced": {
        "primaryOldCall": CONN_A,
        "conferencingDevice": SUBJ_A,
        "addedParty": SUBJ_B,
        "conferenceConnections": CONN_LIST,
        "cause": "conference",
    },
    "offered": {
        "offeredConnection": CONN_A,
        "offeredDevice": SUBJ_A,
        **_CALL_PARTIES,
        "correlatorData": b"c",
        "cause": "newCall",
    },
    "serviceInitiated": {
        "initiatedConnection": CONN_A,
        "initiatingDevice": SUBJ_A,
        "cause": "newCall",
    },
    "digitsDialed": {
        "dialingConnection": CONN_A,
        "dialingDevice": SUBJ_A,
        "dialingSequence": {"deviceIdentifier": ("dialingNumber", "123#")},
        "cause": "newCall",
    },
    "queued": {
        "queuedConnection": CONN_A,
        "queue": SUBJ_B,
        **_CALL_PARTIES,
        "numberQueued": 3,
        "callsInFront": 2,
        "cause": "enteringDistribution",
    },
    "doNotDisturb": {"device": SUBJ_A, "doNotDisturbOn": True, "callingDeviceList": [DEV_B]},
    "forwarding": {
        "device": SUBJ_A,
        "forwardingType": "forwardBusy",
        "forwardStatus": True,
        "forwardTo": DEV_B,
        "ringCount": 5,
    },
}

LOGICAL_EVENTS = {"doNotDisturb", "forwarding"}


def event_report(name: str, event: Any, xref: bytes = b"\x00\x00\x00\x07") -> dict[str, Any]:
    category = "logicalDeviceFeatureEvents" if name in LOGICAL_EVENTS else "callControlEvents"
    return {"crossRefIdentifier": xref, "eventSpecificInfo": (category, (name, event))}


UNIVERSAL_FAILURES: list[Any] = [
    ("operation", "invalidCallID"),
    ("operation", "generic"),
    ("security", "sequenceNumberViolated"),
    ("stateIncompatibility", "invalidConnectionState"),
    ("systemResourceAvailability", "resourceBusy"),
    ("subscribedResourceAvailability", "objectMonitorLimitExceeded"),
    ("performanceManagement", "performanceLimitExceeded"),
    ("privateData", "cSTAPrivateDataInfoError"),
    ("unspecified", None),
]


# -- "full" variants: every optional field we have a sample for ---------------------
_SUBJECT_SAMPLE: Any = ("deviceIdentifier", DEV_NUM)
FIELD_SAMPLES: dict[str, Any] = {
    "accountCode": b"acct",
    "associatedCalledDevice": _SUBJECT_SAMPLE,
    "associatedCalledDeviceID": _SUBJECT_SAMPLE,
    "associatedCallingDeviceID": _SUBJECT_SAMPLE,
    "associatedCallingDevice": _SUBJECT_SAMPLE,
    "authCode": b"auth",
    "callCharacteristics": named_bits(["acdCall", "highPriorityCall"], "CallCharacteristics"),
    "callLinkageData": LINKAGE,
    "callLinkageDataList": {"newCallLinkageData": LINKAGE, "oldCallLinkageData": LINKAGE},
    "callOrigination": named_bits(["internal"], "CallOrigination"),
    "callingDeviceList": [DEV_A, DEV_NUM],
    "callsInFront": 1,
    "connectionReservation": True,
    "correlatorData": b"corr",
    # CSTACommonArguments: HiPath's security timestamp (the event's time, ms precision)
    "extensions": {"security": {"messageSequenceNumber": 12, "timestamp": "20261207081530.25Z"}},
    "deviceHistory": {"oldDeviceID": DEV_B, "eventCause": "callForward", "oldConnectionID": CONN_A},
    "forwardDefault": "forwardingType",
    "forwardDN": DEV_B,
    "forwardTo": DEV_B,
    "forwardingType": "forwardDND",
    "languagePreferences": "en",
    "localConnectionInfo": "connected",
    "mediaCallCharacteristics": {
        "mediaClass": named_bits(["voice", "data"], "MediaClass"),
        "connectionRate": 64000,
        "bitRate": "variable",
        "delayTolerance": 5,
        "switchingSubDomainCCIEType": "sip",
        "switchingSubDomainInformationElements": b"\x01",
    },
    "messageInfo": {"contents": "c", "contentTypeAndSubtype": "text/plain", "contentsLength": 1},
    "monitorExistingCalls": False,
    "networkCalledDevice": _SUBJECT_SAMPLE,
    "networkCallingDevice": _SUBJECT_SAMPLE,
    "numberQueued": 4,
    "originatingDevice": DEV_NUM,
    "originatingNIDConnection": CONN_DYN,
    "pickGroup": DEV_NUM,
    "reason": "callPickup",
    "ringCount": 100,
    "ringDuration": 30,
    "secondaryOldCall": CONN_DYN,
    "servicesPermitted": SERVICES_PERMITTED,
    "subjectOfCall": "subject",
    "sysStatRegisterID": b"reg",
    "userData": b"user",
}
_NOT_INFO = {"localConnectionInfo"}


def full(type_cls: Any, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` plus every OPTIONAL field of ``type_cls`` with a sample above
    (ConnectionInformation fields are recognised by their ``...Info`` name)."""
    from cti.csta.codec.types.base import Opaque

    value = dict(base)
    for field in type_cls.componentType.namedTypes:
        name = field.name
        if name in value or not field.isOptional or isinstance(field.asn1Object, Opaque):
            continue
        if name in FIELD_SAMPLES:
            value[name] = FIELD_SAMPLES[name]
        elif (
            name.endswith(("ConnectionInfo", "CallInfo")) and name not in _NOT_INFO
        ) or name == "connectionInfo":
            value[name] = CONN_INFO
    return value
