"""Events of the voicemail context: facts in the log. Each names the mailbox (its owner's
number, ``OWNER``): it reaches the owner's own event topic (``users/{user}/events``, which only
the owner reads, VM-02), never the topic of the phone of that number, which a MULAP group or a
shared phone lets other accounts read. The greeting also reaches the caller's device, a message
played also the phone it plays on (``device``, when not the owner's number). No PIN is ever in
one: ``voicemailPinSet`` carries the argon2id hash and is INTERNAL (recorded and replayed,
never published)."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from cti.kernel.messages import Event
from cti.voicemail.model import Audio, VoicemailFolder


@attrs.frozen(kw_only=True)
class MailboxEvent(Event):
    OWNER: ClassVar[str] = "mailbox"
    # A field naming the device that hears it (the caller a greeting is played to, the phone
    # a message plays on): that device's topic carries it too, unless it is the owner's number.
    HEARD_BY: ClassVar[str | None] = None
    mailbox: str  # the owner's internal number

    def devices(self) -> tuple[str, ...]:
        heard = None if self.HEARD_BY is None else getattr(self, self.HEARD_BY)
        return (self.mailbox,) if heard in (None, self.mailbox) else (self.mailbox, heard)


@attrs.frozen(kw_only=True)
class GreetingPlayed(MailboxEvent):
    """The voicemail answered ``call`` for ``mailbox`` and played its greeting (VM-01, VM-08):
    ``text`` is what was said, with the owner's absence and return time when the caller is
    within their visibility (PRES-04). ``recording``: a message may be left now; if not,
    ``reason`` says why (``recordingOff`` VM-06, ``mailboxFull`` VM-02)."""

    KIND: ClassVar[str] = "greetingPlayed"
    HEARD_BY: ClassVar[str] = "device"
    call: int
    caller: str  # the calling number as presented
    device: str  # the caller's device in the call (who hears it)
    text: str
    recording: bool
    reason: str | None = None


@attrs.frozen(kw_only=True)
class MessageRecorded(MailboxEvent):
    """A caller left a message (VM-01): the WAV is stored (content-addressed, fsynced)
    before this event is committed; ``audio`` is its reference."""

    KIND: ClassVar[str] = "messageRecorded"
    message: int
    call: int
    caller: str
    caller_name: str | None = None
    received_at: int  # ms since the epoch, UTC
    # The stored WAV file: its SHA-256 (hex, its name in the data directory), bytes, duration.
    sha256: str
    length: int
    duration_ms: int
    # VM-07: where it is to be mailed, decided when it was recorded (the owner's profile
    # then); None: not mailed (off, no address, or shorter than MIN_MAIL_MS).
    mail_to: str | None = None


@attrs.frozen(kw_only=True)
class MessageMoved(MailboxEvent):
    """A message went to another folder (VM-02): first playback moves it to old."""

    KIND: ClassVar[str] = "messageMoved"
    message: int
    folder: VoicemailFolder


@attrs.frozen(kw_only=True)
class MessageDeleted(MailboxEvent):
    KIND: ClassVar[str] = "messageDeleted"
    message: int


@attrs.frozen(kw_only=True)
class MessageWaiting(MailboxEvent):
    """The mailbox's counts after a change (VM-02): ``new`` is the UI's badge and ``on``
    the phone's message-waiting lamp. One truth: derived from the folders in the same
    decision that changed them, whichever client (or the phone menu) changed them."""

    KIND: ClassVar[str] = "messageWaiting"
    on: bool
    new: int
    old: int


@attrs.frozen(kw_only=True)
class VoicemailSettingsSet(MailboxEvent):
    """VM-06 recording on/off; the mailbox's maximum number of messages (VM-02)."""

    KIND: ClassVar[str] = "voicemailSettingsSet"
    recording: bool
    max_messages: int


@attrs.frozen(kw_only=True)
class VoicemailPinSet(MailboxEvent):
    """The PIN changed (VM-03); only its argon2id hash is kept."""

    KIND: ClassVar[str] = "voicemailPinSet"
    INTERNAL: ClassVar[bool] = True
    pin_hash: str = attrs.field(repr=False)
    on_phone: bool  # changed in the phone menu (the first change must be)


