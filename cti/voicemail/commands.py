"""Commands of the voicemail context (VM-01..VM-06).

A user manages their own mailbox (``SELF``: the account the command names) with the voicemail
licence (USER-05). What carries audio or a PIN arrives as a request of cti.api.voicemail,
which stores the audio or hashes/verifies the PIN where it arrives and hands the node one of
the INTERNAL commands here: no audio, no PIN ever reaches the log.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict

import attrs

from cti.accounts.model import Licence
from cti.kernel.messages import Command
from cti.voicemail.model import Audio, VoicemailFolder


class MessageIdResult(TypedDict):
    message: int


class AudioResult(TypedDict):
    """The reference of the stored audio (the API adds its bytes, base64)."""

    message: int
    sha256: str
    length: int
    durationMs: int


class AudioReply(AudioResult):
    """What a client or phone receives: the reference and the stored bytes."""

    audio: str  # base64 of the stored WAV file, exactly its bytes (added by cti.api.voicemail)


class PinResult(TypedDict):
    open: bool
    pinChangeRequired: bool


class PlaybackResult(TypedDict):
    call: int
    device: str


@attrs.frozen(kw_only=True)
class MoveVoicemailMessage(Command):
    """Move a message to the new or old folder (VM-02)."""

    SERVICE: ClassVar[str] = "moveVoicemailMessage"
    SELF: ClassVar[str] = "user"
    LICENCE: ClassVar[Licence] = Licence.VOICEMAIL
    user: str
    message: int
    folder: VoicemailFolder


@attrs.frozen(kw_only=True)
class DeleteVoicemailMessage(Command):
    SERVICE: ClassVar[str] = "deleteVoicemailMessage"
    SELF: ClassVar[str] = "user"
    LICENCE: ClassVar[Licence] = Licence.VOICEMAIL
    user: str
    message: int


@attrs.frozen(kw_only=True)
class ListenVoicemailMessage(Command):
    """A client plays a message (VM-02): the first playback moves it to old. The result is
    the audio's reference; the API adds the stored bytes."""

    SERVICE: ClassVar[str] = "listenVoicemailMessage"
    SELF: ClassVar[str] = "user"
    LICENCE: ClassVar[Licence] = Licence.VOICEMAIL
    RESULT: ClassVar[Any] = AudioReply
    user: str
    message: int


@attrs.frozen(kw_only=True)
class SetVoicemailRecording(Command):
    """VM-06: whether callers may leave a message after the greeting."""

    SERVICE: ClassVar[str] = "setVoicemailRecording"
    SELF: ClassVar[str] = "user"
    LICENCE: ClassVar[Licence] = Licence.VOICEMAIL
    user: str
    recording: bool


@attrs.frozen(kw_only=True)
class SetVoicemailMaximum(Command):
    """VM-02: the most messages a mailbox keeps (administrators)."""

    SERVICE: ClassVar[str] = "setVoicemailMaximum"
    ADMIN: ClassVar[bool] = True
    user: str
    max_messages: int


@attrs.frozen(kw_only=True)
class PlayVoicemailMessage(Command):
    """VM-04: the system calls ``device`` (default: the user's number) and plays the message
    there once it answers; only while the user's presence is office."""

    SERVICE: ClassVar[str] = "playVoicemailMessage"
    SELF: ClassVar[str] = "user"
    LICENCE: ClassVar[Licence] = Licence.VOICEMAIL
    RESULT: ClassVar[Any] = PlaybackResult
    user: str
    message: int
    device: str | None = None


@attrs.frozen(kw_only=True)
class RecordMessage(Command):
    """A caller's message, its audio stored already (cti.api.voicemail)."""

    SERVICE: ClassVar[str] = "recordMessage"
    INTERNAL: ClassVar[bool] = True
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    ON_CALL: ClassVar[str] = "call"
    RESULT: ClassVar[Any] = MessageIdResult
    call: int
    device: str
    audio: Audio


@attrs.frozen(kw_only=True)
class CheckedPin(Command):
    """The PIN keyed on ``call`` was checked against the hash where it arrived: ``right``.
    The node applies the throttle (refusing while locked) and opens the menu."""

    SERVICE: ClassVar[str] = "checkedPin"
    INTERNAL: ClassVar[bool] = True
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    ON_CALL: ClassVar[str] = "call"
    RESULT: ClassVar[Any] = PinResult
    call: int
    device: str
    right: bool


@attrs.frozen(kw_only=True)
class ClientPinChecked(Command):
    """A client's old PIN was checked (changeVoicemailPin): a wrong one counts against the
    throttle of the mailbox and the signed-in account."""

    SERVICE: ClassVar[str] = "clientPinChecked"
    INTERNAL: ClassVar[bool] = True
    SELF: ClassVar[str] = "user"
    user: str
    right: bool


@attrs.frozen(kw_only=True)
class SetPinHash(Command):
    """A new PIN, checked against the rules and hashed where it arrived. ``call``: changed in
    the phone menu on that call (the menu must be open); None: from a client (the default
    PIN must have been changed on the phone first, VM-03)."""

    SERVICE: ClassVar[str] = "setPinHash"
    INTERNAL: ClassVar[bool] = True
    SELF: ClassVar[str] = "user"
    user: str
    pin_hash: str = attrs.field(repr=False)
    call: int | None = None


@attrs.frozen(kw_only=True)
class MarkMessageMailed(Command):
    """VM-07: the SMTP server accepted the message's e-mail (the mail follower)."""

    SERVICE: ClassVar[str] = "markMessageMailed"
    INTERNAL: ClassVar[bool] = True
    user: str
    message: int
    message_id: str


@attrs.frozen(kw_only=True)
class EndPlayback(Command):
    """VM-04: the node's clock reached the end of the message played on ``call``."""

    SERVICE: ClassVar[str] = "endVoicemailPlayback"
    INTERNAL: ClassVar[bool] = True
    call: int


@attrs.frozen(kw_only=True)
class MarkMailFailed(Command):
    """VM-07: the SMTP server refused the message's e-mail for good, or for now until it was
    too old (the mail follower)."""

    SERVICE: ClassVar[str] = "markMailFailed"
    INTERNAL: ClassVar[bool] = True
    user: str
    message: int
    error: str
