"""Media characteristics and connection information (CSTA-media-services)."""

from __future__ import annotations

from pyasn1.type import char, namedtype, namedval, univ

from cti.csta.codec.types.base import implicit
from cti.csta.codec.types.bits import MediaClass

__all__ = ["ConnectionInformation", "MediaCallCharacteristics"]


class _BitRate(univ.Enumerated):
    namedValues = namedval.NamedValues(("constant", 0), ("variable", 1))


class _CCIEType(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("isdn", 0), ("atm", 1), ("isoEthernet", 2), ("rsvp", 3), ("other", 4), ("sip", 5)
    )


class MediaCallCharacteristics(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("mediaClass", MediaClass()),
        namedtype.OptionalNamedType("connectionRate", implicit(univ.Integer(), 0)),
        namedtype.DefaultedNamedType("bitRate", implicit(_BitRate("constant"), 1)),
        namedtype.OptionalNamedType("delayTolerance", implicit(univ.Integer(), 2)),
        namedtype.OptionalNamedType("switchingSubDomainCCIEType", implicit(_CCIEType(), 3)),
        namedtype.OptionalNamedType("switchingSubDomainInformationElements", univ.OctetString()),
    )


class _FlowDirection(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("transmit", 0), ("receive", 1), ("transmitAndReceive", 2), ("none", 3)
    )


class ConnectionInformation(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("flowDirection", _FlowDirection()),
        namedtype.DefaultedNamedType("numberOfChannels", univ.Integer(1)),
        namedtype.OptionalNamedType("mediaSessionInformation", char.IA5String()),
    )
