"""How a refused service travels: returnError universalFailure (error code 1).

``ERROR_TABLE`` maps every refusal name of every context to the UniversalFailure CHOICE branch
and enumeration identifier of ECMA-285 ``CSTA-error-definition``. Call control refuses with the
standard's own names, which keep their branch; refusals of the other contexts (accounts,
presence, ...) travel as the closest standard value. A test checks that every name a context
declares is here and that every value exists in the ASN.1 enumerations.
"""

from __future__ import annotations

from typing import Any

from cti.kernel.refusal import Refusal

_STANDARD: dict[str, tuple[str, ...]] = {
    "operation": (
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
    ),
    "stateIncompatibility": (
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
    ),
    "systemResourceAvailability": (
        "resourceBusy",
        "resourceOutOfService",
        "conferenceMemberLimitExceeded",
    ),
}
# Refusals that are not CSTA errors: (their name) -> the closest universalFailure value.
_CLOSEST: dict[str, tuple[str, str]] = {
    "unknownUser": ("operation", "invalidDeviceID"),
    "notAMulapUser": ("operation", "requestIncompatibleWithDevice"),
    "notAMember": ("operation", "invalidParameterValue"),
    "notAMobilityUser": ("operation", "requestIncompatibleWithDevice"),
    "invalidAccountName": ("operation", "invalidParameterValue"),
    "accountExists": ("operation", "invalidParameterValue"),
    "unknownDevice": ("operation", "invalidDeviceID"),
    "lastAdministrator": ("operation", "requestIncompatibleWithObject"),
    "passwordPolicy": ("operation", "invalidParameterValue"),
    "wrongPassword": ("operation", "securityViolation"),
    "passwordChangeRequired": ("operation", "securityViolation"),
    "notPermitted": ("operation", "securityViolation"),
    "notYourDevice": ("operation", "privilegeViolationSpecifiedDevice"),
    "encryptionRequired": ("operation", "securityViolation"),
    "notLicensed": ("operation", "serviceNotSupported"),
    # favourites (DIR-05)
    "invalidFavouriteName": ("operation", "invalidParameterValue"),
    "unknownFavouriteGroup": ("operation", "invalidParameterValue"),
    "unknownFavourite": ("operation", "invalidParameterValue"),
    "favouriteGroupExists": ("operation", "invalidParameterValue"),
    "alreadyAFavourite": ("operation", "invalidParameterValue"),
    "tooManyFavouriteGroups": ("systemResourceAvailability", "resourceLimitExceeded"),
    "tooManyFavourites": ("systemResourceAvailability", "resourceLimitExceeded"),
    "notAnOrder": ("stateIncompatibility", "invalidObjectState"),  # the client's view is stale
    # presence (PRES-01..03)
    "noteNotForOffice": ("operation", "invalidParameterValue"),
    "returnTimeNotInFuture": ("operation", "invalidParameterValue"),
    "doNotDisturbNotAvailable": ("operation", "requestIncompatibleWithDevice"),
    "statusNotForwarded": ("operation", "invalidParameterValue"),
    "targetHasNoNumber": ("operation", "invalidForwardingDestination"),
    "forwardingLoop": ("operation", "invalidForwardingDestination"),
    # directories (DIR-01..04)
    "unknownContact": ("operation", "invalidParameterValue"),
    "contactExists": ("operation", "invalidParameterValue"),
    "tooManyContacts": ("systemResourceAvailability", "resourceLimitExceeded"),
    "unusableFile": ("operation", "invalidParameterValue"),
    "unknownUpload": ("operation", "invalidParameterValue"),
    "unknownEntry": ("operation", "invalidParameterValue"),
    # journal (JOUR-03/04)
    "unknownJournalEntry": ("operation", "invalidParameterValue"),
    "reminderNotInFuture": ("operation", "invalidParameterValue"),
    "tooManyReminders": ("systemResourceAvailability", "resourceLimitExceeded"),
    # application conferences (CONF-01..08)
    "conferencesNotConfigured": ("operation", "serviceNotSupported"),
    "unknownConference": ("operation", "invalidParameterValue"),
    "unknownParticipant": ("operation", "invalidParameterValue"),
    "notAModerator": ("operation", "securityViolation"),
    "lastModerator": ("operation", "requestIncompatibleWithObject"),
    "externalCannotModerate": ("operation", "requestIncompatibleWithObject"),
    "moderatorNeedsLicence": ("operation", "requestIncompatibleWithObject"),
    "conferenceFull": ("systemResourceAvailability", "conferenceMemberLimitExceeded"),
    "noChannel": ("systemResourceAvailability", "resourceBusy"),
    "notInactive": ("stateIncompatibility", "invalidObjectState"),
    "notInConference": ("stateIncompatibility", "invalidObjectState"),
    # voicemail (VM-01..VM-07)
    "noMailbox": ("operation", "invalidParameterValue"),
    "notAtVoicemail": ("stateIncompatibility", "invalidObjectState"),
    "unknownVoicemailMessage": ("operation", "invalidParameterValue"),
    "messageAlreadyRecorded": ("stateIncompatibility", "invalidObjectState"),
    "recordingOff": ("stateIncompatibility", "invalidObjectState"),
    "mailboxFull": ("systemResourceAvailability", "resourceLimitExceeded"),
    "pinLocked": ("operation", "securityViolation"),
    "wrongPin": ("operation", "securityViolation"),
    "pinPolicy": ("operation", "invalidParameterValue"),
    "pinMismatch": ("operation", "invalidParameterValue"),
    "menuNotOpen": ("stateIncompatibility", "invalidObjectState"),
    "defaultPinNotChanged": ("operation", "securityViolation"),
    "notInOffice": ("stateIncompatibility", "invalidObjectState"),
    "unusableAudio": ("operation", "invalidParameterValue"),
}

ERROR_TABLE: dict[str, tuple[str, str]] = {
    name: (branch, name) for branch, names in _STANDARD.items() for name in names
} | _CLOSEST


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
        """By refusal name (``ERROR_TABLE``)."""
        branch, value = ERROR_TABLE.get(name, ERROR_TABLE["generic"])
        return cls(branch, value, message)

    @classmethod
    def from_error(cls, err: Refusal) -> ServiceRefused:
        return cls.named(err.name, err.message)
