"""The AARE as HiPath / OpenScape Business applications may check it (issue 20 item 3):
responder ACSE requirements, a responding authentication value (the accepted user, never a
password), and ACSE user information with the negotiated CSTA version; a CSTA version the link
cannot serve is refused (rejected-permanent, acse-service-user no-reason-given) with the
versions it does serve in the AARE's user information.

Expected AAREs are written byte for byte from X.227 and ECMA-285, and decoded with asn1tools
(a hand-written AARE module plus the shipped CSTA-application-context-information-csta3)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import asn1tools  # type: ignore[import-untyped]
import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.csta import codec
from cti.csta.client import AssociationRefused
from cti.csta.codec.errors import CodecError
from cti.csta.codec.types import acse
from cti.csta.link import negotiation
from tests.csta import asn1tools_check
from tests.csta.conftest import SETTINGS, Link, LinkFactory, Raw
from tests.csta.test_fast_ber import _schema_values
from tests.csta.test_hipath_association import HIPATH_AARQ

HIPATH = attrs.evolve(SETTINGS, user="AMHOST", password="77777")

HIPATH_AARE = bytes.fromhex(
    "6139"  # [APPLICATION 1] AARE, 57 bytes
    "a107" "06052b0c00815a"  # [1] application-context-name: CSTA (1.3.12.0.218)
    "a203" "020100"  # [2] result: accepted (0)
    "a305" "a103" "020100"  # [3] result-source-diagnostic: acse-service-user null (0)
    "8802" "0780"  # [8] responder-acse-requirements: {authentication} (1 bit)
    "aa10"  # [10] responding-authentication-value
    "a20e" "a00c"  # [2] external, [0] single-ASN1-type
    "a00a" "0406" + b"AMHOST".hex() + "0400"  # [0] { user "AMHOST", password "" }
    + "be0c"  # [30] user-information (Association-data)
    "280a"  # EXTERNAL
    "a008"  # [0] single-ASN1-type: ACSEUserInformationForCSTA
    "a006"  # newDefinition [0]
    "0304" "050000" "20"  # cSTAVersion: versionNineteen (bit 18: ECMA-285 4th edition)
)  # fmt: skip

AARE_MODULE = """
Hipath-AARE DEFINITIONS ::= BEGIN
AARE-apdu ::= [APPLICATION 1] IMPLICIT SEQUENCE {
  aSO-context-name [1] OBJECT IDENTIFIER,
  result [2] INTEGER,
  result-source-diagnostic [3] CHOICE { acse-service-user [1] INTEGER,
                                        acse-service-provider [2] INTEGER },
  responder-acse-requirements [8] IMPLICIT BIT STRING { authentication(0) } OPTIONAL,
  mechanism-name [9] IMPLICIT OBJECT IDENTIFIER OPTIONAL,
  responding-authentication-value [10] CHOICE {
    charstring [0] IMPLICIT GraphicString,
    external [2] IMPLICIT SEQUENCE { encoding CHOICE { single-ASN1-type [0] Credentials } } }
    OPTIONAL,
  user-information [30] IMPLICIT SEQUENCE OF External OPTIONAL }
External ::= [UNIVERSAL 8] IMPLICIT SEQUENCE {
  direct-reference OBJECT IDENTIFIER OPTIONAL,
  encoding CHOICE { single-ASN1-type [0] ANY } }
