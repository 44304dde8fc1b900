"""Voicemail values: folders, the stored audio's reference, messages, mailboxes (VM-01/02/06)."""

from __future__ import annotations

from enum import StrEnum

import attrs
import immutables

DEFAULT_MAX_MESSAGES = 50  # per mailbox (VM-02); an administrator may set another
MAX_MESSAGES_LIMIT = 500


class VoicemailFolder(StrEnum):
    """VM-02: a message is new until it is first played, then old."""

    NEW = "new"
    OLD = "old"


@attrs.frozen
class Audio:
    """A stored recording: the SHA-256 of the WAV file's bytes (its name in the data
    directory), its length in bytes and its duration. The bytes are never in the log."""

    sha256: str
    length: int
    duration_ms: int


@attrs.frozen
class Message:
    id: int  # per mailbox, assigned by the node in order (never reused)
    call: int  # the call that left it (one message per call)
    caller: str  # the calling number as presented (internal or E.164)
    received_ms: int
    audio: Audio
    folder: VoicemailFolder = VoicemailFolder.NEW
    caller_name: str | None = None  # as the mailbox's owner knows the caller (DIR-06)
    mail_to: str | None = None  # VM-07: to be mailed there (decided when recorded)
    mailed: bool = False  # the SMTP server accepted its e-mail (messageMailed)


@attrs.frozen
class Mailbox:
    """A user's mailbox. ``pin_hash`` None: the PIN is still the default 123456 (VM-03)."""

    messages: immutables.Map[int, Message] = attrs.field(factory=immutables.Map)
    next_id: int = 1
    recording: bool = True  # VM-06: callers may leave a message after the greeting
    max_messages: int = DEFAULT_MAX_MESSAGES
    pin_hash: str | None = attrs.field(default=None, repr=False)

    def count(self, folder: VoicemailFolder) -> int:
        return sum(1 for m in self.messages.values() if m.folder is folder)

    @property
    def full(self) -> bool:
        return len(self.messages) >= self.max_messages

    def is_default(self) -> bool:
        return self == NO_MAILBOX


NO_MAILBOX = Mailbox()


@attrs.frozen
class Throttle:
    """Wrong PINs in a row for one mailbox and one caller (VM-03, UC-LESSONS rule 6)."""

    failures: int = 0
    locked_until: int = 0  # ms UTC; 0: not locked


@attrs.frozen
class Menu:
    """A caller in the voicemail's phone menu (DTMF) on ``call``: which mailbox, whether the
    PIN was given, and the message being listened to."""

    mailbox: str
    device: str  # the caller's device in the call
    open: bool = False  # the PIN was right
    current: int | None = None  # the message id the menu is at


@attrs.frozen
class Playback:
    """VM-04: the system called ``device`` to play ``message`` of ``mailbox`` there."""

    mailbox: str
    message: int
    device: str
    played: bool = False
    until: int | None = None  # when the message is over: the node ends the call (ms UTC)
