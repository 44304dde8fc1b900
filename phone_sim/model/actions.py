"""What a person does with a phone, as the requests the phone sends (pure: no I/O).

A verb is resolved against the phone's own legs: "holds" holds the call it is talking on,
"answers" takes the call that rings. A verb that needs a call the phone does not have raises
:class:`NotPossible` with the CSTA error name the node would give."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from cti.voicemail.wav import make_wav
from phone_sim.model.phone import Leg, Phone

FORWARDING_TYPES = {
    "immediate": "forwardImmediate",
    "busy": "forwardBusy",
    "no-answer": "forwardNoAns",
}


@attrs.frozen
class Req:
    service: str
    fields: dict[str, Any]
    lifts: bool = False  # the user takes the handset for this (not the speaker)


class NotPossible(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _need(leg: Leg | None, code: str, message: str) -> Leg:
    if leg is None:
        raise NotPossible(code, message)
    return leg


def plan(
    phone: Phone, verb: str, args: list[str], summaries: Mapping[str, str] | None = None
) -> list[Req]:
    """The requests for ``verb`` (see specs/phone-sim.md for the verbs)."""
    handler = VERBS.get(verb)
    if handler is None:
        raise NotPossible("invalidParameterValue", f"unknown action {verb!r}")
    return handler(phone, args, summaries or {})


def _arg(args: list[str], i: int, what: str) -> str:
    if len(args) <= i:
        raise NotPossible("invalidParameterValue", f"missing {what}")
    return args[i]


def calls(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    return [Req("makeCall", {"calling": phone.number, "called": _arg(args, 0, "number")})]


def redials(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """The redial key (CALL-02): calls the newest number of the user's list, which the
    simulator fetches from the node and passes as the argument."""
    if not args:
        raise NotPossible("invalidDestination", f"{phone.number} has dialled nothing yet")
    return [Req("makeCall", {"calling": phone.number, "called": args[0]})]


def dials(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    digits = _arg(args, 0, "number")
    lift = [] if phone.off_hook else [Req("offHook", {"device": phone.number}, lifts=True)]
    return [*lift, Req("dial", {"device": phone.number, "digits": digits})]


def lifts(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    return [Req("offHook", {"device": phone.number}, lifts=True)]


def hangs_up(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    return [Req("onHook", {"device": phone.number})]


def answers(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    leg = _need(phone.alerting, "noCallToAnswer", f"nothing rings at {phone.number}")
    if phone.external:
        return [Req("offHook", {"device": phone.number}, lifts=True)]  # a trunk party lifts
    return [Req("answerCall", {"call": leg.call, "device": phone.number})]


def _call_leg(phone: Phone) -> Leg:
    leg = phone.active or phone.held or phone.alerting
    return _need(leg, "noConnectionToClear", f"{phone.number} has no call")


def clears(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    leg = _call_leg(phone)
    if args == ["call"]:
        return [Req("clearCall", {"call": leg.call})]
    return [Req("clearConnection", {"call": leg.call, "device": phone.number})]


def _talking(phone: Phone) -> Leg:
    leg = phone.active
    if leg is None or leg.state != "connected":
        raise NotPossible("invalidConnectionID", f"{phone.number} has no active call")
    return leg


def holds(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    return [Req("holdCall", {"call": _talking(phone).call, "device": phone.number})]


def retrieves(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    leg = _need(phone.held, "invalidConnectionID", f"{phone.number} has no held call")
    return [Req("retrieveCall", {"call": leg.call, "device": phone.number})]


def consults(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    fields = {"call": _talking(phone).call, "device": phone.number}
    return [Req("consultationCall", {**fields, "consulted": _arg(args, 0, "number")})]


def _two_calls(service: str) -> Callable[[Phone, list[str], Mapping[str, str]], list[Req]]:
    def handler(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
        return [Req(service, {"device": phone.number})]

    return handler


def transfers(phone: Phone, args: list[str], s: Mapping[str, str]) -> list[Req]:
    if args:  # "transfers to N": single-step (blind) transfer of the active call (CALL-07)
        to = _arg(args, 1, "number") if args[0] == "to" else args[0]
        leg = _talking(phone)
        return [Req("singleStepTransferCall", {"call": leg.call, "device": phone.number, "to": to})]
    return [Req("transferCall", {"device": phone.number})]


def deflects(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    to = _arg(args, 1, "number") if args and args[0] == "to" else _arg(args, 0, "number")
    leg = _need(phone.alerting, "invalidCallID", f"nothing rings at {phone.number}")
    return [Req("deflectCall", {"call": leg.call, "device": phone.number, "to": to})]


def picks_up(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    if args:
        return [Req("directedPickupCall", {"picked": args[0], "device": phone.number})]
    return [Req("groupPickupCall", {"device": phone.number})]


def forwards(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """forwards immediate|busy|no-answer to N [after S s] / forwards TYPE off; and the
    status-based forwarding of the user (PRES-03): forwards STATUS to voicemail|mobile|
    external|N."""
    if args[:1] and args[0] in PRESENCE:
        target = _arg(args, 2 if args[1:2] == ["to"] else 1, "target")
        who = {"user": phone.number, "status": args[0]}
        if target in ("voicemail", "mobile", "external"):
            return [Req("setPresenceForwarding", {**who, "target": target})]
        return [Req("setPresenceForwarding", {**who, "target": "number", "number": target})]
    kind = FORWARDING_TYPES.get(_arg(args, 0, "forwarding type"))
    if kind is None:
        raise NotPossible(
            "invalidForwardingType", f"forwarding type must be one of {sorted(FORWARDING_TYPES)}"
        )
    fields: dict[str, Any] = {"device": phone.number, "forwardingType": kind}
    if args[1:] == ["off"]:
        return [Req("setForwarding", {**fields, "on": False})]
    rest = args[2:] if args[1:2] == ["to"] else args[1:]
    fields.update(on=True, destination=_arg(rest, 0, "destination"))
    if len(rest) >= 3 and rest[1] == "after":
        fields["ringTime"] = int(rest[2].rstrip("s"))
    return [Req("setForwarding", fields)]


PRESENCE = (  # PRES-01; the voicemail menu's digits are their positions (1 office ... 9 DND)
    "office",
    "meeting",
    "sick",
    "break",
    "outOfOffice",
    "vacation",
    "lunch",
    "goneHome",
    "doNotDisturb",
)
_DURATION = {"s": 1, "m": 60, "h": 3600}


def absolute_return(args: list[str], now_ms: int) -> tuple[str, ...]:
    """``STATUS for 90m ...`` as ``STATUS at MS ...`` (the return time by ``now_ms``)."""
    if len(args) >= 3 and args[1] == "for":
        amount, unit = args[2][:-1], args[2][-1:]
        if not amount.isdigit() or unit not in _DURATION:
            raise NotPossible("invalidParameterValue", "write 'for 30m' (s, m or h)")
        at = now_ms + int(amount) * _DURATION[unit] * 1000
        return (args[0], "at", str(at), *args[3:])
    return tuple(args)


def presence(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """presence STATUS [at MS] ["info"]: the user of this phone sets their presence."""
    status = _arg(args, 0, "presence status")
    if status not in PRESENCE:
        raise NotPossible("invalidParameterValue", f"presence is one of {', '.join(PRESENCE)}")
    fields: dict[str, Any] = {"user": phone.number, "status": status}
    rest = args[1:]
    if rest[:1] == ["at"]:
        fields["returnAt"] = int(_arg(rest, 1, "return time"))
        rest = rest[2:]
    if rest:
        fields["info"] = " ".join(rest)
    return [Req("setPresence", fields)]


def sends(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """DTMF while talking to the voicemail (the simulator appends its numbers): ``5`` then a
    status digit sets the user's presence (PRES-05), e.g. ``52`` meeting, ``51`` office."""
    digits, voicemail = _arg(args, 0, "digits"), args[1:]
    leg = phone.active
    if leg is None or leg.state != "connected" or not set(leg.others) & set(voicemail):
        raise NotPossible("invalidConnectionID", f"{phone.number} is not talking to the voicemail")
    if len(digits) != 2 or digits[0] != "5" or not "1" <= digits[1] <= str(len(PRESENCE)):
        raise NotPossible(
            "invalidParameterValue", f"the voicemail menu knows 51..5{len(PRESENCE)}, not {digits}"
        )
    return [Req("setPresence", {"user": phone.number, "status": PRESENCE[int(digits[1]) - 1]})]


