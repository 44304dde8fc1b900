"""ACSE APDUs (X.227 ACSE-1, EXPLICIT TAGS) and the CSTA user information
(CSTA-application-context-information-csta3).

Modelled: AARQ, AARE, RLRQ, RLRE, ABRT. AP-title / AE-qualifier only in
forms 2 (OID / INTEGER) and 3 (PrintableString); X.500 names (form 1),
presentation-context lists and ASOI tags are opaque or unsupported."""

from __future__ import annotations

from typing import Any

from pyasn1.type import char, namedtype, namedval, tag, univ, useful

from cti.csta.codec.types.base import app_tagset, explicit, implicit, opaque_ctx
from cti.csta.codec.types.bits import CSTAVersion  # the ACSE user information's version bits

__all__ = [
    "AARE_apdu",
    "AARQ_apdu",
    "ABRT_apdu",
    "ACSEUserInformationForCSTA",
    "ACSE_apdu",
    "BidirectionalServicesC2",
    "CSTAVersion",
    "EventReportServicesC2",
    "RLRE_apdu",
    "RLRQ_apdu",
    "StatusReportingServicesC2",
    "SwitchingFunctionServicesC2",
]

N = namedtype.NamedType
O = namedtype.OptionalNamedType  # noqa: E741 - reads like the ASN.1 keyword
D = namedtype.DefaultedNamedType


class AP_title(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("ap-title-form2", univ.ObjectIdentifier()),
        N("ap-title-form3", char.PrintableString()),
    )


class AE_qualifier(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("aso-qualifier-form2", univ.Integer()),
        N("aso-qualifier-form3", char.PrintableString()),
    )


class EXTERNAL(univ.Sequence):
    tagSet = univ.Sequence.tagSet.tagImplicitly(
        tag.Tag(tag.tagClassUniversal, tag.tagFormatConstructed, 8)
    )

    class _Encoding(univ.Choice):
        componentType = namedtype.NamedTypes(
            # single-ASN1-type [0] ABSTRACT-SYNTAX.&Type: the inner TLV as bytes.
            N(
                "single-ASN1-type",
                univ.Any().subtype(
                    explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0)
                ),
            ),
            N("octet-aligned", implicit(univ.OctetString(), 1)),
            N("arbitrary", implicit(univ.BitString(), 2)),
        )

    componentType = namedtype.NamedTypes(
        O("direct-reference", univ.ObjectIdentifier()),
        O("indirect-reference", univ.Integer()),
        O("data-value-descriptor", useful.ObjectDescriptor()),
        N("encoding", _Encoding()),
    )


class LoginCredentials(univ.Sequence):
    """What HiPath / OpenScape Business applications put in the AARQ's authentication value
    (the ``external`` form's single-ASN1-type): a [0] constructed value of user name and
    password as OCTET STRINGs (no mechanism name, no AP title)."""

    tagSet = univ.Sequence.tagSet.tagImplicitly(
        tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0)
    )
    componentType = namedtype.NamedTypes(
        N("user", univ.OctetString()),
        N("password", univ.OctetString()),
    )


class Association_data(univ.SequenceOf):
    componentType = EXTERNAL()


class Authentication_value(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("charstring", implicit(char.GraphicString(), 0)),
        N("bitstring", implicit(univ.BitString(), 1)),
        N("external", implicit(EXTERNAL(), 2)),
    )


class ACSE_requirements(univ.BitString):
    namedValues = namedval.NamedValues(
        ("authentication", 0),
        ("aSO-context-negotiation", 1),
        ("higher-level-association", 2),
        ("nested-association", 3),
    )


class _ContextNameList(univ.SequenceOf):
    componentType = univ.ObjectIdentifier()


def _version() -> Any:
    # protocol-version [0] IMPLICIT BIT STRING {version1(0)} DEFAULT {version1}
    return D("protocol-version", implicit(univ.BitString("'1'B"), 0))


