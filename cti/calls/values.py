"""Small enumerations shared by events, state and services (ECMA-269 names)."""

from __future__ import annotations

from enum import StrEnum


class ConnectionState(StrEnum):
    """LocalConnectionState (ECMA-285 ``CSTA-connection-states``)."""

    NULL = "null"
    INITIATED = "initiated"
    ALERTING = "alerting"
    CONNECTED = "connected"
    HOLD = "hold"
    QUEUED = "queued"
    FAIL = "fail"


class Cause(StrEnum):
    """The EventCause values this engine emits (ECMA-285 ``CSTA-event-causes``)."""

    ALTERNATE = "alternate"
    BUSY = "busy"
    CALL_BACK = "callBack"
    CALL_FORWARD_BUSY = "callForwardBusy"
    CALL_FORWARD_IMMEDIATE = "callForwardImmediate"
    CALL_FORWARD_NO_ANSWER = "callForwardNoAnswer"
    CALL_PICKUP = "callPickup"
    CONFERENCE = "conference"
    CONSULTATION = "consultation"
    DO_NOT_DISTURB = "doNotDisturb"
    MAKE_CALL = "makeCall"
    MULTIPLE_ALERTING = "multipleAlerting"
    NEW_CALL = "newCall"
    NORMAL = "normal"
    NORMAL_CLEARING = "normalClearing"
    REDIRECTED = "redirected"
    SINGLE_STEP_TRANSFER = "singleStepTransfer"
    TRANSFER = "transfer"


class ForwardingType(StrEnum):
    """Switch forwarding kinds of CALL-16 (ECMA-269 ForwardingType names)."""

    IMMEDIATE = "forwardImmediate"
    BUSY = "forwardBusy"
    NO_ANSWER = "forwardNoAns"


class TimerPurpose(StrEnum):
    NO_ANSWER = "noAnswer"


# A connection in one of these states means the device's line is in use for this call
# (off-hook, talking or failed); alerting and held connections do not occupy the handset.
ACTIVE_STATES = frozenset(
    {ConnectionState.INITIATED, ConnectionState.CONNECTED, ConnectionState.FAIL}
)
