"""Compiled BER decoder: bytes straight to value notation, no pyasn1 objects.

The counterpart of :mod:`cti.csta.codec.fast_ber`. For each pyasn1 schema type of
:mod:`cti.csta.codec.types` a closure ``decode(data, pos, end) -> (value, new_pos)``
is built once (from the schema's ``tagSet``, ``componentType``,
``namedValues``, ``subtypeSpec``...). It yields exactly what
``values.to_python(pyasn1.codec.ber.decoder.decode(data, asn1Spec=spec)[0])``
yields for the same bytes: dicts in schema order with DEFAULT fields filled in,
``(branch, value)`` CHOICEs, ENUMERATED names, ``(bytes, nbits)`` BIT STRINGs,
strings decoded with the type's encoding, dotted OIDs, opaque placeholders
skipped (a CHOICE landing on one gives ``(branch, None)``), untagged ANY as the
whole TLV and tagged ANY as its contents.

Only the plain, canonical shape of BER is accepted: definite lengths in their
shortest form, the exact tag octets pyasn1's encoder writes (primitive
encodings of primitive types), single-octet tags, no trailing bytes, values
within the type's constraints, ENUMERATED numbers with a name. Anything else
(indefinite lengths, unknown or unexpected tags, constructed strings, empty
INTEGERs, ambiguous schemas...) raises :class:`Unsupported`; the caller then
runs the pyasn1 path, which gives the value or the usual
:class:`~cti.csta.codec.errors.CodecError`. The fast decoder never raises anything
else.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.type import base as asn1_base
from pyasn1.type import char, tag, univ

from cti.csta.codec.fast_ber import Unsupported, _headers
from cti.csta.codec.types.base import Opaque
from cti.csta.codec.values import to_python

__all__ = ["Unsupported", "decode", "decoder_for"]

Dec = Callable[[bytes, int, int], tuple[Any, int]]  # (data, pos, end) -> (value, new pos)

_MAX_OID_ARC_OCTETS = 8  # well below pyasn1's own limit


def _length(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Length octets at ``pos`` -> (content start, content end); definite,
    shortest form, within ``end``."""
    if pos >= end:
        raise Unsupported("missing length")
    first = data[pos]
    if first < 0x80:
        start = pos + 1
        stop = start + first
    else:
        count = first & 0x7F
        if count == 0:
            raise Unsupported("indefinite length")
        start = pos + 1 + count
        if start > end or count > 4 or data[pos + 1] == 0:
            raise Unsupported("bad long length")
        n = int.from_bytes(data[pos + 1 : start], "big")
        if n < 0x80:
            raise Unsupported("non-minimal length")
        stop = start + n
    if stop > end:
        raise Unsupported("length overflow")
    return start, stop


def _key_at(data: bytes, pos: int) -> int:
    """Tag at ``pos`` (``pos < end``) as class | number, the constructed bit cleared."""
    key = data[pos] & 0xDF
    if key & 0x1F == 0x1F:
        raise Unsupported("multi-octet tag")
    return key


def _tag_key(t: Any) -> int:
    if t.tagId >= 31:
        raise Unsupported("multi-octet tag in schema")
    return int(t.tagClass) | int(t.tagId)


def _raiser(why: str) -> Dec:
    def unsupported(data: bytes, pos: int, end: int) -> tuple[Any, int]:
        raise Unsupported(why)

    return unsupported


# -- compiler ---------------------------------------------------------------------------
# Content decoders: (data, start, stop) -> value, for the innermost tag's contents.
Content = Callable[[bytes, int, int], Any]

# Keys of the outer tag a type can start with; None: anything (untagged ANY).
Keys = frozenset[int] | None

_CACHE: dict[int, tuple[Any, Dec, Keys]] = {}

