"""Named BIT STRING types (filters, capabilities, characteristics).

The codec's value notation for BIT STRING is ``(bytes, nbits)`` (as asn1tools);
the ``namedValues`` here give bit positions for ``codec.named_bits`` /
``codec.bit_names``. Positions are taken from the ECMA-285 modules.
"""

from __future__ import annotations

from pyasn1.type import namedval, univ

__all__ = [
    "CSTAVersion",
    "CallAssociatedEvents",
    "CallAssociatedServices",
    "CallCharacteristics",
    "CallControlEvents",
    "CallControlServices",
    "CallOrigination",
    "DeviceMaintenanceEvents",
    "LogicalDeviceFeatureEvents",
    "MediaAttachmentEvents",
    "MediaAttachmentServices",
    "MediaClass",
    "MonitorMediaClass",
    "PhysicalDeviceFeatureEvents",
    "RouteingServices",
    "VendorSpecEvents",
    "VoiceUnitEvents",
    "VoiceUnitServices",
]


class CallControlEvents(univ.BitString):
    namedValues = namedval.NamedValues(
        ("bridged", 15),
        ("callCleared", 0),
        ("conferenced", 1),
        ("connectionCleared", 2),
        ("delivered", 3),
        ("digitsDialed", 14),
        ("diverted", 4),
        ("established", 5),
        ("failed", 6),
        ("held", 7),
        ("networkCapabilitiesChanged", 16),
        ("networkReached", 8),
        ("offered", 17),
        ("originated", 9),
        ("queued", 10),
        ("retrieved", 11),
        ("serviceInitiated", 12),
        ("transferred", 13),
    )


class CallAssociatedEvents(univ.BitString):
    namedValues = namedval.NamedValues(
        ("callInformation", 0),
        ("charging", 1),
        ("dTMFDigitsDetected", 2),
        ("telephonyTonesDetected", 3),
        ("serviceCompletionFailure", 4),
    )


class MediaAttachmentEvents(univ.BitString):
    namedValues = namedval.NamedValues(
        ("mediaAttached", 0),
        ("mediaDetached", 1),
    )


class PhysicalDeviceFeatureEvents(univ.BitString):
    namedValues = namedval.NamedValues(
        ("buttonInformation", 0),
        ("buttonPress", 1),
        ("displayUpdated", 2),
        ("hookswitch", 3),
        ("lampMode", 4),
        ("messageWaiting", 5),
        ("microphoneGain", 6),
        ("microphoneMute", 7),
        ("ringerStatus", 8),
        ("speakerMute", 9),
        ("speakerVolume", 10),
    )


class LogicalDeviceFeatureEvents(univ.BitString):
    namedValues = namedval.NamedValues(
        ("agentBusy", 0),
        ("agentLoggedOn", 1),
        ("agentLoggedOff", 2),
        ("agentNotReady", 3),
        ("agentReady", 4),
        ("agentWorkingAfterCall", 5),
        ("autoAnswer", 6),
        ("autoWorkMode", 7),
        ("callBack", 8),
        ("callBackMessage", 9),
        ("callerIDStatus", 10),
        ("doNotDisturb", 11),
        ("forwarding", 12),
        ("presenceState", 14),
        ("routeingMode", 13),
    )


class DeviceMaintenanceEvents(univ.BitString):
    namedValues = namedval.NamedValues(
        ("backInService", 0),
        ("deviceCapabilityChanged", 2),
        ("outOfService", 1),
        ("partiallyInService", 3),
    )


class VoiceUnitEvents(univ.BitString):
    namedValues = namedval.NamedValues(
        ("bookmarkReached", 7),
        ("completed", 8),
        ("dtmfDetected", 9),
        ("emptied", 10),
        ("interruptionDetected", 11),
        ("notRecognized", 12),
        ("play", 1),
        ("recognized", 13),
        ("record", 3),
        ("review", 5),
        ("started", 14),
        ("silenceTimeoutExpired", 15),
        ("speechDetected", 16),
        ("stop", 0),
        ("suspendPlay", 2),
        ("suspendRecord", 4),
        ("voiceAttributesChange", 6),
        ("voiceErrorOccured", 17),
    )


class VendorSpecEvents(univ.BitString):
    namedValues = namedval.NamedValues(
        ("privateEvent", 0),
    )


class CallCharacteristics(univ.BitString):
    namedValues = namedval.NamedValues(
        ("acdCall", 0),
        ("lowPriorityCall", 11),
        ("priorityCall", 1),
        ("highPriorityCall", 12),
        ("maintainanceCall", 2),
        ("directAgent", 3),
        ("assistCall", 4),
        ("voiceUnitCall", 5),
        ("privateCall", 6),
        ("personalCall", 7),
        ("sensitiveCall", 8),
        ("confidentialCall", 9),
        ("encryptedCall", 10),
    )


