"""CSTACommonArguments (CSTA-extension-types) and CSTASecurityData (CSTA-security): the
``extensions`` field of every service argument, result and event.

Modelled: ``security`` with its message sequence number and ``timestamp`` (TimeInfo, a
GeneralizedTime carried as its ASN.1 text, e.g. ``"20261207081530.25Z"``). Where the
standard leaves the type to the vendor (SecurityInfo and CSTAPrivateData: "the actual
encoding is added here, replacing NULL"), the field stays open: ``securityInfo`` is the
whole TLV as bytes, whatever type a switch or application put there, and ``privateData``
is accepted and skipped (:class:`~cti.csta.codec.types.base.Opaque`)."""

from __future__ import annotations

from typing import Any

from pyasn1.type import namedtype, univ, useful

from cti.csta.codec.types.base import app_tagset, implicit, opaque_ctx

__all__ = ["CSTACommonArguments", "CSTASecurityData", "extensions"]

O = namedtype.OptionalNamedType  # noqa: E741 - reads like the ASN.1 keyword


class CSTASecurityData(univ.Sequence):
    componentType = namedtype.NamedTypes(
        O("messageSequenceNumber", implicit(univ.Integer(), 0)),
        O("timestamp", useful.GeneralizedTime()),  # TimeInfo
        # SecurityInfo ::= CHOICE { string OCTET STRING, private NULL -- vendor's type -- }:
        # untagged and last, so the TLV is kept as it came, whichever alternative it is.
        O("securityInfo", univ.Any()),
    )


class CSTACommonArguments(univ.Sequence):
    tagSet = app_tagset(univ.Sequence, 30, implicit_tag=True)
    componentType = namedtype.NamedTypes(
        O("security", implicit(CSTASecurityData(), 0)),
        O("privateData", opaque_ctx(1)),  # [1] IMPLICIT SEQUENCE OF CSTAPrivateData
    )


def extensions() -> Any:
    """The ``extensions`` field type (``CSTACommonArguments``)."""
    return CSTACommonArguments()
