"""How a refused service travels: returnError universalFailure (error code 1).

``ERROR_TABLE`` maps the core's CstaError names to the UniversalFailure CHOICE branch and
enumeration identifier of ECMA-285 ``CSTA-error-definition``; it is derived from the core's
CATALOGUE (a test checks every entry against the ASN.1 enumerations).
"""

from __future__ import annotations

from typing import Any

from cti.domain.errors import CATALOGUE, CstaError

# The core's catalogue already names each error's UniversalFailure branch; on the wire the
# enumeration identifier is the error's own name.
ERROR_TABLE: dict[str, tuple[str, str]] = {
    name: (str(category), name) for name, (category, _code) in CATALOGUE.items()
}


class ServiceRefused(Exception):
    """A service answered with returnError: ``parameter`` is the UniversalFailure value."""

    def __init__(self, branch: str, value: str, message: str = "") -> None:
        super().__init__(f"{branch}/{value}: {message}")
        self.branch = branch
        self.value = value
        self.message = message

    @property
    def parameter(self) -> tuple[str, Any]:
        return (self.branch, self.value)

    @classmethod
    def named(cls, name: str, message: str) -> ServiceRefused:
        """By core error name (``ERROR_TABLE``)."""
        branch, value = ERROR_TABLE.get(name, ERROR_TABLE["generic"])
        return cls(branch, value, message)

    @classmethod
    def from_error(cls, err: CstaError) -> ServiceRefused:
        return cls.named(err.name, err.message)
