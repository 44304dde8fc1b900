"""Compiled BER encoder: value notation straight to bytes, no pyasn1 objects.

For each pyasn1 schema type of :mod:`cti.csta.codec.types` a closure is built once
(from the schema's ``tagSet``, ``componentType``, ``namedValues``...) that
encodes a value given in value notation (see :mod:`cti.csta.codec.values`). It
reproduces, byte for byte, what ``cti.csta.codec.ber.encode(
values.from_python(spec, value), omitEmptyOptionals=True)`` produces:

* definite lengths, short form below 128, pyasn1's tag octets (the
  constructed bit ORed in for constructed encodings);
* INTEGER / ENUMERATED as pyasn1 writes them (one extra sign octet when the
  bit length is a multiple of 8, e.g. -128 is ``ff 80``), BOOLEAN TRUE as 0xFF
  (:mod:`cti.csta.codec.ber`: what HiPath / OpenScape switches write);
* OPTIONAL components skipped when absent or when the pyasn1 object built for
  them would not be a value (``[]``, SEQUENCE OFs / CHOICEs / SEQUENCEs with
  such inside, as pyasn1's ``isValue`` decides); with
  ``omitEmptyOptionals``, an OPTIONAL constructed component whose contents
  come out empty is dropped, and that flag is inherited by SEQUENCE OF
  elements and CHOICE alternatives exactly as pyasn1 passes it on;
* DEFAULT components skipped when equal to the default (compared with
  pyasn1's own ``==`` on the converted value).

Whatever the fast encoder is not sure to encode exactly like the pyasn1 path
(bad values of any kind, missing mandatory fields, opaque placeholders,
constrained types it does not check itself, unusual pyasn1 types) raises
:class:`Unsupported`; the caller then runs the pyasn1 path, which yields the
bytes or the usual :class:`~cti.csta.codec.errors.CodecError`. The fast encoder
never raises anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyasn1.codec.ber import encoder as ber_encoder
from pyasn1.type import base as asn1_base
from pyasn1.type import char, univ

from cti.csta.codec import ber
from cti.csta.codec.types.base import Opaque
from cti.csta.codec.values import from_python

__all__ = ["Unsupported", "encode", "encoder_for"]


class Unsupported(Exception):
    """The fast encoder does not handle this type/value: use the pyasn1 path."""


Enc = Callable[[Any, bool], bytes]  # (value, ifNotEmpty) -> TLV bytes
IsVal = Callable[[Any], bool] | None  # None: the pyasn1 object is always a value

_MISSING: Any = object()
_SHORT = [bytes((n,)) for n in range(128)]
_TAG_ENCODER = ber_encoder.AbstractItemEncoder()


def _long_length(n: int) -> bytes:
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(body) > 126:
        raise Unsupported("length overflow")
    return bytes((0x80 | len(body),)) + body


def _int_content(v: int) -> bytes:
    """pyasn1's IntegerEncoder: zero is one 0x00 octet; otherwise two's
    complement with an extra octet when the bit length is a multiple of 8."""
    if v == 0:
        return b"\x00"
    n = v.bit_length()
    if n % 8 == 0:
        n += 1
    return v.to_bytes(n // 8 + (1 if n % 8 else 0), "big", signed=True)


_INT_CACHE = {v: _int_content(v) for v in range(-256, 1024)}


def _int_bytes(v: int) -> bytes:
    found = _INT_CACHE.get(v)
    return found if found is not None else _int_content(v)


_OID_CACHE: dict[str, bytes] = {}


def _oid_content(text: str) -> bytes:
    found = _OID_CACHE.get(text)
    if found is not None:
        return found
    arcs = tuple(int(arc) for arc in text.split("."))  # as values._scalar does
    if len(arcs) < 2 or any(arc < 0 for arc in arcs):
        raise Unsupported("bad OBJECT IDENTIFIER")
    first, second = arcs[0], arcs[1]
    if 0 <= second <= 39 and first in (0, 1, 2):
        head = second + 40 * first
    elif first == 2:
        head = second + 80
    else:
        raise Unsupported("bad OBJECT IDENTIFIER")
    out = bytearray()
    for arc in (head, *arcs[2:]):
        if arc <= 127:
            out.append(arc)
        else:
            chunk = [arc & 0x7F]
            arc >>= 7
            while arc:
                chunk.append(0x80 | (arc & 0x7F))
                arc >>= 7
            out.extend(reversed(chunk))
    content = bytes(out)
    if len(_OID_CACHE) < 1024:
        _OID_CACHE[text] = content
    return content


def _bits_content(value: Any) -> bytes:
    if not (isinstance(value, tuple) and len(value) == 2):
        raise Unsupported("bad BIT STRING")
    data, nbits = value
    if not isinstance(data, bytes) or type(nbits) is not int or not 0 <= nbits <= 8 * len(data):
        raise Unsupported("bad BIT STRING")
    nbytes = (nbits + 7) // 8
    unused = nbytes * 8 - nbits
    body = bytearray(data[:nbytes])
    if unused:
        body[-1] &= (0xFF << unused) & 0xFF
    return bytes((unused,)) + bytes(body)


# -- tags -----------------------------------------------------------------------------
def _headers(spec: Any, constructed: bool) -> tuple[bytes, ...]:
    """Tag octets of every tag in ``spec.tagSet``, innermost first."""
    return tuple(bytes(_TAG_ENCODER.encodeTag(t, constructed)) for t in spec.tagSet.superTags)


def _wrapper(spec: Any, constructed: bool) -> Callable[[bytes], bytes] | None:
    """``content -> TLV`` for the tags of ``spec``; None when untagged."""
    headers = _headers(spec, constructed)
    if not headers:
        return None
    if len(headers) == 1:
        (head,) = headers

        def wrap1(content: bytes) -> bytes:
            n = len(content)
            return head + (_SHORT[n] if n < 128 else _long_length(n)) + content

        return wrap1

    def wrap(content: bytes) -> bytes:
        for head in headers:
            n = len(content)
            content = head + (_SHORT[n] if n < 128 else _long_length(n)) + content
        return content

    return wrap


# -- compiler -------------------------------------------------------------------------
_KINDS: dict[Any, type] = {
    univ.Boolean.typeId: ber.BooleanEncoder,
    univ.Integer.typeId: ber_encoder.IntegerEncoder,
    univ.Enumerated.typeId: ber_encoder.IntegerEncoder,
    univ.Null.typeId: ber_encoder.NullEncoder,
    univ.BitString.typeId: ber_encoder.BitStringEncoder,
    univ.ObjectIdentifier.typeId: ber_encoder.ObjectIdentifierEncoder,
    univ.OctetString.typeId: ber_encoder.OctetStringEncoder,
    univ.Any.typeId: ber_encoder.AnyEncoder,
    univ.Sequence.typeId: ber_encoder.SequenceEncoder,
    univ.Set.typeId: ber_encoder.SequenceEncoder,
    univ.SequenceOf.typeId: ber_encoder.SequenceOfEncoder,
    univ.SetOf.typeId: ber_encoder.SequenceOfEncoder,
    univ.Choice.typeId: ber_encoder.ChoiceEncoder,
}

# Constraints the base types carry themselves (always met by valid values).
_BASE_CONSTRAINTS: dict[Any, Any] = {
    cls.typeId: cls.subtypeSpec for cls in (univ.Boolean, univ.Null, univ.Choice)
}

_CACHE: dict[int, tuple[Any, Enc, IsVal]] = {}


def _raiser(why: str) -> Enc:
    def unsupported(value: Any, ine: bool) -> bytes:
        raise Unsupported(why)

    return unsupported


def _uses_expected_encoder(spec: Any) -> bool:
    """The pyasn1 encoder picks its codec by typeId; be sure it is the one we mimic."""
    chosen = ber.TYPE_MAP.get(spec.typeId)
    if chosen is None:
        return False
    if isinstance(spec, char.AbstractCharacterString):
        return type(chosen) is ber_encoder.OctetStringEncoder
    expected = _KINDS.get(spec.typeId)
    return expected is not None and type(chosen) is expected


def _plain_constraints(spec: Any) -> bool:
    """No constraints beyond what the base type itself carries."""
    spec_constraints = spec.subtypeSpec
    if not spec_constraints:
        return True
    base = _BASE_CONSTRAINTS.get(spec.typeId)
    return base is not None and bool(spec_constraints == base)


def _compile(spec: Any) -> tuple[Enc, IsVal]:
    key = id(spec)
    found = _CACHE.get(key)
    if found is not None and found[0] is spec:
        return found[1], found[2]
    enc, isval = _build(spec)
    _CACHE[key] = (spec, enc, isval)  # keeps spec alive, so id() stays unique
    return enc, isval


def _build(spec: Any) -> tuple[Enc, IsVal]:
    if isinstance(spec, Opaque):
        return _raiser("opaque field"), None
    if not isinstance(spec, asn1_base.Asn1Type) or not _uses_expected_encoder(spec):
        return _raiser(f"type {type(spec).__name__}"), None
    if isinstance(spec, univ.Choice):  # before Set: Choice subclasses Set in pyasn1
        return _choice(spec)
    checked_at_run_time = isinstance(
        spec, univ.Integer | univ.OctetString | char.AbstractCharacterString
    ) and not isinstance(spec, univ.Boolean)
    if not _plain_constraints(spec) and not checked_at_run_time:
        # Constrained SEQUENCE / SEQUENCE OF / BIT STRING / BOOLEAN...: leave to pyasn1.
        return _raiser(f"constrained {type(spec).__name__}"), None
    if isinstance(spec, univ.SequenceAndSetBase):
        return _sequence(spec)
    if isinstance(spec, univ.SequenceOfAndSetOfBase):
        return _sequence_of(spec)
    return _scalar(spec), None


def _choice(spec: Any) -> tuple[Enc, IsVal]:
    branches: dict[str, Enc] = {}
    checks: dict[str, IsVal] = {}
    for named in spec.componentType.namedTypes:
        branches[named.name], checks[named.name] = _compile(named.asn1Object)
    wrap = _wrapper(spec, True)

    if wrap is None:

        def enc_untagged(value: Any, ine: bool) -> bytes:
            if value.__class__ is not tuple and not isinstance(value, tuple):
                raise Unsupported("CHOICE needs (branch, value)")
            name, inner = value  # ValueError (not a pair) -> Unsupported at the top
            if name.__class__ is not str and not isinstance(name, str):
                raise Unsupported("CHOICE needs (branch, value)")
            branch = branches.get(name)
            if branch is None:
                raise Unsupported("unknown CHOICE branch")
            return branch(inner, ine)

        enc = enc_untagged
    else:
        wrap_tagged = wrap

        def enc_tagged(value: Any, ine: bool) -> bytes:
            if value.__class__ is not tuple and not isinstance(value, tuple):
                raise Unsupported("CHOICE needs (branch, value)")
            name, inner = value
            if name.__class__ is not str and not isinstance(name, str):
                raise Unsupported("CHOICE needs (branch, value)")
            branch = branches.get(name)
            if branch is None:
                raise Unsupported("unknown CHOICE branch")
            content = branch(inner, ine)
            if not content and ine:
                return b""
            return wrap_tagged(content)

        enc = enc_tagged

    isval: IsVal = None
    if any(check is not None for check in checks.values()):

        def choice_isval(value: Any) -> bool:
            check = checks[value[0]]
            return check is None or check(value[1])

        isval = choice_isval
    return enc, isval


_MANDATORY, _OPTIONAL, _DEFAULTED = 0, 1, 2


def _never(value: Any) -> bool:
    return False


def _default_check(field_spec: Any) -> Callable[[Any], bool]:
    """value -> equal to the DEFAULT, as pyasn1's encoder compares it."""
    seen: dict[Any, bool] = {}

    def is_default(value: Any) -> bool:
        try:
            return seen[value]
        except (KeyError, TypeError):
            pass
        try:
            equal = bool(from_python(field_spec, value) == field_spec)
        except Exception as exc:
            raise Unsupported("DEFAULT comparison") from exc
        try:
            if len(seen) < 256:
                seen[value] = equal
        except TypeError:
            pass
        return equal

    return is_default