@attrs.frozen(kw_only=True)
class PinRejected(MailboxEvent):
    """A wrong PIN (VM-03): ``failures`` in a row from ``caller``; locked until
    ``locked_until`` (ms UTC, 0: not locked)."""

    KIND: ClassVar[str] = "pinRejected"
    caller: str
    failures: int
    locked_until: int


@attrs.frozen(kw_only=True)
class MailboxOpened(MailboxEvent):
    """The right PIN was given in the phone menu on ``call``: the caller's wrong PINs are
    forgotten and the menu is open. ``pinChangeRequired``: the PIN is still the default."""

    KIND: ClassVar[str] = "mailboxOpened"
    call: int
    device: str
    pin_change_required: bool


@attrs.frozen(kw_only=True)
class MenuEntered(MailboxEvent):
    """The mailbox's owner called the voicemail number: the menu asks for the PIN."""

    KIND: ClassVar[str] = "menuEntered"
    call: int
    device: str


@attrs.frozen(kw_only=True)
class MenuClosed(MailboxEvent):
    """The menu's call ended (or the caller left it)."""

    KIND: ClassVar[str] = "menuClosed"
    INTERNAL: ClassVar[bool] = True
    call: int


@attrs.frozen(kw_only=True)
class MessagePlaying(MailboxEvent):
    """The message is played on ``call`` to ``device``: in the phone menu, or on the phone
    the system called for playMessage (VM-04). The device fetches exactly the stored bytes
    (``fetchVoicemailAudio``)."""

    KIND: ClassVar[str] = "messagePlaying"
    HEARD_BY: ClassVar[str] = "device"
    VERSION: ClassVar[int] = 2  # 2: until (VM-04's playback ends when the message is over)
    message: int
    call: int
    device: str
    sha256: str
    length: int
    duration_ms: int
    # VM-04: when the message is over (ms UTC), the node ends the call it placed for it;
    # None in the phone menu (the caller goes on with the menu), and in version 1.
    until: int | None = None


@attrs.frozen(kw_only=True)
class PlaybackCalling(MailboxEvent):
    """VM-04: the system is calling ``device`` (``call``) to play ``message`` there."""

    KIND: ClassVar[str] = "playbackCalling"
    message: int
    call: int
    device: str


@attrs.frozen(kw_only=True)
class PlaybackEnded(MailboxEvent):
    KIND: ClassVar[str] = "playbackEnded"
    INTERNAL: ClassVar[bool] = True
    call: int


@attrs.frozen(kw_only=True)
class MessageMailed(MailboxEvent):
    """VM-07: the SMTP server accepted the message's e-mail (``messageId`` its Message-ID)."""

    KIND: ClassVar[str] = "messageMailed"
    message: int
    message_id: str


@attrs.frozen(kw_only=True)
class MessageMailFailed(MailboxEvent):
    """VM-07: the SMTP server refused the message's e-mail for good (a 5xx reply, three times),
    or for now until it was ``max_age`` old (a 4xx): it is not mailed; ``error`` is the
    server's last reply. Shown to the owner, never silent."""

    KIND: ClassVar[str] = "messageMailFailed"
    message: int
    error: str


@attrs.frozen(kw_only=True)
class MailboxRemoved(MailboxEvent):
    """The owner's account was removed: the mailbox goes with it (its messages, settings, PIN
    and throttle), so a new account of the number starts with an empty one."""

    KIND: ClassVar[str] = "mailboxRemoved"


def message_playing_v1(fields: dict[str, Any]) -> dict[str, Any]:
    """v1 had no ``until``: the user hung up a playback, the node never did."""
    return {**fields, "until": None}


UPCASTERS = {("messagePlaying", 1): message_playing_v1}


def audio_of(e: MessageRecorded | MessagePlaying) -> Audio:
    return Audio(e.sha256, e.length, e.duration_ms)


EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        GreetingPlayed,
        MessageRecorded,
        MessageMoved,
        MessageDeleted,
        MessageWaiting,
        VoicemailSettingsSet,
        VoicemailPinSet,
        PinRejected,
        MailboxOpened,
        MenuEntered,
        MenuClosed,
        MessagePlaying,
        PlaybackCalling,
        PlaybackEnded,
        MessageMailed,
        MessageMailFailed,
        MailboxRemoved,
    )
}