Credentials ::= [0] IMPLICIT SEQUENCE { user OCTET STRING, password OCTET STRING }
END
"""


def asn1tools_aare(data: bytes) -> tuple[dict[str, Any], Any]:
    """The AARE and its CSTA user information, decoded by asn1tools alone."""
    aare = asn1tools.compile_string(AARE_MODULE, "ber").decode("AARE-apdu", data)
    (external,) = aare["user-information"]
    info = asn1tools_check.decode("ACSEUserInformationForCSTA", bytes(external["encoding"][1]))
    return aare, info


def version_names(info: Any) -> set[str]:
    return set(
        codec.bit_names(
            (bytes(info[1]["cSTAVersion"][0]), info[1]["cSTAVersion"][1]), "CSTAVersion"
        )
    )


async def answer(link: Link, aarq: bytes) -> bytes:
    raw = await Raw.connect(link.port)
    raw.send(aarq)
    return await raw.frame()


async def test_the_hipath_aarq_gets_this_aare(make_link: LinkFactory) -> None:
    async with make_link(settings=HIPATH) as link:
        data = await answer(link, HIPATH_AARQ)
    assert data == HIPATH_AARE
    aare, info = asn1tools_aare(data)
    assert (aare["result"], aare["result-source-diagnostic"]) == (0, ("acse-service-user", 0))
    assert aare["responding-authentication-value"] == (
        "external",
        {"encoding": ("single-ASN1-type", {"user": b"AMHOST", "password": b""})},
    )
    assert "mechanism-name" not in aare  # the application sent none
    assert info[0] == "newDefinition" and version_names(info) == {"versionNineteen"}


async def test_our_aarq_gets_the_mechanism_and_a_charstring(link: Link) -> None:
    data = await answer(link, codec.encode_acse(codec.aarq("cti", SETTINGS.password)))
    aare, info = asn1tools_aare(data)
    assert aare["result"] == 0
    assert aare["mechanism-name"] == codec.PASSWORD_MECHANISM
    assert aare["responding-authentication-value"] == ("charstring", "cti")  # never a password
    assert aare["responder-acse-requirements"] == (bytearray(b"\x80"), 1)
    assert version_names(info) == {"versionNineteen"}


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["versionFive"], "versionFive"),  # ECMA-285 2nd edition
        (["versionThree", "versionFive", "versionNineteen"], "versionNineteen"),  # the newest
        (["versionTwo", "versionFour"], "versionFour"),  # ISO/IEC 18052
        (["versionFifteen", "versionSix"], "versionFifteen"),  # ECMA-323 (XML) is not ours
    ],
)
async def test_the_newest_common_version_is_negotiated(
    link: Link, offered: list[str], chosen: str
) -> None:
    proposal = codec.named_bits(offered, "CSTAVersion")
    aarq = codec.aarq("cti", SETTINGS.password, csta_version=proposal)
    data = await answer(link, codec.encode_acse(aarq))
    aare, info = asn1tools_aare(data)
    assert aare["result"] == 0
    assert version_names(info) == {chosen}
    (session,) = link.server.sessions
    assert session.csta_version == chosen


@pytest.mark.parametrize(
    "offered", [["versionOne"], ["versionTwo"], ["versionSix", "versionSeven"], []]
)
async def test_a_version_the_link_cannot_serve_is_refused(link: Link, offered: list[str]) -> None:
    """Phase I/II (ECMA-180/218) and CSTA XML (ECMA-323) only: rejected-permanent,
    no-reason-given (X.227 has no version diagnostic), the served versions in the AARE."""
    proposal = codec.named_bits(offered, "CSTAVersion")
    raw = await Raw.connect(link.port)
    raw.send(codec.encode_acse(codec.aarq("cti", SETTINGS.password, csta_version=proposal)))
    (data,) = await raw.eof()  # the AARE, then the link closes
    aare, info = asn1tools_aare(data)
    assert (aare["result"], aare["result-source-diagnostic"]) == (1, ("acse-service-user", 1))
    assert "responding-authentication-value" not in aare
    assert version_names(info) == {
        "versionThree",
        "versionFour",
        "versionFive",
        "versionFifteen",
        "versionNineteen",
    }


async def test_the_client_names_the_refusal(link: Link) -> None:
    proposal = codec.named_bits(["versionTwo"], "CSTAVersion")
    raw = await Raw.connect(link.port)
    raw.send(codec.encode_acse(codec.aarq("cti", SETTINGS.password, csta_version=proposal)))
    _, body = codec.decode_acse(await raw.frame())
    refused = AssociationRefused(body["result-source-diagnostic"])
    assert "CSTA version it cannot serve" in str(refused)


async def test_an_old_definition_is_answered_in_kind(link: Link) -> None:
    """ECMA-218's oldDefinition: the answer repeats the required functions and names the
    supplied ones (makeCall, monitorStart, snapshotDevice ...)."""
    functions = {
        "switchingFunctionServices": codec.named_bits(["makeCall"], "SwitchingFunctionServicesC2"),
        "eventReportServices": codec.named_bits(["delivered"], "EventReportServicesC2"),
    }
    info = (
        "oldDefinition",
        {
            "cSTAVersion": codec.named_bits(["versionFive"], "CSTAVersion"),
            "cSTAFunctionsRequiredByApplication": functions,
            "cSTAFunctionsThatCanBeSupplied": functions,
        },
    )
    kind, body = codec.aarq("cti", SETTINGS.password)
    body["user-information"] = codec.csta_user_information(
        info, {"direct-reference": "1.3.12.0.285.200"}
    )
    data = await answer(link, codec.encode_acse((kind, body)))
    aare, got = asn1tools_aare(data)
    assert aare["user-information"][0]["direct-reference"] == "1.3.12.0.285.200"  # echoed
    assert got[0] == "oldDefinition" and version_names(got) == {"versionFive"}
    required = got[1]["cSTAFunctionsRequiredByApplication"]["switchingFunctionServices"]
    assert codec.bit_names((bytes(required[0]), required[1]), "SwitchingFunctionServicesC2") == {
        "makeCall"
    }
    supplied = got[1]["cSTAFunctionsThatCanBeSupplied"]
    names = {
        field: codec.bit_names((bytes(v[0]), v[1]), type_name)
        for field, v, type_name in [
            ("switching", supplied["switchingFunctionServices"], "SwitchingFunctionServicesC2"),
            ("status", supplied["statusReportingServices"], "StatusReportingServicesC2"),
            ("events", supplied["eventReportServices"], "EventReportServicesC2"),
        ]
    }
    assert {"makeCall", "answerCall", "transferCall", "setFeature"} <= names["switching"]
    assert {"monitorStart", "monitorStop", "snapshotDevice", "snapshotCall"} <= names["status"]
    assert {"delivered", "established", "callCleared", "forwarding"} <= names["events"]


async def test_user_information_that_is_not_cstas_is_passed_over(link: Link) -> None:
    kind, body = codec.aarq("cti", SETTINGS.password)
    body["user-information"] = [{"encoding": ("single-ASN1-type", bytes.fromhex("0401ff"))}]
    aare, info = asn1tools_aare(await answer(link, codec.encode_acse((kind, body))))
    assert aare["result"] == 0 and version_names(info) == {"versionNineteen"}


def spec_hex(after: str) -> bytes:
    """The hex of the first ```text block after ``after`` in specs/csta.md (each line's
    leading hex octets; the comments after them are skipped)."""
    spec = (Path(__file__).resolve().parents[2] / "specs" / "csta.md").read_text("utf-8")
    block = re.search(r"```text\n(.*?)```", spec[spec.index(after) :], re.S)
    assert block is not None
    octets: list[str] = []
    for line in block.group(1).splitlines():
        for token in line.split():
            if not re.fullmatch(r"[0-9a-f]{2}", token):
                break
            octets.append(token)
    return bytes.fromhex("".join(octets))


def test_the_spec_shows_this_aare() -> None:
    assert spec_hex("The AARE for the HiPath AARQ above") == HIPATH_AARE


def test_every_operation_the_table_knows_has_its_bit() -> None:
    """The supplied-functions table names real ECMA-218 bits, also for operations the link
    may serve later (an unknown name would break every oldDefinition association)."""
    every = {operation for table in negotiation._FUNCTIONS.values() for operation in table}
    supplied = negotiation._functionality(every)
    bits = supplied["switchingFunctionServices"]
    assert "sendDTMFTones" in codec.bit_names(bits, "SwitchingFunctionServicesC2")
    assert codec.bit_names(supplied["bidirectionalServices"], "BidirectionalServicesC2") == {
        "escapeService",
        "systemStatus",
    }


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_any_csta_user_information_is_negotiated_without_error(data: st.DataObject) -> None:
    """Whatever ACSEUserInformationForCSTA an AARQ carries, the answer can be encoded."""
    value = data.draw(_schema_values(acse.ACSEUserInformationForCSTA()))
    try:
        info = codec.csta_user_information(value)
    except CodecError:
        return  # not encodable, so no application can send it
    kind, body = codec.aarq("cti", "x")
    body["user-information"] = info
    outcome = negotiation.negotiate((kind, body), {"makeCall", "monitorStart"})
    answer = codec.encode_acse(
        codec.aare(
            outcome.version is not None,
            "null" if outcome.version else "no-reason-given",
            user_information=outcome.user_information,
        )
    )
    decoded = codec.csta_information(codec.decode_acse(answer))
    assert decoded is not None and decoded[0][0] == value[0]  # answered in kind
