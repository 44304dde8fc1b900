"""Names a user gives (groups, contacts): what the node keeps of them, or a refusal."""

from __future__ import annotations

import unicodedata

from cti.kernel.refusal import Refusal


def clean(field: str, text: str, limit: int) -> str:
    """``text`` with its runs of white space made one space and trimmed; raises Refusal
    ``invalidFavouriteName`` (details: ``field``, ``reason``) for one that is empty, longer
    than ``limit`` or holds characters that do not print (they would garble every UI)."""
    name = " ".join(text.split())
    reason, problem = None, ""
    if not name:
        reason, problem = "empty", "it is empty"
    elif any(unicodedata.category(ch).startswith("C") for ch in name):
        reason, problem = "notPrintable", "it holds characters that do not print"
    elif len(name) > limit:
        reason, problem = "tooLong", f"it has {len(name)} characters, at most {limit} are kept"
    if reason is None:
        return name
    raise Refusal(
        "invalidFavouriteName",
        f"{field} {text!r}: {problem}",
        {"field": field, "reason": reason, "limit": limit},
    )
