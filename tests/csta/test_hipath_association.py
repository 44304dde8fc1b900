"""Associations as HiPath / OpenScape Business applications send them (issue 20 item 1).

They send no calling-AP-title and no mechanism name; the credentials travel in the AARQ's
calling-authentication-value as the ``external`` form, whose single-ASN1-type holds a [0]
constructed value of two OCTET STRINGs: user name and password (HiPath's factory default is
AMHOST / 77777). The AARQ below is written byte for byte from that description and ECMA-285 /
X.227, not produced by our encoder; our own form (AP title + charstring) keeps working.
"""

from __future__ import annotations

import asn1tools
import attrs
import pytest

from cti.csta import codec
from tests.csta.conftest import SETTINGS, LinkFactory, Raw

HIPATH_AARQ = bytes.fromhex(
    "6020"  # [APPLICATION 0] AARQ, 32 bytes
    "a107" "06052b0c00815a"  # application-context-name: CSTA (1.3.12.0.218)
    "ac15"  # [12] calling-authentication-value
    "a213"  # [2] external (EXTERNAL, implicit)
    "a011"  # [0] single-ASN1-type
    "a00f"  # [0] constructed: the credentials
    "0406" + b"AMHOST".hex() + "0405" + b"77777".hex()
)  # fmt: skip


FAILURE = codec.ACSE_SERVICE_USER_DIAGNOSTICS.index("authentication-failure")  # 13
REQUIRED = codec.ACSE_SERVICE_USER_DIAGNOSTICS.index("authentication-required")  # 14


def test_our_encoder_writes_the_hipath_layout() -> None:
    assert codec.encode_acse(codec.aarq_hipath("AMHOST", "77777")) == HIPATH_AARQ
    assert codec.aarq_credentials(codec.decode_acse(HIPATH_AARQ)) == ("AMHOST", "77777")


async def test_a_hipath_aarq_associates_with_the_link_account(make_link: LinkFactory) -> None:
    """The [csta] account set to HiPath's factory credentials (loopback only): the AARQ as
    such an application sends it is accepted, and the link serves it."""
    hipath = attrs.evolve(SETTINGS, user="AMHOST", password="77777")
    async with make_link(settings=hipath) as link:
        raw = await Raw.connect(link.port)
        raw.send(HIPATH_AARQ)
        kind, body = codec.decode_acse(await raw.frame())
        assert (kind, body["result"]) == ("aare", 0)
        status = await raw.rose()
        assert isinstance(status, codec.Invoke) and status.opcode == "systemStatus"
        assert [s.user for s in link.server.sessions] == ["AMHOST"]


@pytest.mark.parametrize(("user", "password"), [("AMHOST", "wrong"), ("nobody", "77777"), ("", "")])
async def test_wrong_hipath_credentials_are_an_authentication_failure(
    make_link: LinkFactory, user: str, password: str
) -> None:
    hipath = attrs.evolve(SETTINGS, user="AMHOST", password="77777")
    async with make_link(settings=hipath) as link:
        raw = await Raw.connect(link.port)
        raw.send(codec.encode_acse(codec.aarq_hipath(user, password)))
        link.clock.advance(60)  # past any penalty of this address's earlier failures
        kind, body = codec.decode_acse(await raw.frame())
        assert (kind, body["result"]) == ("aare", 1)
        assert body["result-source-diagnostic"] == ("acse-service-user", FAILURE)


async def test_an_external_value_that_is_not_credentials_is_authentication_required(
    make_link: LinkFactory,
) -> None:
    async with make_link() as link:
        raw = await Raw.connect(link.port)
        garbage = ("external", {"encoding": ("single-ASN1-type", bytes.fromhex("0401ff"))})
        body = {"aSO-context-name": codec.CSTA_CONTEXT, "calling-authentication-value": garbage}
        raw.send(codec.encode_acse(("aarq", body)))
        kind, answer = codec.decode_acse(await raw.frame())
        assert (kind, answer["result"]) == ("aare", 1)
        assert answer["result-source-diagnostic"] == ("acse-service-user", REQUIRED)


HIPATH_ACSE = """
Hipath-ACSE DEFINITIONS ::= BEGIN
AARQ-apdu ::= [APPLICATION 0] IMPLICIT SEQUENCE {
  aSO-context-name [1] OBJECT IDENTIFIER,
  calling-authentication-value [12] CHOICE {
    external [2] IMPLICIT SEQUENCE { encoding CHOICE { single-ASN1-type [0] Credentials } } } }
Credentials ::= [0] IMPLICIT SEQUENCE { user OCTET STRING, password OCTET STRING }
END
"""


def test_asn1tools_writes_the_same_bytes() -> None:
    """An independent codec, from X.227's EXTERNAL and the description above."""
    spec = asn1tools.compile_string(HIPATH_ACSE, "ber")
    credentials = {"user": b"AMHOST", "password": b"77777"}
    aarq = {
        "aSO-context-name": "1.3.12.0.218",
        "calling-authentication-value": (
            "external",
            {"encoding": ("single-ASN1-type", credentials)},
        ),
    }
    assert spec.encode("AARQ-apdu", aarq) == HIPATH_AARQ
