"""The voicemail requests that carry audio or a PIN (VM-01, VM-02, VM-03, VM-04).

Audio arrives base64 in the request. It is checked (cti.voicemail.wav) and stored
content-addressed in the data directory, fsynced (cti.voicemail.audio_db), in a worker thread,
before the node gets the INTERNAL ``recordMessage`` command with its reference: a committed
``messageRecorded`` always has its file. Audio goes out the same way: ``listenVoicemailMessage``
and ``fetchVoicemailAudio`` answer the stored bytes, base64, checked against their hash.

A PIN is checked where it arrives, never in the writer and never logged: the default PIN by a
constant-time comparison, a set one against its argon2id hash in a worker thread. The node gets
only whether it was right (``checkedPin``), and keeps the throttle (VM-03). Checks of one
mailbox's PIN run one at a time (a lock per mailbox), so parallel guesses cannot slip past the
throttle between the check and its recording (UC-LESSONS rule 6).

The PIN may also be keyed as DTMF (``generateDigits`` towards the voicemail): while the menu on
the call waits for the caller's PIN, 6 digits (optionally ended by ``#``) are a PIN attempt;
in the open menu ``8``, the new PIN and the new PIN again (each optionally ended by ``#``)
change it. ``keys_pin`` recognises such digits on the current state and the request runs the
same path as ``enterVoicemailPin`` / ``changeVoicemailPinOnPhone``: the same rules, throttle,
lock and events, the argon2 work outside the writer, no digit recorded. Any other digits go
to call control as before (which hands them to the voicemail's digit receiver, recording
nothing).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import re
import weakref
from typing import Any, ClassVar

import attrs

from cti.accounts import passwords
from cti.api import replies
from cti.app.engine import Executor
from cti.app.node import Accepted, Node, Outcome, Refused
from cti.calls.commands import ConnectionResult, GenerateDigits, MakeCall
from cti.calls.decision import CallDecision
from cti.directory.commands import AddContact, ContactIdResult
from cti.directory.model import MAX_NAME
from cti.domain import authorize, decide, evolve
from cti.kernel.messages import Command, NoResult
from cti.kernel.refusal import Refusal, invalid_field
from cti.voicemail import pins, wav
from cti.voicemail.audio_db import AudioMissing, AudioStore
from cti.voicemail.commands import (
    CheckedPin,
    ClientPinChecked,
    ListenVoicemailMessage,
    MessageIdResult,
    PinResult,
    RecordMessage,
    SetPinHash,
)
from cti.voicemail.queries import FetchVoicemailAudio, GetMailbox
from cti.voicemail.services import CLIENT, menu_mailbox

AUDIO = "voicemail.audio"  # the audio store's name among the node's read models
MAX_AUDIO_TEXT = (wav.MAX_BYTES + 2) // 3 * 4
MAX_PAYLOAD = MAX_AUDIO_TEXT + 16 * 1024


@attrs.frozen(kw_only=True)
class LeaveVoicemailMessage:
    """The caller on ``call`` speaks to the voicemail (VM-01): ``audio`` is a WAV file of
    16-bit mono PCM at 8 or 16 kHz, base64, at most 1 MiB. Sent again with the same audio it
    answers the same message (a retry)."""

    SERVICE: ClassVar[str] = "leaveVoicemailMessage"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = MessageIdResult
    MAX_PAYLOAD: ClassVar[int] = MAX_PAYLOAD
    call: int
    device: str
    audio: str = attrs.field(repr=False, metadata={"max_length": MAX_AUDIO_TEXT})


@attrs.frozen(kw_only=True)
class EnterVoicemailPin:
    """The PIN keyed in the voicemail's phone menu (VM-03). Not a ``generateDigits``: digits
    are recorded in the log, a PIN never is."""

    SERVICE: ClassVar[str] = "enterVoicemailPin"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = PinResult
    call: int
    device: str
    pin: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class ChangeVoicemailPinOnPhone:
    """A new PIN keyed in the open phone menu (VM-03): the first change must be made so."""

    SERVICE: ClassVar[str] = "changeVoicemailPinOnPhone"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = NoResult
    call: int
    device: str
    new_pin: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class ChangeVoicemailPin:
    """A client changes the PIN (VM-03): over an encrypted connection only, with the old PIN,
    and only once the default PIN was changed on the phone."""

    SERVICE: ClassVar[str] = "changeVoicemailPin"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = NoResult
    user: str
    old_pin: str = attrs.field(repr=False)
    new_pin: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class CallBackVoicemailMessage:
    """VM-05: call the sender back, a makeCall from ``device`` (default: the user's number)."""

    SERVICE: ClassVar[str] = "callBackVoicemailMessage"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = ConnectionResult
    user: str
    message: int
    device: str | None = None


@attrs.frozen(kw_only=True)
class SaveVoicemailContact:
    """VM-05: save the sender as a personal contact (addContact, DIR-01): ``name``, default
    the name the caller was known by, else the number."""

    SERVICE: ClassVar[str] = "saveVoicemailContact"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = ContactIdResult
    user: str
    message: int
    name: str | None = attrs.field(default=None, metadata={"max_length": MAX_NAME})


VoicemailRequest = (
    LeaveVoicemailMessage
    | EnterVoicemailPin
    | ChangeVoicemailPinOnPhone
    | ChangeVoicemailPin
    | CallBackVoicemailMessage
    | SaveVoicemailContact
)
REQUESTS: tuple[type[VoicemailRequest], ...] = (
    LeaveVoicemailMessage,
    EnterVoicemailPin,
    ChangeVoicemailPinOnPhone,
    ChangeVoicemailPin,
    CallBackVoicemailMessage,
    SaveVoicemailContact,
)
HANDLED = (*REQUESTS, ListenVoicemailMessage, FetchVoicemailAudio)

PIN_KEYS = re.compile(r"([0-9]{6})#?")  # the PIN keyed while the menu waits for it
CHANGE_KEY = "8"  # in the open menu: 8, the new PIN, the new PIN again
CHANGE_KEYS = re.compile(r"8([0-9]{6})#?([0-9]{6})#?")

# A node's locks, one per mailbox: its PIN checks one at a time. Weakly keyed by the node,
# so they go with it; by id(node), a later node could get a dead one's, as ids are reused.
_LOCKS: weakref.WeakKeyDictionary[Node, dict[str, asyncio.Lock]] = weakref.WeakKeyDictionary()


def _lock(engine: Executor, mailbox: str) -> asyncio.Lock:
    locks = _LOCKS.get(engine.node)
    if locks is None:
        locks = _LOCKS[engine.node] = {}
    lock = locks.get(mailbox)
    if lock is None:
        lock = locks[mailbox] = asyncio.Lock()
    return lock


def _store(engine: Executor) -> AudioStore:
    store = engine.node.read_models.get(AUDIO)
    if not isinstance(store, AudioStore):
        raise Refusal("serviceNotSupported", "this node keeps no voicemail audio")
    return store


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_field("audio", "notBase64", "audio: a WAV file in base64") from None


def _pin_right(stored: str | None, pin: str) -> bool:
    if stored is None:
        return hmac.compare_digest(pin.encode(), pins.DEFAULT_PIN.encode())
    return passwords.verify_password(stored, pin)


def _reply(seq: int, outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Accepted):
        return replies.accepted(outcome, seq)
    return _refused(outcome.error)


def _refused(refusal: Refusal) -> dict[str, Any]:
    body: dict[str, Any] = {"code": refusal.name, "message": refusal.message}
    if refusal.details:
        body["details"] = dict(refusal.details)
    return {"ok": False, "error": body}


async def _with_audio(engine: Executor, reply: dict[str, Any]) -> dict[str, Any]:
    """``reply`` (a success) with the message's audio added to its result."""
    result = reply["result"]
    try:
        data = await asyncio.to_thread(_store(engine).get, result["sha256"])
    except AudioMissing as exc:
        return _refused(Refusal("unusableAudio", str(exc), {"reason": "missing"}))
    return {**reply, "result": {**result, "audio": base64.b64encode(data).decode()}}


def keys_pin(node: Any, action: GenerateDigits) -> bool:
    """Whether ``action`` keys a PIN in the voicemail's phone menu (VM-03): 6 digits while the
    menu on the call waits for the caller's PIN, or a PIN change (``8``...) in the open menu."""
    menu = node.state.voicemail.menus.get(action.call)
    if menu is None or menu.device != action.device:
        return False
    if not menu.open:
        return PIN_KEYS.fullmatch(action.digits) is not None
    return action.digits.startswith(CHANGE_KEY)


async def _keyed(engine: Executor, action: GenerateDigits, principal: str | None) -> dict[str, Any]:
    """A PIN or a PIN change keyed as DTMF: the request forms' paths, the digits never logged."""
    node = engine.node
    if principal is not None:
        authorize(node.site, node.state, principal, action)
    menu = node.state.voicemail.menus.get(action.call)
    if menu is not None and menu.open:
        change = CHANGE_KEYS.fullmatch(action.digits)
        if change is None:
            raise Refusal(
                "pinPolicy",
                "a PIN change is 8, the new PIN (6 digits), the new PIN again",
                {"failed": ["length"]},
            )
        if not hmac.compare_digest(change[1].encode(), change[2].encode()):
            raise Refusal("pinMismatch", "the new PIN was not keyed the same twice")
        request = ChangeVoicemailPinOnPhone(
            call=action.call, device=action.device, new_pin=change[1]
        )
        return await _change_on_phone(engine, request, principal)
    pin = action.digits.rstrip("#")
    reply = await _enter_pin(
        engine, EnterVoicemailPin(call=action.call, device=action.device, pin=pin), principal
    )
    if reply["ok"]:  # generateDigits answers {}: whether a change is due is getMailbox's
        reply = {**reply, "result": {}}
    return reply


def _mailbox_of_menu(engine: Executor, call: int, device: str) -> str:
    node = engine.node
    d = CallDecision(node.site, node.state, 0, evolve)
    return menu_mailbox(d, call, device)


async def execute(
    engine: Executor, action: Any, principal: str | None, *, secure: bool
) -> dict[str, Any]:
    """The reply to one of ``HANDLED``."""
    node = engine.node
    try:
        if isinstance(action, FetchVoicemailAudio):
            result = dict(node.query(action, principal))  # type: ignore[call-overload]
            return await _with_audio(engine, {"ok": True, "result": result, "seq": node.state.seq})
        if isinstance(action, ListenVoicemailMessage):
            outcome = await engine.execute(action, principal)
            if isinstance(outcome, Refused):
                return _refused(outcome.error)
            assert isinstance(outcome, Accepted)
            return await _with_audio(engine, replies.accepted(outcome, node.state.seq))
        if isinstance(action, LeaveVoicemailMessage):
            return await _leave(engine, action, principal)
        if isinstance(action, GenerateDigits):
            return await _keyed(engine, action, principal)
        if isinstance(action, EnterVoicemailPin):
            return await _enter_pin(engine, action, principal)
        if isinstance(action, ChangeVoicemailPinOnPhone):
            return await _change_on_phone(engine, action, principal)
        if isinstance(action, ChangeVoicemailPin):
            return await _change(engine, action, principal, secure=secure)
        if isinstance(action, CallBackVoicemailMessage | SaveVoicemailContact):
            return await _sender(engine, action, principal)
    except Refusal as refusal:
        return _refused(refusal)
    raise TypeError(f"not a voicemail request: {action!r}")


async def _leave(
    engine: Executor, action: LeaveVoicemailMessage, principal: str | None
) -> dict[str, Any]:
    node = engine.node
    data = _decode(action.audio)
    audio = await asyncio.to_thread(wav.check_wav, data)
    command = RecordMessage(call=action.call, device=action.device, audio=audio)
    # Decided once on the current state first (and dropped): a message the node would refuse
    # (box full, recording off, not at the voicemail, not theirs) leaves no file behind.
    decide(node.site, node.state, command, node.clock.now_ms(), principal)
    store = _store(engine)
    sha = await asyncio.to_thread(store.put, data)  # durable before the event commits
    try:
        return _reply(node.state.seq, await engine.execute(command, principal))
    finally:
        store.release(sha)  # from now on only a committed message keeps the file


async def _enter_pin(
    engine: Executor, action: EnterVoicemailPin, principal: str | None
) -> dict[str, Any]:
    node = engine.node
    probe = CheckedPin(call=action.call, device=action.device, right=False)
    if principal is not None:
        authorize(node.site, node.state, principal, probe)
    mailbox = _mailbox_of_menu(engine, action.call, action.device)
    async with _lock(engine, mailbox):
        until = node.state.voicemail.throttle(mailbox, action.device).locked_until
        if until > node.clock.now_ms():
            raise Refusal("pinLocked", "too many wrong PINs", {"lockedUntil": until})
        stored = node.state.voicemail.of(mailbox).pin_hash
        right = await asyncio.to_thread(_pin_right, stored, action.pin)
        outcome = await engine.execute(attrs.evolve(probe, right=right), principal)
    reply = _reply(node.state.seq, outcome)
    if reply["ok"] and not reply["result"]["open"]:
        throttle = node.state.voicemail.throttle(mailbox, action.device)
        details = {"failures": throttle.failures, "lockedUntil": throttle.locked_until}
        return _refused(Refusal("wrongPin", "the PIN is not right", details))
    return reply


async def _sender(
    engine: Executor,
    action: CallBackVoicemailMessage | SaveVoicemailContact,
    principal: str | None,
) -> dict[str, Any]:
    """VM-05 on a message's sender: the user's own message, then the command of call
    control or of the personal directory, which the node authorizes again."""
    node = engine.node
    probe = GetMailbox(user=action.user)
    if principal is not None:
        authorize(node.site, node.state, principal, probe)
    node.query(probe)  # noMailbox
    msg = node.state.voicemail.of(action.user).messages.get(action.message)
    if msg is None:
        raise Refusal(
            "unknownVoicemailMessage",
            f"{action.user}'s mailbox has no message {action.message}",
            {"message": action.message},
        )
    command: Command
    if isinstance(action, CallBackVoicemailMessage):
        command = MakeCall(calling=action.device or action.user, called=msg.caller)
    else:
        name = action.name or msg.caller_name or msg.caller
        command = AddContact(user=action.user, name=name, other=msg.caller)
    return _reply(node.state.seq, await engine.execute(command, principal))


def _new_pin_hash(pin: str) -> str:
    pins.check_new_pin(pin)
    return passwords.hash_password(pin)


async def _change_on_phone(
    engine: Executor, action: ChangeVoicemailPinOnPhone, principal: str | None
) -> dict[str, Any]:
    node = engine.node
    probe = CheckedPin(call=action.call, device=action.device, right=False)
    if principal is not None:
        authorize(node.site, node.state, principal, probe)
    mailbox = _mailbox_of_menu(engine, action.call, action.device)
    hashed = await asyncio.to_thread(_new_pin_hash, action.new_pin)
    # The node checks that the menu on this call is open for that mailbox.
    command = SetPinHash(user=mailbox, pin_hash=hashed, call=action.call)
    return _reply(node.state.seq, await engine.execute(command, principal))


async def _change(
    engine: Executor, action: ChangeVoicemailPin, principal: str | None, *, secure: bool
) -> dict[str, Any]:
    node = engine.node
    if principal is not None and not secure:
        raise Refusal("encryptionRequired", "a PIN is changed over an encrypted connection only")
    probe = ClientPinChecked(user=action.user, right=False)
    if principal is not None:
        authorize(node.site, node.state, principal, probe)
    pins.check_new_pin(action.new_pin)
    async with _lock(engine, action.user):
        box = node.state.voicemail.of(action.user)
        if box.pin_hash is None:
            raise Refusal(
                "defaultPinNotChanged", "the default PIN must be changed on the phone first (VM-03)"
            )
        right = await asyncio.to_thread(_pin_right, box.pin_hash, action.old_pin)
        checked = await engine.execute(attrs.evolve(probe, right=right), principal)
        if isinstance(checked, Refused):
            return _refused(checked.error)
        if not right:
            throttle = node.state.voicemail.throttle(action.user, CLIENT)
            details = {"failures": throttle.failures, "lockedUntil": throttle.locked_until}
            return _refused(Refusal("wrongPin", "the old PIN is not right", details))
        hashed = await asyncio.to_thread(passwords.hash_password, action.new_pin)
        outcome = await engine.execute(SetPinHash(user=action.user, pin_hash=hashed), principal)
    return _reply(node.state.seq, outcome)
