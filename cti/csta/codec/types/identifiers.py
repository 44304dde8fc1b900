"""Device, call and connection identifiers (CSTA-device-identifiers,
CSTA-call-connection-identifiers, CSTA-switching-function-objects) and the
monitor cross reference.

All DeviceID number forms are modelled (they are plain strings); the
``[APPLICATION n]`` wrappers (CallingDeviceID, ...) are explicit tags on CHOICEs.
"""

from __future__ import annotations

from typing import Any

from pyasn1.type import char, namedtype, namedval, univ

from cti.csta.codec.types.base import app_tagset, explicit, implicit
from cti.csta.codec.types.media import MediaCallCharacteristics

__all__ = [
    "AssociatedCalledDeviceID",
    "AssociatedCallingDeviceID",
    "CSTAObject",
    "CallID",
    "CalledDeviceID",
    "CallingDeviceID",
    "ConnectionID",
    "DeviceID",
    "LocalConnectionState",
    "LocalDeviceID",
    "MonitorCrossRefID",
    "NetworkCalledDeviceID",
    "NetworkCallingDeviceID",
    "RedirectionDeviceID",
    "SubjectDeviceID",
]


def _ia5(n: int) -> Any:
    return implicit(char.IA5String(), n)


class PublicTON(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("unknown", _ia5(0)),
        namedtype.NamedType("international", _ia5(1)),
        namedtype.NamedType("national", _ia5(2)),
        namedtype.NamedType("networkspecific", _ia5(3)),
        namedtype.NamedType("subscriber", _ia5(4)),
        namedtype.NamedType("abbreviated", _ia5(5)),
    )


class PrivateTON(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("unknown", _ia5(0)),
        namedtype.NamedType("level3RegionalNumber", _ia5(1)),
        namedtype.NamedType("level2RegionalNumber", _ia5(2)),
        namedtype.NamedType("level1RegionalNumber", _ia5(3)),
        namedtype.NamedType("pTNSpecificNumber", _ia5(4)),
        namedtype.NamedType("localNumber", _ia5(5)),
        namedtype.NamedType("abbreviated", _ia5(6)),
    )


class _DeviceIdentifier(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("dialingNumber", _ia5(0)),
        namedtype.NamedType("deviceNumber", implicit(univ.Integer(), 1)),
        namedtype.NamedType("implicitPublic", _ia5(2)),
        namedtype.NamedType("explicitPublic", explicit(PublicTON(), 3)),
        namedtype.NamedType("implicitPrivate", _ia5(4)),
        namedtype.NamedType("explicitPrivate", explicit(PrivateTON(), 5)),
        namedtype.NamedType("other", implicit(univ.OctetString(), 6)),
    )


class DeviceID(univ.Sequence):
    # The CHOICE's [0]/[1] collide with privateNumber/privateName; BER stays
    # unambiguous because deviceIdentifier is mandatory and comes first.
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("deviceIdentifier", _DeviceIdentifier()),
        namedtype.OptionalNamedType("privateNumber", explicit(char.IA5String(), 0)),
        namedtype.OptionalNamedType("privateName", explicit(char.IA5String(), 1)),
        namedtype.OptionalNamedType("mediaCallCharacteristics", MediaCallCharacteristics()),
    )


def _device_choice(name: str, app_n: int, first: str = "deviceIdentifier", **nulls: int) -> Any:
    """``name ::= [APPLICATION n] CHOICE { first DeviceID, notKnown [7] IMPLICIT NULL, ... }``:
    nine types share this shape, so they are built here instead of spelt out."""
    nulls = nulls or {"notKnown": 7, "restricted": 8}
    types = [namedtype.NamedType(first, DeviceID())]
    types += [namedtype.NamedType(k, implicit(univ.Null(), n)) for k, n in nulls.items()]
    attrs = {
        "tagSet": app_tagset(univ.Choice, app_n, implicit_tag=False),
        "componentType": namedtype.NamedTypes(*types),
    }
    return type(name, (univ.Choice,), attrs)


CallingDeviceID = _device_choice("CallingDeviceID", 1)
CalledDeviceID = _device_choice("CalledDeviceID", 2)
SubjectDeviceID = _device_choice("SubjectDeviceID", 3)
RedirectionDeviceID = _device_choice(
    "RedirectionDeviceID",
    4,
    "numberdialed",
    notKnown=7,
    notRequired=8,
    notSpecified=9,
    restricted=10,
)
AssociatedCallingDeviceID = _device_choice("AssociatedCallingDeviceID", 5)
AssociatedCalledDeviceID = _device_choice("AssociatedCalledDeviceID", 6)
NetworkCallingDeviceID = _device_choice("NetworkCallingDeviceID", 7)
NetworkCalledDeviceID = _device_choice("NetworkCalledDeviceID", 8)
ExtendedDeviceID = _device_choice("ExtendedDeviceID", 9)


class CallID(univ.OctetString):
    pass


class LocalDeviceID(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("staticID", DeviceID()),
        namedtype.NamedType("dynamicID", implicit(univ.OctetString(), 3)),
    )


class _BothIDs(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("callID", implicit(CallID(), 0)),
        namedtype.NamedType("deviceID", explicit(LocalDeviceID(), 1)),
    )


class ConnectionID(univ.Choice):
    tagSet = app_tagset(univ.Choice, 11, implicit_tag=False)
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("callID", implicit(CallID(), 0)),
        namedtype.NamedType("deviceID", explicit(LocalDeviceID(), 1)),
        namedtype.NamedType("both", _BothIDs()),
    )


class CSTAObject(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("deviceObject", DeviceID()),
        namedtype.NamedType("callObject", ConnectionID()),
    )


class MonitorCrossRefID(univ.OctetString):
    tagSet = app_tagset(univ.OctetString, 21, implicit_tag=True)


class LocalConnectionState(univ.Enumerated):
    tagSet = app_tagset(univ.Enumerated, 14, implicit_tag=True)
    namedValues = namedval.NamedValues(
        ("null", 0),
        ("initiated", 1),
        ("alerting", 2),
        ("connected", 3),
        ("hold", 4),
        ("queued", 5),
        ("fail", 6),
    )
