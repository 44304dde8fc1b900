"""Refusals of call control: ECMA-269 error names (ECMA-285 ``CSTA-error-definition``).

Call control speaks the standard's vocabulary, so its refusals carry the standard's error
names. How each travels on the CSTA wire (its universalFailure branch) is the CSTA link's
business (cti.csta.refusals); a refused command changes nothing, as with every refusal.
"""

from __future__ import annotations

from collections.abc import Mapping

from cti.kernel.refusal import Refusal

# Every name this context refuses with.
NAMES = frozenset(
    {
        "generic",
        "invalidParameterValue",
        "invalidDestination",
        "invalidForwardingDestination",
        "invalidForwardingType",
        "invalidCallID",
        "invalidConnectionID",
        "invalidDeviceID",
        "invalidCalledDeviceID",
        "invalidCallingDeviceID",
        "invalidPickUpDeviceID",
        "notDifferentDevices",
        "requestIncompatibleWithObject",
        "requestIncompatibleWithDevice",
        "requestIncompatibleWithCallingDevice",
        "serviceNotSupported",
        "invalidObjectState",
        "invalidDeviceState",
        "connectedCallExists",
        "invalidCallingDeviceState",
        "invalidDestinationDeviceState",
        "invalidConnectionState",
        "invalidActiveConnectionState",
        "invalidHeldConnectionState",
        "noActiveCall",
        "noHeldCall",
        "noCallToClear",
        "noConnectionToClear",
        "noCallToAnswer",
        "resourceBusy",
        "resourceOutOfService",
        "conferenceMemberLimitExceeded",
    }
)


class CstaError(Refusal):
    """A call-control refusal named by its ECMA-269 error."""

    def __init__(
        self, name: str, message: str, details: Mapping[str, object] | None = None
    ) -> None:
        if name not in NAMES:
            raise KeyError(f"unknown CSTA error name {name!r}")
        super().__init__(name, message, details)


# A check's refusal before it is raised: (ECMA-269 error name, message). A plain tuple, not a
# CstaError: building an exception costs about a microsecond, and allowed_services (CALL-12)
# asks every check on every connection of every device view, most of them refusing.
Refused = tuple[str, str]


def refuse(refused: Refused | None) -> None:
    """Raise a check's refusal as a CstaError, if there is one.

    Each pre-condition check of a service is written once, as a function that returns its
    refusal (None: the service may run). The service raises it through here; CALL-12's
    ``allowed_services`` asks the same functions without raising, so offering a button can
    never disagree with the service.
    """
    if refused is not None:
        raise CstaError(*refused)
