"""Search keys: what a name is found by (DIR-04).

A name is folded (casefold, accents stripped) and also transliterated the German way (ä→ae,
ö→oe, ü→ue, ß→ss), and both forms are keys, so "Müller" is found by "mül", "mul" and "muel".
A query is folded the same way (stripped form; a typed "ue" matches the transliteration) and
every one of its words must be the prefix of some key of the name (AND). Pure.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")  # letters and digits: "_" separates
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _strip(text: str) -> str:
    if text.isascii():  # most names: nothing to strip (and 100,000 of them in an import)
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """``text`` casefolded with accents stripped ("Müller" -> "muller"); casefolded again, as
    compatibility decomposition may give capitals (mathematical letters)."""
    return _strip(text.casefold()).casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order (what a query is made of)."""
    return _WORD.findall(fold(text))


def keys(*texts: str) -> list[str]:
    """Every key ``texts`` are found by: the folded words and their German transliterations,
    each once, in order."""
    out: dict[str, None] = {}
    for text in texts:
        lower = text.lower()
        for form in (fold(lower), _strip(lower.translate(_GERMAN))):
            for word in _WORD.findall(form.casefold()):
                out[word] = None
    return list(out)


def match_key(name: str, company: str) -> str:
    """What makes two contacts the same contact on import: the name and the company, folded
    (a re-import updates the contact it matches instead of adding another)."""
    return " ".join(words(name)) + "|" + " ".join(words(company))