def speech(args: list[str]) -> str:
    """What ``speaks`` says, base64: a WAV file (``speaks greeting.wav``) or a tone of
    ``Ns`` seconds (``speaks 3s``), 16-bit mono at 8 kHz (VM-01). Reads the file: the
    simulator calls it in a worker thread."""
    what = _arg(args, 0, "seconds (3s) or a WAV file")
    if what.endswith("s") and what[:-1].replace(".", "", 1).isdigit():
        frames = int(float(what[:-1]) * 8000)
        pcm = b"".join(
            struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i / 8000)))
            for i in range(frames)
        )
        return base64.b64encode(make_wav(pcm)).decode()
    try:
        return base64.b64encode(Path(what).read_bytes()).decode()
    except OSError as exc:
        raise NotPossible("invalidParameterValue", f"cannot read {what}: {exc}") from None


def _at_voicemail(phone: Phone) -> Leg:
    leg = phone.active
    if leg is None or leg.state != "connected" or not leg.answered:
        raise NotPossible("notAtVoicemail", f"{phone.number} is not talking to the voicemail")
    return leg


def speaks(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """Speaks to the voicemail on the active call: the message left (VM-01)."""
    leg = _at_voicemail(phone)
    audio = _arg(args, 0, "audio")
    return [
        Req("leaveVoicemailMessage", {"call": leg.call, "device": phone.number, "audio": audio})
    ]


def keys_pin(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """The PIN for the voicemail menu as a request (VM-03), the form ``keys 123456`` keys as
    DTMF; either way the node checks it outside the writer and never logs it."""
    leg = _at_voicemail(phone)
    pin = _arg(args, 0, "PIN")
    return [Req("enterVoicemailPin", {"call": leg.call, "device": phone.number, "pin": pin})]


def changes_pin(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """A new PIN keyed in the open voicemail menu (VM-03)."""
    leg = _at_voicemail(phone)
    new = _arg(args, 0, "new PIN")
    fields = {"call": leg.call, "device": phone.number, "newPin": new}
    return [Req("changeVoicemailPinOnPhone", fields)]


def plays(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """VM-04: the user has message N played on this phone (the system calls it)."""
    message = _arg(args, 0, "message number")
    if not message.isdigit():
        raise NotPossible("invalidParameterValue", "plays takes a message number")
    fields = {"user": phone.number, "message": int(message), "device": phone.number}
    return [Req("playVoicemailMessage", fields)]


def listens(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """The phone's user plays message N of their mailbox (VM-02: it goes to old)."""
    message = _arg(args, 0, "message number")
    if not message.isdigit():
        raise NotPossible("invalidParameterValue", "listens takes a message number")
    return [Req("listenVoicemailMessage", {"user": phone.number, "message": int(message)})]


def keys(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    """DTMF on the active call (``generateDigits``): the other parties hear them, or the
    voicemail / conference dial-in the phone is talking to reads them (a menu choice, a PIN)."""
    digits = _arg(args, 0, "digits")
    leg = phone.active
    if leg is None:
        raise NotPossible("invalidConnectionID", f"{phone.number} is in no call to key digits in")
    return [Req("generateDigits", {"call": leg.call, "device": phone.number, "digits": digits})]


def dnd(phone: Phone, args: list[str], _: Mapping[str, str]) -> list[Req]:
    on = _arg(args, 0, "on or off")
    if on not in ("on", "off"):
        raise NotPossible("invalidParameterValue", "dnd takes on or off")
    return [Req("setDoNotDisturb", {"device": phone.number, "on": on == "on"})]


def presses(phone: Phone, args: list[str], summaries: Mapping[str, str]) -> list[Req]:
    """A function key, as the phone's firmware interprets it."""
    key = _arg(args, 0, "key")
    if key.startswith("dss:"):
        target = key[4:]
        if summaries.get(target, "").startswith("incoming") and phone.active is None:
            return picks_up(phone, [target], summaries)  # a flashing BLF key picks up
        if phone.active is not None and phone.active.state == "connected":
            return consults(phone, [target], summaries)
        return dials(phone, [target], summaries)
    if key == "dnd":
        return dnd(phone, ["off" if phone.dnd else "on"], summaries)
    if key == "fwd":
        if len(args) > 1:
            return forwards(phone, ["immediate", "to", args[1]], summaries)
        return forwards(phone, ["immediate", "off"], summaries)
    if key == "hold":
        return (
            retrieves(phone, [], summaries)
            if phone.held and not phone.active
            else holds(phone, [], summaries)
        )
    if key == "release":
        return hangs_up(phone, [], summaries)
    if key == "speaker":
        return (
            hangs_up(phone, [], summaries)
            if phone.off_hook
            else [Req("offHook", {"device": phone.number})]
        )
    raise NotPossible("invalidParameterValue", f"phone {phone.number} has no key {key!r}")


VERBS: dict[str, Callable[[Phone, list[str], Mapping[str, str]], list[Req]]] = {
    "calls": calls,
    "dials": dials,
    "redials": redials,
    "lifts": lifts,
    "hangs-up": hangs_up,
    "answers": answers,
    "clears": clears,
    "holds": holds,
    "retrieves": retrieves,
    "consults": consults,
    "alternates": _two_calls("alternateCall"),
    "reconnects": _two_calls("reconnectCall"),
    "conferences": _two_calls("conferenceCall"),
    "transfers": transfers,
    "deflects": deflects,
    "picks-up": picks_up,
    "forwards": forwards,
    "dnd": dnd,
    "presses": presses,
    "presence": presence,
    "sends": sends,
    "speaks": speaks,
    "keys-pin": keys_pin,
    "changes-pin": changes_pin,
    "listens": listens,
    "plays": plays,
    "keys": keys,
}