_KINDS: dict[Any, type] = {
    univ.Boolean.typeId: ber_decoder.BooleanPayloadDecoder,
    univ.Integer.typeId: ber_decoder.IntegerPayloadDecoder,
    univ.Enumerated.typeId: ber_decoder.IntegerPayloadDecoder,
    univ.Null.typeId: ber_decoder.NullPayloadDecoder,
    univ.BitString.typeId: ber_decoder.BitStringPayloadDecoder,
    univ.ObjectIdentifier.typeId: ber_decoder.ObjectIdentifierPayloadDecoder,
    univ.OctetString.typeId: ber_decoder.OctetStringPayloadDecoder,
    univ.Any.typeId: ber_decoder.AnyPayloadDecoder,
    univ.Sequence.typeId: ber_decoder.SequencePayloadDecoder,
    univ.SequenceOf.typeId: ber_decoder.SequenceOfPayloadDecoder,
    univ.Choice.typeId: ber_decoder.ChoicePayloadDecoder,
}
_BASE_CONSTRAINTS: dict[Any, Any] = {
    cls.typeId: cls.subtypeSpec for cls in (univ.Boolean, univ.Null, univ.Choice)
}


def _uses_expected_decoder(spec: Any) -> bool:
    """pyasn1 picks its payload decoder by typeId; be sure it is the one we mimic."""
    chosen = ber_decoder.TYPE_MAP.get(spec.typeId)
    if chosen is None:
        base = spec.tagSet.baseTag
        chosen = ber_decoder.TAG_MAP.get(tag.TagSet(base, base))
    if chosen is None:
        return False
    if isinstance(spec, char.AbstractCharacterString):
        return isinstance(chosen, ber_decoder.OctetStringPayloadDecoder)
    expected = _KINDS.get(spec.typeId)
    return expected is not None and type(chosen) is expected


def _compile(spec: Any) -> tuple[Dec, Keys]:
    key = id(spec)
    found = _CACHE.get(key)
    if found is not None and found[0] is spec:
        return found[1], found[2]
    try:
        dec, keys = _build(spec)
    except Unsupported as exc:
        # Still recognisable by its tag (so a SEQUENCE assigns the TLV to it and
        # fails); an untagged type that cannot be compiled spoils its parent.
        dec, keys = _raiser(str(exc)), _outer_keys(spec)
    _CACHE[key] = (spec, dec, keys)  # keeps spec alive, so id() stays unique
    return dec, keys


def _outer_keys(spec: Any) -> frozenset[int]:
    tags = spec.tagSet.superTags
    if not tags:
        raise Unsupported("untagged type")
    return frozenset((_tag_key(tags[-1]),))


def _build(spec: Any) -> tuple[Dec, Keys]:
    if isinstance(spec, Opaque):
        return _opaque(spec)
    if not isinstance(spec, asn1_base.Asn1Type) or not _uses_expected_decoder(spec):
        raise Unsupported(f"type {type(spec).__name__}")
    if isinstance(spec, univ.Choice):  # before Set: Choice subclasses Set in pyasn1
        return _choice(spec)
    constraint = spec.subtypeSpec
    plain = not constraint or (
        _BASE_CONSTRAINTS.get(spec.typeId) is not None
        and bool(constraint == _BASE_CONSTRAINTS[spec.typeId])
    )
    checked = isinstance(
        spec, univ.Integer | univ.OctetString | char.AbstractCharacterString
    ) and not isinstance(spec, univ.Boolean | univ.Any)
    if not plain and not checked:
        raise Unsupported(f"constrained {type(spec).__name__}")
    if isinstance(spec, univ.SequenceAndSetBase):
        if spec.typeId != univ.Sequence.typeId:
            raise Unsupported("SET")
        return _tagged(spec, _sequence(spec), True), _outer_keys(spec)
    if isinstance(spec, univ.SequenceOfAndSetOfBase):
        if spec.typeId != univ.SequenceOf.typeId:
            raise Unsupported("SET OF")
        return _tagged(spec, _sequence_of(spec), True), _outer_keys(spec)
    if isinstance(spec, univ.Any):
        if constraint:
            raise Unsupported("constrained ANY")
        if not spec.tagSet.superTags:
            return _untagged_any, None
        return _tagged(spec, _octets, False), _outer_keys(spec)
    content = _scalar(spec, None if plain else constraint)
    return _tagged(spec, content, False), _outer_keys(spec)