def _sequence(spec: Any) -> tuple[Enc, IsVal]:
    fields: list[tuple[str, Enc, IsVal, int, Callable[[Any], bool]]] = []
    mandatory_checks: list[tuple[str, Callable[[Any], bool]]] = []
    for named in spec.componentType.namedTypes:
        if named.openType:  # pyasn1 wraps open type blobs: not mimicked here
            return _raiser("open type field"), None
        field_enc, field_isval = _compile(named.asn1Object)
        if named.isDefaulted:
            fields.append(
                (named.name, field_enc, None, _DEFAULTED, _default_check(named.asn1Object))
            )
        elif named.isOptional:
            fields.append((named.name, field_enc, field_isval, _OPTIONAL, _never))
        else:
            fields.append((named.name, field_enc, None, _MANDATORY, _never))
            if field_isval is not None:
                mandatory_checks.append((named.name, field_isval))
    names = frozenset(name for name, *_ in fields)
    wrap = _wrapper(spec, True)
    if wrap is None:  # a SEQUENCE always has its tag
        return _raiser("untagged SEQUENCE"), None
    wrap_seq = wrap

    def enc(value: Any, ine: bool) -> bytes:
        if value.__class__ is not dict and not isinstance(value, dict):
            raise Unsupported("SEQUENCE needs a dict")
        if not names.issuperset(value):
            raise Unsupported("unknown field")
        parts = []
        for name, field_enc, field_isval, kind, is_default in fields:
            inner = value.get(name, _MISSING)
            if inner is _MISSING:
                if kind == _MANDATORY:
                    raise Unsupported(f"mandatory field {name!r} missing")
                continue
            if kind == _MANDATORY:
                parts.append(field_enc(inner, False))
            elif kind == _OPTIONAL:
                # Encode first: that validates the value even when pyasn1 skips it.
                chunk = field_enc(inner, True)
                if field_isval is None or field_isval(inner):
                    parts.append(chunk)
            else:
                chunk = field_enc(inner, False)
                if not is_default(inner):
                    parts.append(chunk)
        content = b"".join(parts)
        if not content and ine:
            return b""
        return wrap_seq(content)

    if not mandatory_checks:
        # pyasn1 starts a SEQUENCE with an empty component list, so one without
        # (incomplete) mandatory fields is a value even when empty.
        return enc, None

    def seq_isval(value: Any) -> bool:
        return all(check(value[name]) for name, check in mandatory_checks)

    return enc, seq_isval