class CallOrigination(univ.BitString):
    namedValues = namedval.NamedValues(
        ("internal", 0),
        ("external", 1),
    )


class MediaClass(univ.BitString):
    namedValues = namedval.NamedValues(
        ("voice", 0),
        ("data", 1),
        ("image", 2),
        ("audio", 4),
        ("other", 3),
        ("notKnown", 5),
        ("chat", 6),
        ("email", 7),
        ("message", 8),
        ("im", 9),
        ("sms", 10),
        ("mms", 11),
    )


class MonitorMediaClass(univ.BitString):
    namedValues = namedval.NamedValues(
        ("voice", 0),
        ("data", 1),
        ("image", 2),
        ("audio", 4),
        ("other", 3),
        ("notKnown", 5),
        ("chat", 6),
        ("email", 7),
        ("message", 8),
        ("im", 9),
        ("sms", 10),
        ("mms", 11),
    )


class CallControlServices(univ.BitString):
    namedValues = namedval.NamedValues(
        ("acceptCall", 0),
        ("alternateCall", 1),
        ("answerCall", 2),
        ("callBack", 3),
        ("callBackMessage", 4),
        ("campOnCall", 5),
        ("clearCall", 6),
        ("clearConnection", 7),
        ("conferenceCall", 8),
        ("consultationCall", 9),
        ("deflectCall", 10),
        ("dialDigits", 11),
        ("directedPickupCall", 12),
        ("groupPickupCall", 13),
        ("holdCall", 14),
        ("intrudeCall", 15),
        ("joinCall", 16),
        ("makeCall", 17),
        ("makeConnection", 25),
        ("makePredictiveCall", 18),
        ("parkCall", 19),
        ("reconnectCall", 20),
        ("retrieveCall", 21),
        ("sendMessage", 26),
        ("singleStepConference", 22),
        ("singleStepTransfer", 23),
        ("transferCall", 24),
    )


class CallAssociatedServices(univ.BitString):
    namedValues = namedval.NamedValues(
        ("associateData", 0),
        ("cancelTelephonyTones", 1),
        ("changeConnectionInformation", 5),
        ("generateDigits", 2),
        ("generateTelephonyTones", 3),
        ("sendUserInformation", 4),
    )


class MediaAttachmentServices(univ.BitString):
    namedValues = namedval.NamedValues(
        ("attachMediaService", 0),
        ("detachMediaService", 1),
    )


class RouteingServices(univ.BitString):
    namedValues = namedval.NamedValues(
        ("routeRegister", 0),
        ("routeRegisterCancel", 1),
        ("routeRegisterAbort", 2),
        ("reroute", 3),
        ("routeEnd", 4),
        ("routeReject", 5),
        ("routeRequest", 6),
        ("routeSelect", 7),
        ("routeUsed", 8),
    )


class VoiceUnitServices(univ.BitString):
    namedValues = namedval.NamedValues(
        ("activate", 12),
        ("clear", 13),
        ("concatenateMessage", 0),
        ("deactivate", 14),
        ("deleteMessage", 1),
        ("playMessage", 2),
        ("queryVoiceAttribute", 3),
        ("recordMessage", 4),
        ("reposition", 5),
        ("resume", 6),
        ("review", 7),
        ("setVoiceAttribute", 8),
        ("stop", 9),
        ("suspend", 10),
        ("synthesizeMessage", 11),
    )


class CSTAVersion(univ.BitString):
    """Bit n is version n+1: versionThree (2) is ECMA-285 1st edition, versionFour (3)
    ISO/IEC 18052, versionFive (4) ECMA-285 2nd, versionFifteen (14) 3rd, versionNineteen
    (18) 4th edition; versionOne/Two are Phase I/II (ECMA-180/218), the others ECMA-323 (XML)."""

    namedValues = namedval.NamedValues(
        ("versionOne", 0),
        ("versionTwo", 1),
        ("versionThree", 2),
        ("versionFour", 3),
        ("versionFive", 4),
        ("versionSix", 5),
        ("versionSeven", 6),
        ("versionEight", 7),
        ("versionNine", 8),
        ("versionTen", 9),
        ("versionEleven", 10),
        ("versionTwelve", 11),
        ("versionThirteen", 12),
        ("versionFourteen", 13),
        ("versionFifteen", 14),
        ("versionSixteen", 15),
        ("versionSeventeen", 16),
        ("versionEighteen", 17),
        ("versionNineteen", 18),
        ("versionTwenty", 19),
        ("versionTwentyone", 20),
        ("versionTwentytwo", 21),
        ("versionTwentythree", 22),
        ("versionTwentyfour", 23),
    )