def _tagged(spec: Any, content: Content, constructed: bool) -> Dec:
    """TLV decoder: the exact tag octets of ``spec`` (outermost first), then ``content``."""
    headers = _headers(spec, constructed)  # what pyasn1's encoder writes
    heads = tuple(reversed(headers))  # outermost first
    if not heads or any(len(h) != 1 for h in heads):
        raise Unsupported("unexpected tag octets")
    if len(heads) == 1:
        octet = heads[0][0]

        def dec1(data: bytes, pos: int, end: int) -> tuple[Any, int]:
            if pos >= end or data[pos] != octet:
                raise Unsupported("unexpected tag")
            pos += 1
            if pos < end and data[pos] < 0x80:
                start = pos + 1
                stop = start + data[pos]
                if stop > end:
                    raise Unsupported("length overflow")
            else:
                start, stop = _length(data, pos, end)
            return content(data, start, stop), stop

        return dec1

    tags = tuple(h[0] for h in heads)

    def dec(data: bytes, pos: int, end: int) -> tuple[Any, int]:
        outer_stop = -1
        for octet in tags:
            if pos >= end or data[pos] != octet:
                raise Unsupported("unexpected tag")
            pos, stop = _length(data, pos + 1, end)
            if outer_stop < 0:
                outer_stop = stop
            elif stop != end:
                raise Unsupported("explicit tag with extra contents")
            end = stop
        return content(data, pos, end), outer_stop

    return dec


def _untagged_any(data: bytes, pos: int, end: int) -> tuple[Any, int]:
    """Untagged ANY: the whole TLV, whatever it is (pyasn1 does not look inside)."""
    if pos >= end:
        raise Unsupported("missing ANY")
    first = data[pos]
    if first & 0xDF == 0 or first & 0x1F == 0x1F:  # end-of-contents is refused by pyasn1
        raise Unsupported("odd tag in ANY")
    _, stop = _length(data, pos + 1, end)
    return data[pos:stop], stop


def _octets(data: bytes, start: int, stop: int) -> Any:
    return data[start:stop]


def _opaque(spec: Any) -> tuple[Dec, Keys]:
    """Placeholder: any TLV with its tag (either form); the value is dropped."""
    tags = spec.tagSet.superTags
    if len(tags) != 1:
        raise Unsupported("untagged placeholder")
    key = _tag_key(tags[0])

    def skip(data: bytes, pos: int, end: int) -> tuple[Any, int]:
        if pos >= end or data[pos] & 0xDF != key:
            raise Unsupported("unexpected tag")
        _, stop = _length(data, pos + 1, end)
        return None, stop

    return skip, frozenset((key,))


def _choice(spec: Any) -> tuple[Dec, Keys]:
    dispatch: dict[int, tuple[str, Dec]] = {}
    for named in spec.componentType.namedTypes:
        dec, keys = _compile(named.asn1Object)
        if keys is None:
            raise Unsupported("untagged ANY in CHOICE")
        for key in keys:
            if key in dispatch:
                raise Unsupported("ambiguous CHOICE")
            dispatch[key] = (named.name, dec)
    if not dispatch:
        raise Unsupported("empty CHOICE")

    def untagged(data: bytes, pos: int, end: int) -> tuple[Any, int]:
        if pos >= end:
            raise Unsupported("missing CHOICE")
        found = dispatch.get(_key_at(data, pos))
        if found is None:
            raise Unsupported("unknown CHOICE alternative")
        name, dec = found
        value, pos = dec(data, pos, end)
        return (name, value), pos

    tags = spec.tagSet.superTags
    if not tags:
        return untagged, frozenset(dispatch)

    def inner(data: bytes, start: int, stop: int) -> Any:
        value, pos = untagged(data, start, stop)
        if pos != stop:
            raise Unsupported("explicit tag with extra contents")
        return value

    return _tagged(spec, inner, True), _outer_keys(spec)


_MANDATORY, _OPTIONAL, _DEFAULTED = 0, 1, 2
_NO_DEFAULT: Any = object()