def _sequence_of(spec: Any) -> tuple[Enc, IsVal]:
    element, element_isval = _compile(spec.componentType)
    wrap = _wrapper(spec, True)
    if wrap is None:
        return _raiser("untagged SEQUENCE OF"), None
    wrap_list = wrap

    def enc(value: Any, ine: bool) -> bytes:
        if not isinstance(value, list | tuple):
            raise Unsupported("SEQUENCE OF needs a list")
        content = b"".join([element(item, ine) for item in value])
        if not content and ine:
            return b""
        return wrap_list(content)

    def list_isval(value: Any) -> bool:
        if not value:
            return False
        return element_isval is None or all(element_isval(item) for item in value)

    return enc, list_isval


def _scalar(spec: Any) -> Enc:
    constructed = False  # all primitive in definite-length mode, Any included
    wrap = _wrapper(spec, constructed)
    content_of: Callable[[Any], bytes]
    constraint = spec.subtypeSpec if spec.subtypeSpec else None

    if isinstance(spec, univ.Boolean):  # before Integer: Boolean subclasses Integer

        def content_of(value: Any) -> bytes:
            if value is True:
                return b"\xff"
            if value is False:
                return b"\x00"
            raise Unsupported("BOOLEAN needs a bool")

    elif isinstance(spec, univ.Enumerated):
        table: dict[str, bytes] = {}
        for name in spec.namedValues:
            try:
                number = int(spec.clone(name))  # applies the type's constraints
            except Exception:
                continue
            table[name] = _int_bytes(number)

        def content_of(value: Any) -> bytes:
            found = table.get(value) if isinstance(value, str) else None
            if found is None:
                raise Unsupported("not a value of the enumeration")
            return found

    elif isinstance(spec, univ.Integer):

        def content_of(value: Any) -> bytes:
            if value.__class__ is not int:
                raise Unsupported("INTEGER needs an int")
            if constraint is not None:
                constraint(value)  # PyAsn1Error -> Unsupported at the top
            return _int_bytes(value)

    elif isinstance(spec, univ.Null):

        def content_of(value: Any) -> bytes:
            if value is not None:
                raise Unsupported("NULL needs None")
            return b""

    elif isinstance(spec, univ.BitString):
        content_of = _bits_content

    elif isinstance(spec, univ.ObjectIdentifier):

        def content_of(value: Any) -> bytes:
            if not isinstance(value, str):
                raise Unsupported("OBJECT IDENTIFIER needs a str")
            return _oid_content(value)

    elif isinstance(spec, char.AbstractCharacterString):  # before OctetString (subclass)
        encoding = spec.encoding

        def content_of(value: Any) -> bytes:
            if value.__class__ is not str and not isinstance(value, str):
                raise Unsupported("string needs a str")
            if constraint is not None:
                constraint(value)
            return value.encode(encoding)

    elif isinstance(spec, univ.OctetString | univ.Any):

        def content_of(value: Any) -> bytes:
            if value.__class__ is not bytes and not isinstance(value, bytes):
                raise Unsupported("OCTET STRING needs bytes")
            if constraint is not None:
                constraint(value)
            return bytes(value)

    else:
        return _raiser(f"type {type(spec).__name__}")

    if wrap is None:  # untagged ANY: the value's own TLV, as is

        def enc_untagged(value: Any, ine: bool) -> bytes:
            return content_of(value)

        return enc_untagged

    headers = _headers(spec, constructed)
    if len(headers) == 1:
        (head,) = headers

        def enc_one_tag(value: Any, ine: bool) -> bytes:
            content = content_of(value)
            n = len(content)
            return head + (_SHORT[n] if n < 128 else _long_length(n)) + content

        return enc_one_tag

    wrap_multi = wrap

    def enc_tags(value: Any, ine: bool) -> bytes:
        return wrap_multi(content_of(value))

    return enc_tags


# -- entry points -----------------------------------------------------------------------
_TOP: dict[type, Callable[[Any], bytes]] = {}


def encoder_for(cls: type) -> Callable[[Any], bytes]:
    """Compiled ``value -> bytes`` for the pyasn1 schema class ``cls`` (cached).

    The returned function raises only :class:`Unsupported`."""
    found = _TOP.get(cls)
    if found is not None:
        return found
    try:
        enc, _ = _compile(cls())
    except Exception as exc:
        enc = _raiser(f"cannot compile {cls.__name__}: {exc!r}")

    def top(value: Any) -> bytes:
        try:
            return enc(value, False)
        except Unsupported:
            raise
        except Exception as exc:  # bad values in any shape, constraint errors...
            raise Unsupported(repr(exc)) from exc

    _TOP[cls] = top
    return top


def encode(cls: type, value: Any) -> bytes:
    """BER of ``value`` (value notation) as ``cls``; :class:`Unsupported` if the
    pyasn1 path has to do it."""
    return encoder_for(cls)(value)
