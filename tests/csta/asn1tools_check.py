"""Independent second codec: the ECMA-285 modules compiled by asn1tools.

The modules use X.681 information objects (``makeCall OPERATION ::= {...}``)
and import modules that are not shipped (capability exchange, many events).
asn1tools cannot handle either, so the text is preprocessed first:

* ``name OPERATION ::= {...}`` / ``name ERROR ::= {...}`` blocks are removed;
* imported symbols that no shipped module defines (OPERATION, ERROR,
  universalFailure, events of unsupported categories, ...) are dropped from
  the IMPORTS and, when they are types, defined locally as ``OCTET STRING``
  placeholders (every reference to them is tagged, so tags stay correct);
* ServiceCrossRefID (CSTA-capability-exchange) is defined as OCTET STRING.

ROSE and ACSE modules are not compiled: the cross-check covers CSTA types.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

ASN1_DIR = Path(__file__).parents[2] / "specs" / "csta" / "asn1"

_INFO_OBJECT = re.compile(
    r"^\s*[a-z][\w-]*\s+(?:OPERATION|ERROR)\s*::=\s*\{(?:[^{}]|\{[^{}]*\})*\}", re.M
)
_IMPORTS = re.compile(r"\bIMPORTS\b(.*?);", re.S)
_FROM = re.compile(r"((?:[\w-]+\s*,\s*)*[\w-]+)\s+FROM\s+([\w-]+)(\s*\{[^}]*\})?", re.S)
_MODULE = re.compile(r"^\s*([A-Z][\w-]*)\s*(\{[^}]*\})?\s*DEFINITIONS", re.M)
_TYPE_DEF = re.compile(r"^\s*([A-Z][\w-]*)\s*::=", re.M)
_EXPORTS = re.compile(r"\bEXPORTS\b.*?;", re.S)


def _strip_comments(text: str) -> str:
    return re.sub(r"--.*?(--|$)", "", text, flags=re.M)


def _load() -> dict[str, str]:
    texts = {}
    paths = sorted(ASN1_DIR.glob("*.asn1"))
    # A clone without the modules must fail loudly, never cross-check nothing.
    assert len(paths) >= 50, f"ECMA-285 modules missing in {ASN1_DIR}"
    for path in paths:
        text = _strip_comments(path.read_text(encoding="utf-8", errors="replace"))
        text = _INFO_OBJECT.sub("", text)
        text = _EXPORTS.sub("", text)  # EXPORTS lists name removed info objects
        match = _MODULE.search(text)
        assert match, path
        texts[match.group(1)] = text
    texts["CSTA-capability-exchange"] = (
        "CSTA-capability-exchange DEFINITIONS ::= BEGIN\nServiceCrossRefID ::= OCTET STRING\nEND\n"
    )
    return texts


def _fix_imports(texts: dict[str, str]) -> dict[str, str]:
    defined = {name: set(_TYPE_DEF.findall(text)) for name, text in texts.items()}
    fixed = {}
    for name, text in texts.items():
        stubs: list[str] = []
        match = _IMPORTS.search(text)
        if match is None:
            fixed[name] = text
            continue
        clauses = []
        for symbols, module, _oid in _FROM.findall(match.group(1)):
            keep = []
            for symbol in (s.strip() for s in symbols.split(",")):
                if symbol in defined.get(module, ()):
                    keep.append(symbol)
                elif symbol[0].isupper() and symbol not in ("OPERATION", "ERROR"):
                    stubs.append(f"{symbol} ::= OCTET STRING")
            if keep:
                clauses.append(f"{', '.join(keep)} FROM {module}")
        imports = f"IMPORTS {' '.join(clauses)};" if clauses else ""
        text = text[: match.start()] + imports + "\n" + "\n".join(stubs) + text[match.end() :]
        fixed[name] = text
    return fixed


@functools.lru_cache(maxsize=1)
def compiled() -> Any:
    """asn1tools BER codec for all CSTA modules (cached: compiling takes seconds)."""
    import asn1tools  # type: ignore[import-untyped]

    texts = _fix_imports(_load())
    return asn1tools.compile_string("\n".join(texts.values()), "ber")


def encode(type_name: str, value: Any) -> bytes:
    return bytes(compiled().encode(type_name, value))


def decode(type_name: str, data: bytes) -> Any:
    return compiled().decode(type_name, data)