def _sequence(spec: Any) -> Content:
    fields: list[tuple[str | None, Dec, Keys, int, Any, bool]] = []
    for named in spec.componentType.namedTypes:
        if named.openType:
            raise Unsupported("open type field")
        dec, keys = _compile(named.asn1Object)
        kind = _DEFAULTED if named.isDefaulted else _OPTIONAL if named.isOptional else _MANDATORY
        default: Any = _NO_DEFAULT
        mutable = False
        if kind == _DEFAULTED:
            try:
                default = to_python(named.asn1Object)
            except Exception:
                default = _NO_DEFAULT
            mutable = not isinstance(default, str | int | bytes | tuple | type(None))
        name = None if isinstance(named.asn1Object, Opaque) else named.name
        fields.append((name, dec, keys, kind, default, mutable))
    # pyasn1 picks a component among the fields from the current position up to
    # the next mandatory one: refuse schemas where that choice is not plain.
    for i in range(len(fields)):
        seen: set[int] = set()
        for j in range(i, len(fields)):
            keys = fields[j][2]
            if keys is None:
                # pyasn1 gives a TLV to ANY only when no other field of the window
                # takes it: an ANY must end its window.
                if fields[j][3] != _MANDATORY and j + 1 < len(fields):
                    raise Unsupported("optional ANY before other fields")
            elif seen & keys:
                raise Unsupported("ambiguous SEQUENCE")
            else:
                seen |= keys
            if fields[j][3] == _MANDATORY:
                break
    count = len(fields)

    def fill(out: dict[str, Any], field: tuple[Any, ...]) -> None:
        name, _, _, kind, default, mutable = field
        if kind == _MANDATORY:
            raise Unsupported(f"mandatory field {name!r} missing")
        if kind == _DEFAULTED and name is not None:
            if default is _NO_DEFAULT:
                raise Unsupported("DEFAULT value")
            out[name] = copy.deepcopy(default) if mutable else default

    def content(data: bytes, pos: int, end: int) -> Any:
        out: dict[str, Any] = {}
        i = 0
        while pos < end:
            key = _key_at(data, pos)
            while True:
                if i >= count:
                    raise Unsupported("unexpected component")
                field = fields[i]
                keys = field[2]
                if keys is None or key in keys:
                    break
                fill(out, field)
                i += 1
            value, pos = field[1](data, pos, end)
            name = field[0]
            if name is not None:
                out[name] = value
            i += 1
        while i < count:
            fill(out, fields[i])
            i += 1
        return out

    return content


def _sequence_of(spec: Any) -> Content:
    element, _ = _compile(spec.componentType)
    if isinstance(spec.componentType, Opaque):
        raise Unsupported("SEQUENCE OF placeholders")

    def content(data: bytes, pos: int, end: int) -> Any:
        out = []
        while pos < end:
            value, pos = element(data, pos, end)
            out.append(value)
        return out

    return content


def _check(constraint: Any, value: Any) -> None:
    if constraint is not None:
        try:
            constraint(value)
        except Exception as exc:
            raise Unsupported("constraint") from exc


def _integer(data: bytes, start: int, stop: int) -> int:
    if start == stop:
        raise Unsupported("empty INTEGER")
    return int.from_bytes(data[start:stop], "big", signed=True)


