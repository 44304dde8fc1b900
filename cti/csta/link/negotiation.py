"""What the AARE says (specs/csta.md#the-aare): the CSTA version of the association and the
switch's side of the authentication, as HiPath / OpenScape Business applications may check.

An AARQ may carry ACSEUserInformationForCSTA (ECMA-285, CSTA-application-context-information-
csta3) with the CSTA versions the application speaks. The link speaks the ASN.1 (BER) CSTA
Phase III of ECMA-285, which every edition extends compatibly, so it serves the ECMA-285
versions and ISO/IEC 18052 and picks the newest one both sides have; Phase I/II (ECMA-180/218:
other operation codes and types) and the XML versions (ECMA-323) it cannot serve. The AARE's
user information names the chosen version, in the form the application used (old or new
definition); without a proposal it names the version the link speaks (ECMA-285 4th edition).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from cti.csta import codec
from cti.csta.codec.types.acse import CSTAVersion

# Newest first: the first one the application also offers is the association's.
SERVED = ("versionNineteen", "versionFifteen", "versionFive", "versionFour", "versionThree")
OURS = SERVED[0]  # ECMA-285 4th edition, what the codec implements

# CSTAFunctionality (oldDefinition, ECMA-218 names) of the operations the link serves.
_FUNCTIONS: dict[str, dict[str, str]] = {
    "switchingFunctionServices": {
        "alternateCall": "alternateCall",
        "answerCall": "answerCall",
        "clearCall": "clearCall",
        "clearConnection": "clearConnection",
        "conferenceCall": "conferenceCall",
        "consultationCall": "consultationCall",
        "deflectCall": "divertCall",
        "directedPickupCall": "divertCall",
        "groupPickupCall": "divertCall",
        "holdCall": "holdCall",
        "makeCall": "makeCall",
        "reconnectCall": "reconnectCall",
        "retrieveCall": "retrieveCall",
        "setForwarding": "setFeature",
        "setDoNotDisturb": "setFeature",
        "getForwarding": "queryDevice",
        "getDoNotDisturb": "queryDevice",
        "singleStepTrans": "singleStepTransfer",
        "generateDigits": "sendDTMFTones",
        "transferCall": "transferCall",
    },
    "bidirectionalServices": {"systemStatus": "systemStatus", "escape": "escapeService"},
    "statusReportingServices": {
        "monitorStart": "monitorStart",
        "changeMonitorFilter": "changeMonitorFilter",
        "monitorStop": "monitorStop",
        "snapshotDevice": "snapshotDevice",
        "snapshotCall": "snapshotCall",
    },
}
_EVENT_REPORTS = [
    "callCleared",
    "conferenced",
    "connectionCleared",
    "delivered",
    "diverted",
    "established",
    "failed",
    "held",
    "networkReached",
    "originated",
    "retrieved",
    "serviceInitiated",
    "transferred",
    "doNotDisturb",
    "forwarding",
]
_BIT_TYPES = {
    "switchingFunctionServices": "SwitchingFunctionServicesC2",
    "eventReportServices": "EventReportServicesC2",
    "bidirectionalServices": "BidirectionalServicesC2",
    "statusReportingServices": "StatusReportingServicesC2",
}


@attrs.frozen
class Outcome:
    """``version``: the negotiated CSTA version (None: refuse the association);
    ``user_information``: the AARE's user-information."""

    version: str | None
    user_information: list[dict[str, Any]]
    offered: tuple[str, ...] = ()  # what the application proposed (for the log)


def negotiate(aarq: tuple[str, dict[str, Any]], operations: Iterable[str]) -> Outcome:
    """The association's CSTA version for ``aarq``; ``operations`` are those the link serves
    (the supplied functions of an oldDefinition answer)."""
    found = codec.csta_information(aarq)
    if found is None:
        ours = ("newDefinition", {"cSTAVersion": _bits([OURS])})
        return Outcome(OURS, codec.csta_user_information(ours))
    (definition, proposal), references = found
    offered = codec.bit_names(proposal["cSTAVersion"], "CSTAVersion")
    chosen = next((v for v in SERVED if v in offered), None)
    ordered = tuple(sorted(offered, key=_number))
    # refused: the versions we do serve, so the application can tell what would do
    versions = _bits([chosen] if chosen is not None else SERVED)
    if definition == "oldDefinition":
        answer: dict[str, Any] = {
            "cSTAVersion": versions,
            "cSTAFunctionsRequiredByApplication": proposal["cSTAFunctionsRequiredByApplication"],
            "cSTAFunctionsThatCanBeSupplied": _functionality(set(operations)),
        }
    else:
        answer = {"cSTAVersion": versions}
    info = codec.csta_user_information((definition, answer), references)
    return Outcome(chosen, info, ordered)


def responding_value(aarq: tuple[str, dict[str, Any]], user: str) -> tuple[str, Any]:
    """The AARE's responding-authentication-value, in the form the application authenticated
    with, naming the user the association acts as and never a password: HiPath's ``external``
    credentials with an empty password, or our ``charstring``."""
    if aarq[1].get("calling-authentication-value", ("",))[0] == "external":
        return codec.login_credentials(user, "")
    return ("charstring", user)


def _bits(names: Iterable[str]) -> tuple[bytes, int]:
    return codec.named_bits(names, "CSTAVersion")


def _number(name: str) -> int:
    return int(CSTAVersion.namedValues[name])


def _functionality(operations: set[str]) -> dict[str, Any]:
    supplied = {
        field: codec.named_bits(
            sorted({bit for operation, bit in table.items() if operation in operations}),
            _BIT_TYPES[field],
        )
        for field, table in _FUNCTIONS.items()
    }
    supplied["eventReportServices"] = codec.named_bits(
        _EVENT_REPORTS, _BIT_TYPES["eventReportServices"]
    )
    return supplied
