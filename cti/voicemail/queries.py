"""Queries of the voicemail context: a user's own mailbox with its folders' counts and the
details of every message (VM-02, VM-05)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import attrs

from cti.accounts.model import Licence
from cti.kernel.messages import Query
from cti.kernel.refusal import Refusal
from cti.site import Site
from cti.voicemail.commands import AudioReply, AudioResult
from cti.voicemail.model import Message, VoicemailFolder
from cti.voicemail.services import has_mailbox

if TYPE_CHECKING:
    from cti.domain.state import NodeState


class MessageDetails(TypedDict):
    message: int
    folder: VoicemailFolder
    caller: str  # the calling number as presented (internal or E.164)
    callerName: str | None
    receivedAt: int  # ms since the epoch, UTC
    durationMs: int
    length: int  # bytes of the WAV file
    sha256: str
    mailed: bool  # VM-07: the SMTP server accepted its e-mail


class MailboxResult(TypedDict):
    user: str
    new: int
    old: int
    recording: bool
    maxMessages: int
    pinIsDefault: bool
    messages: list[MessageDetails]  # newest first


@attrs.frozen(kw_only=True)
class GetMailbox(Query):
    SERVICE: ClassVar[str] = "getMailbox"
    SELF: ClassVar[str] = "user"
    LICENCE: ClassVar[Licence] = Licence.VOICEMAIL
    RESULT: ClassVar[Any] = MailboxResult
    user: str


def details(m: Message) -> MessageDetails:
    return MessageDetails(
        message=m.id,
        folder=m.folder,
        caller=m.caller,
        callerName=m.caller_name,
        receivedAt=m.received_ms,
        durationMs=m.audio.duration_ms,
        length=m.audio.length,
        sha256=m.audio.sha256,
        mailed=m.mailed,
    )


def get_mailbox(site: Site, state: NodeState, q: GetMailbox) -> MailboxResult:
    if not has_mailbox(state, site, q.user):
        raise Refusal("noMailbox", f"{q.user} has no mailbox (a user with the voicemail licence)")
    box = state.voicemail.of(q.user)
    return MailboxResult(
        user=q.user,
        new=box.count(VoicemailFolder.NEW),
        old=box.count(VoicemailFolder.OLD),
        recording=box.recording,
        maxMessages=box.max_messages,
        pinIsDefault=box.pin_hash is None,
        messages=[details(m) for _, m in sorted(box.messages.items(), reverse=True)],
    )


@attrs.frozen(kw_only=True)
class FetchVoicemailAudio(Query):
    """The audio being played to ``device`` on ``call`` (the phone menu, or the call the
    system placed for playVoicemailMessage, VM-04): the API answers exactly the stored bytes.
    Only the mailbox's owner (or an integrator: the phone; a monitor, which reads all) may
    ask; another account that controls the phone (a MULAP group's, its members' phones) is
    refused notPermitted."""

    SERVICE: ClassVar[str] = "fetchVoicemailAudio"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    ON_CALL: ClassVar[str] = "call"
    RESULT: ClassVar[Any] = AudioReply
    call: int
    device: str


def audio_owner(site: Site, state: NodeState, q: FetchVoicemailAudio) -> str | None:
    """Whose message is played to ``q.device`` on ``q.call`` (the phone menu's mailbox, or
    VM-04's playback's); None: nothing. Only that account may fetch it (cti.domain), not
    whoever else controls the phone: a MULAP group's account its members' phones (VM-02)."""
    vm = state.voicemail
    at = vm.menu_at(q.call, q.device) or vm.playback_at(q.call, q.device)
    return None if at is None else at.mailbox


def fetch_audio(site: Site, state: NodeState, q: FetchVoicemailAudio) -> AudioResult:
    vm = state.voicemail
    mailbox, message = None, None
    menu = vm.menu_at(q.call, q.device)
    playback = vm.playback_at(q.call, q.device)
    if menu is not None and menu.open:
        mailbox, message = menu.mailbox, menu.current
    elif playback is not None and playback.played:
        mailbox, message = playback.mailbox, playback.message
    msg = None if mailbox is None or message is None else vm.of(mailbox).messages.get(message)
    if msg is None:
        raise Refusal("notAtVoicemail", f"nothing is being played to {q.device} on call {q.call}")
    return AudioResult(
        message=msg.id,
        sha256=msg.audio.sha256,
        length=msg.audio.length,
        durationMs=msg.audio.duration_ms,
    )


QUERIES: dict[type[Any], Any] = {GetMailbox: get_mailbox, FetchVoicemailAudio: fetch_audio}
