"""The two display lines of a system phone (24 characters each, as on an HFA desk phone)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from phone_sim.model.phone import Leg, Phone

WIDTH = 24
PRESENCE_LABELS = {  # PRES-01, as the phone's display names them
    "meeting": "Meeting",
    "sick": "Sick",
    "break": "Break",
    "outOfOffice": "Out of office",
    "vacation": "Vacation",
    "lunch": "Lunch",
    "goneHome": "Gone home",
}
FAILURE_LABELS = {
    "busy": "Busy",
    "doNotDisturb": "Do not disturb",
    "destNotObtainable": "Invalid number",
}


def label(number: str, directory: Mapping[str, str]) -> str:
    """A party as the display names it: the directory name, else the number."""
    return directory.get(number) or number or "?"


def render(phone: Phone, directory: Mapping[str, str]) -> tuple[str, str]:
    line1, line2 = _lines(phone, directory)
    return line1[:WIDTH], line2[:WIDTH]


def _peer_label(phone: Phone, leg: Leg, directory: Mapping[str, str]) -> str:
    number, name = phone.peer_of(leg)
    if not number:
        return f"Conference ({len(leg.others) + 1})" if len(leg.others) > 1 else "?"
    return name or label(number, directory)


def _lines(phone: Phone, directory: Mapping[str, str]) -> tuple[str, str]:
    prompted, alerting, active, held = phone.prompted, phone.alerting, phone.active, phone.held
    if prompted is not None:
        return "Lift handset", f"to call {label(prompted.pending or '', directory)}"
    if alerting is not None and active is None:
        caller = label(alerting.calling, directory)
        if alerting.group is not None:
            return f"{label(alerting.group, directory)}: call", caller
        if alerting.redirecting:
            return f"Call via {label(alerting.redirecting, directory)}", caller
        return "Call from", caller
    if active is not None:
        line2 = ""
        if alerting is not None:
            line2 = f"Waiting: {label(alerting.calling, directory)}"
        elif held is not None:
            line2 = f"Held: {_peer_label(phone, held, directory)}"
        if active.state == "initiated":
            return "Dial", line2 or active.digits
        if active.state == "fail":
            return label(active.called, directory), FAILURE_LABELS.get(active.cause, "Not reached")
        if any(s == "alerting" for s in active.others.values()) and not any(
            s in ("connected", "hold") for s in active.others.values()
        ):
            return label(active.called, directory), line2 or "Ringing"
        if not any(s in ("connected", "hold") for s in active.others.values()):
            return label(active.called, directory), line2 or "Calling"
        connected = phone.notices.get(active.call, "Connected")  # a conference seat's notice
        return _peer_label(phone, active, directory), line2 or connected
    if held is not None:
        return "On hold", _peer_label(phone, held, directory)
    line1 = f"{phone.number} {phone.name}".strip()
    if phone.dnd:
        return line1, "Do not disturb"
    status = phone.shown_presence
    if status != "office":  # PRES-01/02: the user's absence, and until when
        until = phone.presence_until
        when = (
            "" if until is None else " until " + time.strftime("%H:%M", time.gmtime(until / 1000))
        )
        return line1, PRESENCE_LABELS.get(status, status) + when
    for fwd in phone.forwarding:
        if fwd["type"] == "forwardImmediate":
            return line1, f"Forwarded to {label(fwd['destination'], directory)}"
    return line1, ""
