"""CSTA universalFailure errors (ECMA-285 ``CSTA-error-definition``).

A refused service raises :class:`CstaError`; the scratch state of the refused decision is thrown
away, so a refusal changes nothing. The category is the CHOICE branch of ``UniversalFailure`` and
``code`` its enumeration value, so the CSTA link can encode the error without a second table.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCategory(StrEnum):
    OPERATION = "operation"
    SECURITY = "security"
    STATE_INCOMPATIBILITY = "stateIncompatibility"
    SYSTEM_RESOURCE_AVAILABILITY = "systemResourceAvailability"
    SUBSCRIBED_RESOURCE_AVAILABILITY = "subscribedResourceAvailability"
    PERFORMANCE_MANAGEMENT = "performanceManagement"
    PRIVATE_DATA = "privateData"
    UNSPECIFIED = "unspecified"


_OP = ErrorCategory.OPERATION
_STATE = ErrorCategory.STATE_INCOMPATIBILITY
_RES = ErrorCategory.SYSTEM_RESOURCE_AVAILABILITY

# name -> (category, enumeration value); only the errors this engine raises.
CATALOGUE: dict[str, tuple[ErrorCategory, int]] = {
    "generic": (_OP, 1),
    "invalidParameterValue": (_OP, 31),
    "invalidDestination": (_OP, 14),
    "invalidForwardingDestination": (_OP, 7),
    "invalidForwardingType": (_OP, 52),
    "invalidCallID": (_OP, 11),
    "invalidConnectionID": (_OP, 13),
    "invalidDeviceID": (_OP, 12),
    "invalidCalledDeviceID": (_OP, 6),
    "invalidCallingDeviceID": (_OP, 5),
    "invalidPickUpDeviceID": (_OP, 97),
    "notDifferentDevices": (_OP, 85),
    "requestIncompatibleWithObject": (_OP, 2),
    "requestIncompatibleWithDevice": (_OP, 148),
    "requestIncompatibleWithCallingDevice": (_OP, 23),
    "serviceNotSupported": (_OP, 50),
    "invalidObjectState": (_STATE, 2),
    "invalidDeviceState": (_STATE, 15),
    "connectedCallExists": (_STATE, 16),
    "invalidCallingDeviceState": (_STATE, 19),
    "invalidDestinationDeviceState": (_STATE, 21),
    "invalidConnectionState": (_STATE, 25),
    "invalidActiveConnectionState": (_STATE, 26),
    "invalidHeldConnectionState": (_STATE, 27),
    "noActiveCall": (_STATE, 4),
    "noHeldCall": (_STATE, 5),
    "noCallToClear": (_STATE, 6),
    "noConnectionToClear": (_STATE, 7),
    "noCallToAnswer": (_STATE, 8),
    "resourceBusy": (_RES, 2),
    "resourceOutOfService": (_RES, 4),
    "conferenceMemberLimitExceeded": (_RES, 8),
}


class CstaError(Exception):
    """A service refused with a CSTA universalFailure error name and a message for people."""

    def __init__(self, name: str, message: str) -> None:
        if name not in CATALOGUE:
            raise KeyError(f"unknown CSTA error name {name!r}")
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    @property
    def category(self) -> ErrorCategory:
        return CATALOGUE[self.name][0]

    @property
    def code(self) -> int:
        return CATALOGUE[self.name][1]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CstaError) and (self.name, self.message) == (
            other.name,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.message))
