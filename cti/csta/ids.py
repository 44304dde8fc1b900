"""Our numbers and call ids <-> CSTA DeviceID / ConnectionID (value notation).

Devices travel as DeviceID ``dialingNumber``: internal numbers as their digits, external parties
as their E.164 ``+…``. A callID is the call number as ASCII digits (``b"17"``), readable in
traces and free of byte-order questions. Malformed identifiers are refused with the CSTA error
an application expects (invalidDeviceID / invalidCallID / invalidConnectionID), never a Reject:
the argument is well-typed ASN.1, only its content is wrong.
"""

from __future__ import annotations

from typing import Any

from cti.csta.refusals import ServiceRefused

MAX_NUMBER = 64  # longest device number accepted from the wire


def device_id(number: str) -> dict[str, Any]:
    return {"deviceIdentifier": ("dialingNumber", number)}


def subject(number: str) -> tuple[str, Any]:
    """SubjectDeviceID / CallingDeviceID / CalledDeviceID (all ``deviceIdentifier`` here)."""
    return ("deviceIdentifier", device_id(number))


def call_id(call: int) -> bytes:
    return str(call).encode("ascii")


def connection(call: int, device: str | None = None) -> tuple[str, Any]:
    if device is None:
        return ("callID", call_id(call))
    return ("both", {"callID": call_id(call), "deviceID": ("staticID", device_id(device))})


def number_of(value: Any, error: str = "invalidDeviceID") -> str:
    """The number in a DeviceID (``dialingNumber`` or ``deviceNumber``)."""
    form, ident = value.get("deviceIdentifier", (None, None))
    if form == "dialingNumber" and isinstance(ident, str):
        number = ident
    elif form == "deviceNumber" and isinstance(ident, int) and ident >= 0:
        number = str(ident)
    else:
        raise ServiceRefused.named(error, f"unsupported device identifier form {form!r}")
    if not number or len(number) > MAX_NUMBER:
        raise ServiceRefused.named(error, f"device number of {len(number)} characters")
    return number


def call_of(raw: bytes) -> int:
    if not raw or len(raw) > 18 or not raw.isdigit():
        raise ServiceRefused.named("invalidCallID", f"callID {raw!r} is not a call number")
    return int(raw)


def parse_connection(value: Any) -> tuple[int | None, str | None]:
    """(call, device) of a ConnectionID; either may be absent."""
    kind, body = value
    if kind == "callID":
        return call_of(body), None
    if kind == "deviceID":
        return None, _local_device(body)
    return call_of(body["callID"]), _local_device(body["deviceID"])


def full_connection(value: Any) -> tuple[int, str]:
    """A ConnectionID that must name both the call and the device."""
    call, device = parse_connection(value)
    if call is None or device is None:
        raise ServiceRefused.named(
            "invalidConnectionID", "the connection must name both callID and deviceID"
        )
    return call, device


def _local_device(value: Any) -> str:
    kind, body = value
    if kind != "staticID":
        raise ServiceRefused.named("invalidConnectionID", "dynamic device ids are not issued")
    return number_of(body, "invalidConnectionID")