class AARQ_apdu(univ.Sequence):
    tagSet = app_tagset(univ.Sequence, 0, implicit_tag=True)
    componentType = namedtype.NamedTypes(
        _version(),
        N("aSO-context-name", explicit(univ.ObjectIdentifier(), 1)),
        O("called-AP-title", explicit(AP_title(), 2)),
        O("called-AE-qualifier", explicit(AE_qualifier(), 3)),
        O("called-AP-invocation-identifier", explicit(univ.Integer(), 4)),
        O("called-AE-invocation-identifier", explicit(univ.Integer(), 5)),
        O("calling-AP-title", explicit(AP_title(), 6)),
        O("calling-AE-qualifier", explicit(AE_qualifier(), 7)),
        O("calling-AP-invocation-identifier", explicit(univ.Integer(), 8)),
        O("calling-AE-invocation-identifier", explicit(univ.Integer(), 9)),
        O("sender-acse-requirements", implicit(ACSE_requirements(), 10)),
        O("mechanism-name", implicit(univ.ObjectIdentifier(), 11)),
        O("calling-authentication-value", explicit(Authentication_value(), 12)),
        O("aSO-context-name-list", implicit(_ContextNameList(), 13)),
        O("implementation-information", implicit(char.GraphicString(), 29)),
        O("p-context-definition-list", opaque_ctx(14)),
        O("called-asoi-tag", opaque_ctx(15)),
        O("calling-asoi-tag", opaque_ctx(16)),
        O("user-information", implicit(Association_data(), 30)),
    )


class Associate_source_diagnostic(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("acse-service-user", explicit(univ.Integer(), 1)),
        N("acse-service-provider", explicit(univ.Integer(), 2)),
    )


class AARE_apdu(univ.Sequence):
    tagSet = app_tagset(univ.Sequence, 1, implicit_tag=True)
    componentType = namedtype.NamedTypes(
        _version(),
        N("aSO-context-name", explicit(univ.ObjectIdentifier(), 1)),
        N("result", explicit(univ.Integer(), 2)),
        N("result-source-diagnostic", explicit(Associate_source_diagnostic(), 3)),
        O("responding-AP-title", explicit(AP_title(), 4)),
        O("responding-AE-qualifier", explicit(AE_qualifier(), 5)),
        O("responding-AP-invocation-identifier", explicit(univ.Integer(), 6)),
        O("responding-AE-invocation-identifier", explicit(univ.Integer(), 7)),
        O("responder-acse-requirements", implicit(ACSE_requirements(), 8)),
        O("mechanism-name", implicit(univ.ObjectIdentifier(), 9)),
        O("responding-authentication-value", explicit(Authentication_value(), 10)),
        O("aSO-context-name-list", implicit(_ContextNameList(), 11)),
        O("implementation-information", implicit(char.GraphicString(), 29)),
        O("p-context-result-list", opaque_ctx(12)),
        O("called-asoi-tag", opaque_ctx(13)),
        O("calling-asoi-tag", opaque_ctx(14)),
        O("user-information", implicit(Association_data(), 30)),
    )


def _release(name: str, app_n: int) -> Any:
    fields = namedtype.NamedTypes(
        O("reason", implicit(univ.Integer(), 0)),
        O("aso-qualifier", opaque_ctx(13)),
        O("asoi-identifier", opaque_ctx(14)),
        O("user-information", implicit(Association_data(), 30)),
    )
    tags = app_tagset(univ.Sequence, app_n, implicit_tag=True)
    return type(name, (univ.Sequence,), {"tagSet": tags, "componentType": fields})


RLRQ_apdu = _release("RLRQ_apdu", 2)
RLRE_apdu = _release("RLRE_apdu", 3)


class ABRT_diagnostic(univ.Enumerated):
    namedValues = namedval.NamedValues(
        ("no-reason-given", 1),
        ("protocol-error", 2),
        ("authentication-mechanism-name-not-recognized", 3),
        ("authentication-mechanism-name-required", 4),
        ("authentication-failure", 5),
        ("authentication-required", 6),
    )


class ABRT_apdu(univ.Sequence):
    tagSet = app_tagset(univ.Sequence, 4, implicit_tag=True)
    componentType = namedtype.NamedTypes(
        N("abort-source", implicit(univ.Integer(), 0)),
        O("abort-diagnostic", implicit(ABRT_diagnostic(), 1)),
        O("aso-qualifier", opaque_ctx(13)),
        O("asoi-identifier", opaque_ctx(14)),
        O("user-information", implicit(Association_data(), 30)),
    )


class ACSE_apdu(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("aarq", AARQ_apdu()),
        N("aare", AARE_apdu()),
        N("rlrq", RLRQ_apdu()),
        N("rlre", RLRE_apdu()),
        N("abrt", ABRT_apdu()),
    )


