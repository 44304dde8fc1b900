"""ECMA-285 BER codec: CSTA types, ROSE PDUs and ACSE APDUs in value notation
(specs/csta-codec.md). The pyasn1 schema is in :mod:`types`; :mod:`fast_ber` and
:mod:`fast_ber_decode` are the compiled encoder and decoder, byte for byte the same; TCP
framing is in :mod:`framing`. Every failure is a :class:`~cti.csta.codec.errors.CodecError`.
"""

from cti.csta.codec.pdu import (
    ACSE_SERVICE_USER_DIAGNOSTICS,
    CSTA_CONTEXT,
    INVOKE_ID_MAX,
    INVOKE_ID_MIN,
    PASSWORD_MECHANISM,
    REJECT_PROBLEMS,
    Invoke,
    Reject,
    ReturnError,
    ReturnResult,
    RosePdu,
    aare,
    aarq,
    aarq_credentials,
    bit_names,
    classify,
    decode,
    decode_acse,
    decode_rose,
    encode,
    encode_acse,
    encode_rose,
    named_bits,
    type_names,
)

__all__ = [
    "ACSE_SERVICE_USER_DIAGNOSTICS",
    "CSTA_CONTEXT",
    "INVOKE_ID_MAX",
    "INVOKE_ID_MIN",
    "PASSWORD_MECHANISM",
    "REJECT_PROBLEMS",
    "Invoke",
    "Reject",
    "ReturnError",
    "ReturnResult",
    "RosePdu",
    "aare",
    "aarq",
    "aarq_credentials",
    "bit_names",
    "classify",
    "decode",
    "decode_acse",
    "decode_rose",
    "encode",
    "encode_acse",
    "encode_rose",
    "named_bits",
    "type_names",
]