def _scalar(spec: Any, constraint: Any) -> Content:
    if isinstance(spec, univ.Boolean):  # before Integer: Boolean subclasses Integer

        def boolean(data: bytes, start: int, stop: int) -> Any:
            if stop - start != 1:
                raise Unsupported("BOOLEAN length")
            return data[start] != 0

        return boolean

    if isinstance(spec, univ.Enumerated):
        names: dict[int, str] = {}
        for name, number in spec.namedValues.items():
            try:
                _check(constraint, int(number))
            except Unsupported:
                continue
            names[int(number)] = name

        def enumerated(data: bytes, start: int, stop: int) -> Any:
            found = names.get(_integer(data, start, stop))
            if found is None:
                raise Unsupported("ENUMERATED number without a name")
            return found

        return enumerated

    if isinstance(spec, univ.Integer):
        if constraint is None:
            return _integer

        def integer(data: bytes, start: int, stop: int) -> Any:
            value = _integer(data, start, stop)
            _check(constraint, value)
            return value

        return integer

    if isinstance(spec, univ.Null):

        def null(data: bytes, start: int, stop: int) -> Any:
            if start != stop:
                raise Unsupported("NULL with contents")
            return None

        return null

    if isinstance(spec, univ.BitString):
        return _bit_string

    if isinstance(spec, univ.ObjectIdentifier):
        return _oid

    if isinstance(spec, char.AbstractCharacterString):  # before OctetString (subclass)
        encoding = spec.encoding

        def string(data: bytes, start: int, stop: int) -> Any:
            try:
                value = data[start:stop].decode(encoding)
            except UnicodeDecodeError as exc:
                raise Unsupported("string encoding") from exc
            _check(constraint, value)
            return value

        return string

    if isinstance(spec, univ.OctetString):

        def octets(data: bytes, start: int, stop: int) -> Any:
            value = data[start:stop]
            _check(constraint, value)
            return value

        return octets

    raise Unsupported(f"type {type(spec).__name__}")


def _bit_string(data: bytes, start: int, stop: int) -> Any:
    if start == stop:
        raise Unsupported("empty BIT STRING")
    unused = data[start]
    size = stop - start - 1
    if unused > 7 or (unused and not size):
        raise Unsupported("bad BIT STRING")
    body = data[start + 1 : stop]
    if unused:
        body = body[:-1] + bytes((body[-1] & (0xFF << unused) & 0xFF,))
    return (body, 8 * size - unused)


_OID_CACHE: dict[bytes, str] = {}


def _oid(data: bytes, start: int, stop: int) -> Any:
    chunk = data[start:stop]
    found = _OID_CACHE.get(chunk)
    if found is not None:
        return found
    if not chunk:
        raise Unsupported("empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    arc = 0
    octets = 0
    for byte in chunk:
        if octets == 0 and byte == 0x80:
            raise Unsupported("0x80 in OBJECT IDENTIFIER")
        arc = (arc << 7) | (byte & 0x7F)
        octets += 1
        if octets > _MAX_OID_ARC_OCTETS:
            raise Unsupported("long OBJECT IDENTIFIER arc")
        if byte < 0x80:
            arcs.append(arc)
            arc = 0
            octets = 0
    if octets:
        raise Unsupported("truncated OBJECT IDENTIFIER")
    head = arcs[0]
    if head <= 39:
        first = [0, head]
    elif head <= 79:
        first = [1, head - 40]
    else:
        first = [2, head - 80]
    text = ".".join(str(n) for n in first + arcs[1:])
    if len(_OID_CACHE) < 1024:
        _OID_CACHE[chunk] = text
    return text


# -- entry points -----------------------------------------------------------------------
_TOP: dict[type, Callable[[bytes], Any]] = {}


def decoder_for(cls: type) -> Callable[[bytes], Any]:
    """Compiled ``bytes -> value`` for the pyasn1 schema class ``cls`` (cached).

    The returned function raises only :class:`Unsupported`."""
    found = _TOP.get(cls)
    if found is not None:
        return found
    try:
        dec, _ = _compile(cls())
    except Exception as exc:
        dec = _raiser(f"cannot compile {cls.__name__}: {exc!r}")

    def top(data: bytes) -> Any:
        try:
            value, pos = dec(data, 0, len(data))
        except Unsupported:
            raise
        except Exception as exc:  # hostile input of any shape
            raise Unsupported(repr(exc)) from exc
        if pos != len(data):
            raise Unsupported("trailing bytes")
        return value

    _TOP[cls] = top
    return top


def decode(cls: type, data: bytes) -> Any:
    """Value notation of ``data`` (exactly one ``cls``, as ``bytes``);
    :class:`Unsupported` if the pyasn1 path has to do it."""
    if data.__class__ is not bytes:
        raise Unsupported("bytes expected")
    return decoder_for(cls)(data)
