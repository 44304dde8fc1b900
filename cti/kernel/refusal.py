"""Refusals: a request that a context will not carry out.

A refusal has a stable ``name`` (camelCase, what programs branch on), a ``message`` for people and
optional ``details`` for programs (which rules failed, say). Call control uses the ECMA-269 error
names (``invalidCallID``...); other contexts name their own. How a name travels on a wire is the
face's business: the CSTA link maps every name to a universalFailure value (cti.csta.refusals).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_EMPTY: Mapping[str, object] = MappingProxyType({})


class Refusal(Exception):
    def __init__(
        self, name: str, message: str, details: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.details: Mapping[str, object] = _EMPTY if details is None else details

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Refusal) and (self.name, self.message, dict(self.details)) == (
            other.name,
            other.message,
            dict(other.details),
        )

    def __hash__(self) -> int:
        return hash((self.name, self.message))


def invalid_field(field: str, reason: str, message: str) -> Refusal:
    """``invalidParameterValue`` naming the field and a stable reason for programs."""
    return Refusal("invalidParameterValue", message, {"field": field, "reason": reason})
