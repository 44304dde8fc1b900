"""Conversion between pyasn1 objects and plain Python values ("value notation").

=====================  =========================================================
ASN.1                  Python
=====================  =========================================================
SEQUENCE / SET         ``dict`` keyed by the ASN.1 field names; absent OPTIONAL
                       fields are missing, absent DEFAULT fields are filled in
SEQUENCE OF            ``list``
CHOICE                 ``(branch_name, value)``
ENUMERATED             ``str`` (the identifier)
INTEGER                ``int`` (named numbers are not applied)
BOOLEAN / NULL         ``bool`` / ``None``
BIT STRING             ``(bytes, nbits)`` (as asn1tools)
OCTET STRING, ANY      ``bytes``
IA5String, ... Time    ``str`` (GeneralizedTime as its ASN.1 text)
OBJECT IDENTIFIER      dotted ``str``
=====================  =========================================================

Opaque fields (:class:`~cti.csta.codec.types.base.Opaque`) are dropped on decode
(a CHOICE landing on one gives ``(branch, None)``) and refused on encode.
"""

from __future__ import annotations

from typing import Any

from pyasn1.type import char, univ

from cti.csta.codec.errors import CodecError
from cti.csta.codec.types.base import Opaque

__all__ = ["from_python", "to_python"]


def to_python(obj: Any) -> Any:
    """pyasn1 value -> plain Python value."""
    if isinstance(obj, univ.Choice):  # before Set: Choice subclasses Set in pyasn1
        name = obj.getName()
        comp = obj.getComponent()
        return (name, None if isinstance(comp, Opaque) else to_python(comp))
    if isinstance(obj, univ.SequenceAndSetBase):
        return _record(obj)
    if isinstance(obj, univ.SequenceOfAndSetOfBase):
        return [to_python(item) for item in obj]
    if isinstance(obj, univ.Boolean):  # before Integer: Boolean subclasses Integer
        return bool(obj)
    if isinstance(obj, univ.Enumerated):
        name = obj.namedValues.getName(int(obj))
        if name is None:
            raise CodecError(f"undefined ENUMERATED value {int(obj)}")
        return name
    if isinstance(obj, univ.Integer):
        return int(obj)
    if isinstance(obj, univ.Null):
        return None
    if isinstance(obj, univ.BitString):
        # asOctets() right-aligns; value notation keeps bit 0 as the MSB of byte 0.
        nbits = len(obj)
        pad = -nbits % 8
        return ((int(obj) << pad).to_bytes((nbits + pad) // 8, "big"), nbits)
    if isinstance(obj, univ.ObjectIdentifier):
        return str(obj)
    if isinstance(obj, char.AbstractCharacterString):  # before OctetString (subclass)
        return str(obj)
    if isinstance(obj, univ.OctetString | univ.Any):
        return bytes(obj)
    raise CodecError(f"unsupported ASN.1 value {type(obj).__name__}")


def _record(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for idx, field in enumerate(obj.componentType.namedTypes):
        if isinstance(field.asn1Object, Opaque):
            continue
        comp = obj.getComponentByPosition(idx, default=None, instantiate=False)
        if comp is not None and comp.isValue:
            out[field.name] = to_python(comp)
        elif field.isDefaulted:
            out[field.name] = to_python(field.asn1Object)
        elif not field.isOptional:
            raise CodecError(f"mandatory field {field.name!r} missing")
    return out


def from_python(spec: Any, value: Any, path: str = "") -> Any:
    """Plain Python value -> pyasn1 value of type ``spec`` (a schema object)."""
    if isinstance(spec, Opaque):
        raise CodecError(f"{path or 'value'}: field not supported by this codec")
    if isinstance(spec, univ.Choice):
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)):
            raise CodecError(f"{path}: CHOICE needs (branch, value), got {value!r}")
        name, inner = value
        if name not in spec.componentType:
            raise CodecError(f"{path}: unknown CHOICE branch {name!r}")
        obj = spec.clone()
        branch = spec.componentType[name].asn1Object
        obj.setComponentByName(name, from_python(branch, inner, f"{path}.{name}"))
        return obj
    if isinstance(spec, univ.SequenceAndSetBase):
        _expect(value, dict, path)
        obj = spec.clone()
        types = spec.componentType
        for key, inner in value.items():
            if key not in types:
                raise CodecError(f"{path}: unknown field {key!r}")
            idx = types.getPositionByName(key)
            obj.setComponentByPosition(
                idx, from_python(types[idx].asn1Object, inner, f"{path}.{key}")
            )
        return obj
    if isinstance(spec, univ.SequenceOfAndSetOfBase):
        _expect(value, list | tuple, path)
        obj = spec.clone()
        for i, inner in enumerate(value):
            obj.setComponentByPosition(i, from_python(spec.componentType, inner, f"{path}[{i}]"))
        return obj
    return spec.clone(_scalar(spec, value, path))


def _scalar(spec: Any, value: Any, path: str) -> Any:
    """Python scalar -> constructor argument for ``spec.clone``."""
    if isinstance(spec, univ.Boolean):
        _expect(value, bool, path)
        return value
    if isinstance(spec, univ.Enumerated):
        _expect(value, str, path)
        if value not in spec.namedValues:
            raise CodecError(f"{path}: {value!r} is not a value of the enumeration")
        return value
    if isinstance(spec, univ.Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise CodecError(f"{path}: expected int, got {value!r}")
        return value
    if isinstance(spec, univ.Null):
        if value is not None:
            raise CodecError(f"{path}: NULL takes None, got {value!r}")
        return b""
    if isinstance(spec, univ.BitString):
        return _bits(value, path)
    if isinstance(spec, univ.ObjectIdentifier):
        _expect(value, str, path)
        try:
            return tuple(int(arc) for arc in value.split("."))
        except ValueError:
            raise CodecError(f"{path}: bad OBJECT IDENTIFIER {value!r}") from None
    if isinstance(spec, char.AbstractCharacterString):
        _expect(value, str, path)
        return value
    if isinstance(spec, univ.OctetString | univ.Any):
        _expect(value, bytes, path)
        return value
    raise CodecError(f"{path}: unsupported ASN.1 type {type(spec).__name__}")


def _bits(value: Any, path: str) -> tuple[int, ...]:
    if not (isinstance(value, tuple) and len(value) == 2):
        raise CodecError(f"{path}: BIT STRING needs (bytes, nbits), got {value!r}")
    data, nbits = value
    if not isinstance(data, bytes) or not isinstance(nbits, int) or not 0 <= nbits <= 8 * len(data):
        raise CodecError(f"{path}: bad BIT STRING {value!r}")
    return tuple((data[i // 8] >> (7 - i % 8)) & 1 for i in range(nbits))


def _expect(value: Any, kind: Any, path: str) -> None:
    if not isinstance(value, kind):
        raise CodecError(f"{path or 'value'}: expected {kind}, got {value!r}")
