"""How a refused service travels: returnError universalFailure (error code 1).

``ERROR_TABLE`` is the one mapping from the core's CstaError names to the UniversalFailure
CHOICE branch and enumeration identifier of ECMA-285 ``CSTA-error-definition``. The core's
CATALOGUE holds the same numbers (a test checks both agree); the table is kept here so the wire
format is visible in one place and the link can also refuse things the core never sees
(monitor limits, cross-reference ids).
"""

from __future__ import annotations

from typing import Any

from cti.domain.errors import CstaError

_OP = "operation"
_ST = "stateIncompatibility"
_SYS = "systemResourceAvailability"

ERROR_TABLE: dict[str, tuple[str, str]] = {
    "generic": (_OP, "generic"),
    "invalidParameterValue": (_OP, "invalidParameterValue"),
    "invalidDestination": (_OP, "invalidDestination"),
    "invalidForwardingDestination": (_OP, "invalidForwardingDestination"),
    "invalidForwardingType": (_OP, "invalidForwardingType"),
    "invalidCallID": (_OP, "invalidCallID"),
    "invalidConnectionID": (_OP, "invalidConnectionID"),
    "invalidDeviceID": (_OP, "invalidDeviceID"),
    "invalidCalledDeviceID": (_OP, "invalidCalledDeviceID"),
    "invalidCallingDeviceID": (_OP, "invalidCallingDeviceID"),
    "invalidPickUpDeviceID": (_OP, "invalidPickUpDeviceID"),
    "notDifferentDevices": (_OP, "notDifferentDevices"),
    "requestIncompatibleWithObject": (_OP, "requestIncompatibleWithObject"),
    "requestIncompatibleWithDevice": (_OP, "requestIncompatibleWithDevice"),
    "requestIncompatibleWithCallingDevice": (_OP, "requestIncompatibleWithCallingDevice"),
    "serviceNotSupported": (_OP, "serviceNotSupported"),
    "invalidObjectState": (_ST, "invalidObjectState"),
    "invalidDeviceState": (_ST, "invalidDeviceState"),
    "connectedCallExists": (_ST, "connectedCallExists"),
    "invalidCallingDeviceState": (_ST, "invalidCallingDeviceState"),
    "invalidDestinationDeviceState": (_ST, "invalidDestinationDeviceState"),
    "invalidConnectionState": (_ST, "invalidConnectionState"),
    "invalidActiveConnectionState": (_ST, "invalidActiveConnectionState"),
    "invalidHeldConnectionState": (_ST, "invalidHeldConnectionState"),
    "noActiveCall": (_ST, "noActiveCall"),
    "noHeldCall": (_ST, "noHeldCall"),
    "noCallToClear": (_ST, "noCallToClear"),
    "noConnectionToClear": (_ST, "noConnectionToClear"),
    "noCallToAnswer": (_ST, "noCallToAnswer"),
    "resourceBusy": (_SYS, "resourceBusy"),
    "resourceOutOfService": (_SYS, "resourceOutOfService"),
    "conferenceMemberLimitExceeded": (_SYS, "conferenceMemberLimitExceeded"),
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
        branch, value = ERROR_TABLE.get(name, (_OP, "generic"))
        return cls(branch, value, message)

    @classmethod
    def from_error(cls, err: CstaError) -> ServiceRefused:
        return cls.named(err.name, err.message)