# -- CSTA-application-context-information-csta3 --------------------------------
class SwitchingFunctionServicesC2(univ.BitString):
    namedValues = namedval.NamedValues(
        ("alternateCall", 0),
        ("answerCall", 1),
        ("associateData", 2),
        ("callCompletion", 3),
        ("clearCall", 4),
        ("clearConnection", 5),
        ("conferenceCall", 6),
        ("consultationCall", 7),
        ("divertCall", 8),
        ("holdCall", 9),
        ("makeCall", 10),
        ("makePredictiveCall", 11),
        ("parkCall", 12),
        ("queryDevice", 13),
        ("reconnectCall", 14),
        ("retrieveCall", 15),
        ("sendDTMFTones", 16),
        ("setFeature", 17),
        ("singleStepConference", 18),
        ("singleStepTransfer", 19),
        ("transferCall", 20),
    )


class EventReportServicesC2(univ.BitString):
    namedValues = namedval.NamedValues(
        ("callCleared", 0),
        ("conferenced", 1),
        ("connectionCleared", 2),
        ("delivered", 3),
        ("diverted", 4),
        ("established", 5),
        ("failed", 6),
        ("held", 7),
        ("networkReached", 8),
        ("originated", 9),
        ("queued", 10),
        ("retrieved", 11),
        ("serviceInitiated", 12),
        ("transferred", 13),
        ("autoAnswer", 14),
        ("callInformation", 15),
        ("doNotDisturb", 16),
        ("forwarding", 17),
        ("messageWaiting", 18),
        ("microphoneMute", 19),
        ("speakerMute", 20),
        ("speakerVolume", 21),
        ("agentBusy", 22),
        ("loggedOn", 23),
        ("loggedOff", 24),
        ("notReady", 25),
        ("ready", 26),
        ("workingAfterCall", 27),
        ("backInService", 28),
        ("outOfServiceEvent", 29),
        ("privateEvent", 30),
        ("playEvent", 31),
        ("recordEvent", 32),
        ("reviewEvent", 33),
        ("stopEvent", 34),
        ("suspendPlayEvent", 35),
        ("suspendRecordEvent", 36),
        ("voiceAttributesChangeEvent", 37),
    )


class BidirectionalServicesC2(univ.BitString):
    namedValues = namedval.NamedValues(
        ("escapeService", 0),
        ("systemStatus", 1),
    )


class StatusReportingServicesC2(univ.BitString):
    namedValues = namedval.NamedValues(
        ("monitorStart", 0),
        ("changeMonitorFilter", 1),
        ("monitorStop", 2),
        ("snapshotDevice", 3),
        ("snapshotCall", 4),
    )


_FUNCTIONALITY_FIELDS: tuple[tuple[str, type], ...] = (
    ("switchingFunctionServices", SwitchingFunctionServicesC2),
    ("eventReportServices", EventReportServicesC2),
    ("computingFunctionServices", univ.BitString),
    ("bidirectionalServices", BidirectionalServicesC2),
    ("statusReportingServices", StatusReportingServicesC2),
    ("inputOutputServices", univ.BitString),
    ("voiceUnitServices", univ.BitString),
)


class CSTAFunctionality(univ.Sequence):
    # The seven service BIT STRINGs, all "[n] IMPLICIT ... DEFAULT {}".
    componentType = namedtype.NamedTypes(
        *(D(name, implicit(bits(()), n)) for n, (name, bits) in enumerate(_FUNCTIONALITY_FIELDS))
    )


class _VersionList(univ.SequenceOf):
    componentType = univ.Integer()


class OldACSEUserInformationForCSTA(univ.Sequence):
    componentType = namedtype.NamedTypes(
        N("cSTAVersion", CSTAVersion()),
        N("cSTAFunctionsRequiredByApplication", CSTAFunctionality()),
        N("cSTAFunctionsThatCanBeSupplied", CSTAFunctionality()),
    )


class NewACSEUserInformationForCSTA(univ.Sequence):
    componentType = namedtype.NamedTypes(
        N("cSTAVersion", CSTAVersion()),
        O("cSTAFunctionsRequiredByApplication", implicit(CSTAFunctionality(), 0)),
        O("cSTAFunctionsThatCanBeSupplied", implicit(CSTAFunctionality(), 1)),
        O("cSTAPrivateDataVersionList", implicit(_VersionList(), 2)),
    )


class ACSEUserInformationForCSTA(univ.Choice):
    componentType = namedtype.NamedTypes(
        N("oldDefinition", OldACSEUserInformationForCSTA()),
        N("newDefinition", implicit(NewACSEUserInformationForCSTA(), 0)),
    )
