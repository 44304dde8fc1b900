"""ECMA-285 BER codec: CSTA types, ROSE PDUs and ACSE APDUs in value notation.

Value notation is described in :mod:`cti.csta.codec.values` and specs/csta-codec.md.
Every failure surfaces as :class:`~cti.csta.codec.errors.CodecError` (or a subclass).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

import attrs
from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import base as asn1_base

from cti.csta.codec import ber, fast_ber, fast_ber_decode
from cti.csta.codec.errors import (
    CodecError,
    MistypedArgument,
    MistypedParameter,
    MistypedResult,
    UnknownOperation,
    UnrecognizedError,
    UnrecognizedInvocation,
    UnrecognizedPDU,
)
from cti.csta.codec.types import (
    acse,
    bits,
    causes,
    common,
    errors,
    events,
    features,
    identifiers,
    media,
    rose,
    services,
    status,
)
from cti.csta.codec.types.operations import ERRORS, ERRORS_BY_CODE, OPERATIONS, OPERATIONS_BY_CODE
from cti.csta.codec.values import from_python, to_python

__all__ = [
    "CSTA_CONTEXT",
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
    "aarq_hipath",
    "bit_names",
    "classify",
    "csta_information",
    "csta_user_information",
    "decode",
    "decode_acse",
    "decode_rose",
    "encode",
    "encode_acse",
    "encode_rose",
    "login_credentials",
    "named_bits",
    "type_names",
]

CSTA_CONTEXT = "1.3.12.0.218"  # application context name of CSTA (ECMA-285)
PASSWORD_MECHANISM = "2.2.3.1"  # X.227 {association-control authentication-mechanism password-1}

_MODULES: tuple[ModuleType, ...] = (
    identifiers,
    causes,
    common,
    errors,
    media,
    bits,
    features,
    status,
    services,
    events,
    rose,
    acse,
)

INVOKE_ID_MIN, INVOKE_ID_MAX = -(2**31), 2**31 - 1  # 4-byte INTEGER


@functools.cache
def _registry() -> dict[str, type]:
    """ASN.1 type name -> pyasn1 class (``AARQ_apdu`` is also ``AARQ-apdu``)."""
    found: dict[str, type] = {}
    for module in _MODULES:
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and issubclass(obj, asn1_base.Asn1Type)
                and not name.startswith("_")
                and obj.__module__ == module.__name__
            ):
                found[name] = obj
                found[name.replace("_", "-")] = obj
    return found


def type_names() -> list[str]:
    """Names accepted by :func:`encode` / :func:`decode`."""
    return sorted(_registry())


def _spec(type_name: str) -> Any:
    try:
        return _registry()[type_name]()
    except KeyError:
        raise CodecError(f"unknown type {type_name!r}") from None


def _encode_spec(spec: Any, value: Any) -> bytes:
    try:
        obj = from_python(spec, value)
        # omitEmptyOptionals: pyasn1 regards an absent OPTIONAL SEQUENCE whose
        # fields are all OPTIONAL/DEFAULT as present; this drops it again.
        return bytes(ber.encode(obj, omitEmptyOptionals=True))
    except CodecError:
        raise
    except Exception as exc:  # pyasn1: constraint violations, incomplete values...
        raise CodecError(f"cannot encode {type(spec).__name__}: {exc!r}") from exc


def _decode_spec(spec: Any, data: bytes) -> Any:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CodecError(f"expected bytes, got {type(data).__name__}")
    try:
        obj, rest = ber_decoder.decode(bytes(data), asn1Spec=spec)
        if rest:
            raise CodecError(f"{len(rest)} trailing bytes after {type(spec).__name__}")
        return to_python(obj)
    except CodecError:
        raise
    except Exception as exc:  # pyasn1 on hostile input: PyAsn1Error, ValueError, ...
        raise CodecError(f"cannot decode {type(spec).__name__}: {exc!r}") from exc


def _encode_type(cls: type, value: Any) -> bytes:
    """The compiled encoder (:mod:`cti.csta.codec.fast_ber`) when it can, else pyasn1."""
    try:
        return fast_ber.encode(cls, value)
    except fast_ber.Unsupported:
        return _encode_spec(cls(), value)


def _pyasn1_encode(type_name: str, value: Any) -> bytes:
    """:func:`encode` on the pyasn1 path only (reference for the fast encoder)."""
    return _encode_spec(_spec(type_name), value)


def encode(type_name: str, value: Any) -> bytes:
    """BER-encode ``value`` (value notation) as ASN.1 type ``type_name``."""
    cls = _registry().get(type_name)
    if cls is None:
        return _pyasn1_encode(type_name, value)  # raises "unknown type"
    return _encode_type(cls, value)


def _decode_type(cls: type, data: bytes) -> Any:
    """The compiled decoder (:mod:`cti.csta.codec.fast_ber_decode`) when it can, else pyasn1."""
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            return fast_ber_decode.decode(cls, bytes(data))
        except fast_ber_decode.Unsupported:
            pass
    return _decode_spec(cls(), data)


def _pyasn1_decode(type_name: str, data: bytes) -> Any:
    """:func:`decode` on the pyasn1 path only (reference for the fast decoder)."""
    return _decode_spec(_spec(type_name), data)


def decode(type_name: str, data: bytes) -> Any:
    """Decode BER ``data`` holding exactly one ``type_name``."""
    cls = _registry().get(type_name)
    if cls is None:
        return _pyasn1_decode(type_name, data)  # raises "unknown type"
    return _decode_type(cls, data)


# -- BIT STRING helpers ---------------------------------------------------------
def _bit_table(type_name: str) -> Any:
    # bits.CallControlEvents (the filter) shares its name with the event CHOICE.
    cls = getattr(bits, type_name, None) or _registry().get(type_name)
    table = getattr(cls, "namedValues", None)
    if table is None:
        raise CodecError(f"{type_name!r} is not a named BIT STRING")
    return table


def named_bits(names: Iterable[str], type_name: str) -> tuple[bytes, int]:
    """Set of named bits of ``type_name`` (e.g. "CallControlEvents") -> (bytes, nbits)."""
    table = _bit_table(type_name)
    positions = []
    for name in names:
        if name not in table:
            raise CodecError(f"{type_name} has no bit {name!r}")
        positions.append(table[name])
    nbits = max(positions) + 1 if positions else 0
    data = bytearray((nbits + 7) // 8)
    for pos in positions:
        data[pos // 8] |= 0x80 >> (pos % 8)
    return bytes(data), nbits


def bit_names(value: tuple[bytes, int], type_name: str) -> frozenset[str]:
    """(bytes, nbits) -> names of the set bits; unnamed bits are ignored."""
    data, nbits = value
    table = _bit_table(type_name)
    return frozenset(
        name for name, pos in table.items() if pos < nbits and data[pos // 8] & (0x80 >> (pos % 8))
    )


# -- ROSE -------------------------------------------------------------------------
REJECT_PROBLEMS: dict[str, tuple[str, ...]] = {
    "general": ("unrecognizedPDU", "mistypedPDU", "badlyStructuredPDU"),
    "invoke": (
        "duplicateInvocation",
        "unrecognizedOperation",
        "mistypedArgument",
        "resourceLimitation",
        "releaseInProgress",
        "unrecognizedLinkedId",
        "linkedResponseUnexpected",
        "unexpectedLinkedOperation",
    ),
    "returnResult": ("unrecognizedInvocation", "resultResponseUnexpected", "mistypedResult"),
    "returnError": (
        "unrecognizedInvocation",
        "errorResponseUnexpected",
        "unrecognizedError",
        "unexpectedError",
        "mistypedParameter",
    ),
}


@attrs.frozen
class Invoke:
    """ROSE Invoke. ``opcode`` is the operation name from opcodes.json
    (``"makeCall"``); encode also accepts the integer code."""

    invoke_id: int
    opcode: str | int
    argument: Any
    linked_id: int | None = None


@attrs.frozen
class ReturnResult:
    """``opcode``/``result`` are both None for a result without data."""

    invoke_id: int
    opcode: str | int | None = None
    result: Any = None


@attrs.frozen
class ReturnError:
    """``error_code`` is the error name (``"universalFailure"``) or its code."""

    invoke_id: int
    error_code: str | int
    parameter: Any = None


@attrs.frozen
class Reject:
    """``problem`` is ``(kind, name)``, e.g. ``("invoke", "unrecognizedOperation")``;
    an undefined problem number decodes as ``(kind, int)``."""

    invoke_id: int | None
    problem: tuple[str, str | int]


RosePdu = Invoke | ReturnResult | ReturnError | Reject


def _check_id(invoke_id: Any) -> int:
    if isinstance(invoke_id, bool) or not isinstance(invoke_id, int):
        raise CodecError(f"invoke id must be int, got {invoke_id!r}")
    if not INVOKE_ID_MIN <= invoke_id <= INVOKE_ID_MAX:
        raise CodecError(f"invoke id {invoke_id} does not fit in 4 bytes")
    return invoke_id


def _lookup(table: dict[str, Any], by_code: dict[int, Any], key: str | int) -> Any:
    found = by_code.get(key) if isinstance(key, int) else table.get(key)
    if found is None:
        raise CodecError(f"unknown operation/error {key!r}")
    return found


def encode_rose(pdu: RosePdu) -> bytes:
    """Encode a ROSE PDU; argument/result/parameter are given in value notation."""
    value: tuple[str, dict[str, Any]]
    if isinstance(pdu, Invoke):
        op = _lookup(OPERATIONS, OPERATIONS_BY_CODE, pdu.opcode)
        body: dict[str, Any] = {
            "invokeId": ("present", _check_id(pdu.invoke_id)),
            "opcode": ("local", op.code),
            "argument": encode(op.argument, pdu.argument),
        }
        if pdu.linked_id is not None:
            body["linkedId"] = ("present", _check_id(pdu.linked_id))
        value = ("invoke", body)
    elif isinstance(pdu, ReturnResult):
        body = {"invokeId": ("present", _check_id(pdu.invoke_id))}
        if pdu.opcode is not None:
            op = _lookup(OPERATIONS, OPERATIONS_BY_CODE, pdu.opcode)
            if op.result is None:
                raise CodecError(f"{op.name} has no result")
            body["result"] = {"opcode": ("local", op.code), "result": encode(op.result, pdu.result)}
        value = ("returnResult", body)
    elif isinstance(pdu, ReturnError):
        err = _lookup(ERRORS, ERRORS_BY_CODE, pdu.error_code)
        body = {
            "invokeId": ("present", _check_id(pdu.invoke_id)),
            "errcode": ("local", err.code),
            "parameter": encode(err.argument, pdu.parameter),
        }
        value = ("returnError", body)
    elif isinstance(pdu, Reject):
        kind, name = pdu.problem
        names = REJECT_PROBLEMS.get(kind)
        if names is None or (name not in names and not isinstance(name, int)):
            raise CodecError(f"bad reject problem {pdu.problem!r}")
        number = name if isinstance(name, int) else names.index(name)
        invoke_id = (
            ("absent", None) if pdu.invoke_id is None else ("present", _check_id(pdu.invoke_id))
        )
        value = ("reject", {"invokeId": invoke_id, "problem": (kind, number)})
    else:
        raise CodecError(f"not a ROSE PDU: {pdu!r}")
    return _encode_type(rose.ROS, value)


def decode_rose(data: bytes, outstanding: Mapping[int, str] | None = None) -> RosePdu:
    """Decode a ROSE PDU and its argument/result/parameter (by operation code).

    Raises UnknownOperation / MistypedArgument / MistypedResult /
    MistypedParameter / UnrecognizedError when the PDU is sound but its content
    is not (they carry ``invoke_id`` and the matching Reject ``problem``), and
    plain CodecError when the PDU itself is broken.

    With ``outstanding`` (invoke id -> operation name of the invokes awaiting an answer), a
    ReturnResult / ReturnError is first matched against it (X.880): an unknown invoke id
    raises UnrecognizedInvocation before anything else is decoded, and a result is decoded
    as that invoke's operation (another opcode is a mistypedResult).
    """
    if classify(data) != "rose":
        raise UnrecognizedPDU("not a ROSE PDU")
    kind, body = _decode_type(rose.ROS, data)
    invoke_id = _pdu_invoke_id(body)
    if kind == "reject":
        problem_kind, number = body["problem"]
        names = REJECT_PROBLEMS[problem_kind]
        name: str | int = names[number] if 0 <= number < len(names) else number
        return Reject(invoke_id, (problem_kind, name))
    if invoke_id is None:
        raise CodecError(f"{kind} without invoke id")
    if kind == "invoke":
        return _decode_invoke(invoke_id, body)
    if outstanding is not None and invoke_id not in outstanding:
        raise UnrecognizedInvocation(invoke_id, kind)
    if kind == "returnResult":
        if "result" not in body:
            return ReturnResult(invoke_id)
        if outstanding is not None:
            op = OPERATIONS[outstanding[invoke_id]]
            if body["result"]["opcode"] != ("local", op.code):
                raise MistypedResult(invoke_id, f"opcode {body['result']['opcode']} for {op.name}")
        else:
            op = _local_operation(invoke_id, body["result"]["opcode"])
        if op.result is None:
            raise MistypedResult(invoke_id, f"{op.name} has no result")
        try:
            return ReturnResult(invoke_id, op.name, decode(op.result, body["result"]["result"]))
        except CodecError as exc:
            raise MistypedResult(invoke_id, str(exc)) from exc
    code_kind, code = body["errcode"]
    err = ERRORS_BY_CODE.get(code) if code_kind == "local" else None
    if err is None:
        raise UnrecognizedError(invoke_id, f"error code {code}")
    try:
        return ReturnError(invoke_id, err.name, decode(err.argument, body.get("parameter", b"")))
    except CodecError as exc:
        raise MistypedParameter(invoke_id, str(exc)) from exc


def _pdu_invoke_id(body: dict[str, Any]) -> int | None:
    branch, value = body["invokeId"]
    if branch == "absent":
        return None
    if not INVOKE_ID_MIN <= value <= INVOKE_ID_MAX:
        raise CodecError(f"invoke id {value} does not fit in 4 bytes")
    return int(value)


def _local_operation(invoke_id: int, code: tuple[str, Any]) -> Any:
    kind, value = code
    op = OPERATIONS_BY_CODE.get(value) if kind == "local" else None
    if op is None:
        raise UnknownOperation(invoke_id, value)
    return op


def _decode_invoke(invoke_id: int, body: dict[str, Any]) -> Invoke:
    op = _local_operation(invoke_id, body["opcode"])
    linked = body.get("linkedId")
    linked_id = linked[1] if linked is not None and linked[0] == "present" else None
    if "argument" not in body:
        raise MistypedArgument(invoke_id, f"{op.name} without argument")
    try:
        argument = decode(op.argument, body["argument"])
    except CodecError as exc:
        raise MistypedArgument(invoke_id, str(exc)) from exc
    return Invoke(invoke_id, op.name, argument, linked_id)


# -- ACSE -----------------------------------------------------------------------------
ACSE_SERVICE_USER_DIAGNOSTICS: tuple[str, ...] = (
    "null",
    "no-reason-given",
    "application-context-name-not-supported",
    "calling-AP-title-not-recognized",
    "calling-AP-invocation-identifier-not-recognized",
    "calling-AE-qualifier-not-recognized",
    "calling-AE-invocation-identifier-not-recognized",
    "called-AP-title-not-recognized",
    "called-AP-invocation-identifier-not-recognized",
    "called-AE-qualifier-not-recognized",
    "called-AE-invocation-identifier-not-recognized",
    "authentication-mechanism-name-not-recognized",
    "authentication-mechanism-name-required",
    "authentication-failure",
    "authentication-required",
)


def classify(data: bytes) -> str:
    """``'rose'`` for [1]..[4] (Invoke..Reject), ``'acse'`` for [APPLICATION 0..4]."""
    if not data:
        raise UnrecognizedPDU("empty PDU")
    first = data[0]
    if 0xA1 <= first <= 0xA4:
        return "rose"
    if 0x60 <= first <= 0x64:
        return "acse"
    raise UnrecognizedPDU(f"unknown outer tag 0x{first:02x}")


def encode_acse(pdu: tuple[str, dict[str, Any]]) -> bytes:
    """Encode an ACSE APDU given as ``("aarq" | "aare" | "rlrq" | "rlre" | "abrt", {...})``."""
    return _encode_type(acse.ACSE_apdu, pdu)


def decode_acse(data: bytes) -> tuple[str, dict[str, Any]]:
    if classify(data) != "acse":
        raise UnrecognizedPDU("not an ACSE APDU")
    result: tuple[str, dict[str, Any]] = _decode_type(acse.ACSE_apdu, data)
    return result


def aarq(
    user: str, password: str, *, csta_version: tuple[bytes, int] | None = None
) -> tuple[str, dict[str, Any]]:
    """AARQ for the CSTA application context with password authentication.

    Convention: the user name travels as ``calling-AP-title`` form 3
    (PrintableString), the password as ``calling-authentication-value``
    ``charstring``, with ``mechanism-name`` password-1 (2.2.3.1) and the
    ``authentication`` ACSE requirement. The CSTA user information
    (ACSEUserInformationForCSTA, which has no identity fields) is only added
    when ``csta_version`` is given.
    """
    body: dict[str, Any] = {
        "aSO-context-name": CSTA_CONTEXT,
        "calling-AP-title": ("ap-title-form3", user),
        "sender-acse-requirements": named_bits(["authentication"], "ACSE-requirements"),
        "mechanism-name": PASSWORD_MECHANISM,
        "calling-authentication-value": ("charstring", password),
    }
    if csta_version is not None:
        info = encode(
            "ACSEUserInformationForCSTA", ("newDefinition", {"cSTAVersion": csta_version})
        )
        body["user-information"] = [{"encoding": ("single-ASN1-type", info)}]
    return ("aarq", body)


def aarq_hipath(user: str, password: str) -> tuple[str, dict[str, Any]]:
    """AARQ as HiPath / OpenScape Business applications send it: no calling-AP-title, no
    mechanism name; ``calling-authentication-value`` is the ``external`` form whose
    single-ASN1-type holds :class:`~cti.csta.codec.types.acse.LoginCredentials`."""
    body: dict[str, Any] = {
        "aSO-context-name": CSTA_CONTEXT,
        "calling-authentication-value": login_credentials(user, password),
    }
    return ("aarq", body)


def aarq_credentials(pdu: tuple[str, dict[str, Any]]) -> tuple[str, str] | None:
    """(user, password) from a decoded AARQ in either form (specs/csta.md): ours, the user
    as calling-AP-title form 3 and the password as ``charstring``; or HiPath's, both in the
    ``external`` form (:func:`aarq_hipath`). None if neither is there."""
    kind, body = pdu
    auth = body.get("calling-authentication-value")
    if kind != "aarq" or auth is None:
        return None
    if auth[0] == "external":
        return _login_credentials(auth[1])
    title = body.get("calling-AP-title")
    if title is None or title[0] != "ap-title-form3" or auth[0] != "charstring":
        return None
    return (title[1], auth[1])


def _login_credentials(external: dict[str, Any]) -> tuple[str, str] | None:
    encoding = external.get("encoding")
    if not isinstance(encoding, tuple) or encoding[0] != "single-ASN1-type":
        return None
    try:
        value, rest = ber_decoder.decode(bytes(encoding[1]), asn1Spec=acse.LoginCredentials())
        if rest:
            return None
        user = bytes(value["user"]).decode()
        password = bytes(value["password"]).decode()
    except (PyAsn1Error, UnicodeDecodeError, ValueError):
        return None
    return (user, password)


def aare(
    accepted: bool,
    diagnostic: str = "null",
    *,
    mechanism: str | None = None,
    authentication: tuple[str, Any] | None = None,
    user_information: list[dict[str, Any]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """AARE: result accepted(0) / rejected-permanent(1), diagnostic named as in
    Associate-source-diagnostic acse-service-user (e.g. "authentication-failure").

    With ``authentication`` (a responding-authentication-value) the AARE also says
    responder-acse-requirements {authentication} and, if given, the ``mechanism`` name;
    ``user_information`` is the Association-data (a list of EXTERNALs, see
    :func:`csta_user_information`)."""
    if diagnostic not in ACSE_SERVICE_USER_DIAGNOSTICS:
        raise CodecError(f"unknown ACSE diagnostic {diagnostic!r}")
    body: dict[str, Any] = {
        "aSO-context-name": CSTA_CONTEXT,
        "result": 0 if accepted else 1,
        "result-source-diagnostic": (
            "acse-service-user",
            ACSE_SERVICE_USER_DIAGNOSTICS.index(diagnostic),
        ),
    }
    if authentication is not None:
        body["responder-acse-requirements"] = named_bits(["authentication"], "ACSE-requirements")
        if mechanism is not None:
            body["mechanism-name"] = mechanism
        body["responding-authentication-value"] = authentication
    if user_information:
        body["user-information"] = user_information
    return ("aare", body)


def login_credentials(user: str, password: str) -> tuple[str, Any]:
    """The ``external`` authentication value of HiPath / OpenScape Business applications
    (:class:`~cti.csta.codec.types.acse.LoginCredentials` as its single-ASN1-type)."""
    credentials = acse.LoginCredentials()
    credentials["user"] = user.encode()
    credentials["password"] = password.encode()
    return ("external", {"encoding": ("single-ASN1-type", bytes(ber.encode(credentials)))})


def csta_user_information(
    value: tuple[str, dict[str, Any]], references: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Association-data holding one ACSEUserInformationForCSTA ``value`` as an EXTERNAL's
    single-ASN1-type; ``references`` (direct-reference / indirect-reference) go with it."""
    external = {
        **(references or {}),
        "encoding": ("single-ASN1-type", encode("ACSEUserInformationForCSTA", value)),
    }
    return [external]


def csta_information(
    pdu: tuple[str, dict[str, Any]],
) -> tuple[tuple[str, dict[str, Any]], dict[str, Any]] | None:
    """The first ACSEUserInformationForCSTA of an AARQ / AARE's user-information (as a
    single-ASN1-type or octet-aligned EXTERNAL) and that EXTERNAL's references; None when
    there is none (other EXTERNALs are not CSTA's and are passed over)."""
    for external in pdu[1].get("user-information", []):
        kind, data = external.get("encoding", ("", None))
        if kind not in ("single-ASN1-type", "octet-aligned"):
            continue
        try:
            value = decode("ACSEUserInformationForCSTA", data)
        except CodecError:
            continue
        refs = {
            k: v for k, v in external.items() if k in ("direct-reference", "indirect-reference")
        }
        return value, refs
    return None
