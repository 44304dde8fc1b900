"""Where the voicemail services are decided. Bad input is refused by name and changes nothing.

Which mailbox a call at the voicemail device is for comes from the call itself: the number the
caller asked for (``called``), however the call then reached the voicemail (forwarded,
deflected, status-forwarded, no answer); a call dialled straight to the voicemail number is the
menu of the number the call presents (:func:`dialled_mailbox`): a MULAP member phone's own line
its owner's mailbox, the group's line the group's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cti.accounts.access import controlled
from cti.accounts.model import Licence, Visibility
from cti.calls.commands import GenerateDigits
from cti.calls.decision import CallDecision
from cti.calls.routing import clear_call
from cti.calls.state import Call
from cti.calls.system import place_call
from cti.calls.values import ConnectionState
from cti.directory.callerid import resolve_caller
from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal, invalid_field
from cti.presence import view as presence
from cti.presence.model import Status
from cti.site import Site
from cti.site.model import EXTERNAL_KINDS
from cti.site.numbers import InvalidNumber
from cti.voicemail import commands as cmd
from cti.voicemail import events as ev
from cti.voicemail import pins
from cti.voicemail.greeting import greeting_text
from cti.voicemail.model import MAX_MESSAGES_LIMIT, Mailbox, Message, VoicemailFolder

if TYPE_CHECKING:
    from cti.domain.state import NodeState

MIN_MAIL_MS = 2000  # shorter messages are not mailed (UC-LESSONS: no empty messages)
CONNECTED = ConnectionState.CONNECTED

REFUSALS = frozenset(
    {
        "invalidParameterValue",
        "noMailbox",
        "notAtVoicemail",
        "unknownVoicemailMessage",
        "messageAlreadyRecorded",
        "recordingOff",
        "mailboxFull",
        "pinLocked",
        "menuNotOpen",
        "defaultPinNotChanged",
        "notInOffice",
        "notYourDevice",
        "invalidCallID",
        # raised where audio and PINs arrive (cti.api.voicemail), before the node decides
        "unusableAudio",
        "wrongPin",
        "pinPolicy",
        "pinMismatch",
        "encryptionRequired",
    }
)


def has_mailbox(state: NodeState, site: Any, user: str) -> bool:
    """A mailbox is a user's with the voicemail licence (USER-05) on a site with voicemail."""
    account = state.accounts.account(user)
    return (
        site.voicemail is not None
        and account is not None
        and Licence.VOICEMAIL in account.licences
        and presence.user_device(site, user) is not None
    )


def _mailbox(d: Decision[NodeState], user: str) -> Mailbox:
    if not has_mailbox(d.state, d.site, user):
        raise Refusal("noMailbox", f"{user} has no mailbox (a user with the voicemail licence)")
    return d.state.voicemail.of(user)


def _message(d: Decision[NodeState], user: str, message: int) -> Message:
    msg = _mailbox(d, user).messages.get(message)
    if msg is None:
        raise Refusal(
            "unknownVoicemailMessage",
            f"{user}'s mailbox has no message {message}",
            {"message": message},
        )
    return msg


def waiting(d: Decision[NodeState], user: str) -> None:
    """The counts after a change: the badge and the message-waiting lamp (VM-02)."""
    box = d.state.voicemail.of(user)
    new, old = box.count(VoicemailFolder.NEW), box.count(VoicemailFolder.OLD)
    d.emit(ev.MessageWaiting(mailbox=user, on=new > 0, new=new, old=old))


def at_voicemail(d: Decision[NodeState], call_id: int, device: str) -> tuple[Call, str | None]:
    """The call ``device`` has with the voicemail device, and the mailbox it reached the
    voicemail for (None: the voicemail number was dialled straight)."""
    vm = d.site.voicemail
    call = d.state.calls.call(call_id)
    if call is None:
        raise Refusal("invalidCallID", f"there is no call {call_id}")
    if vm is None or call.state_of(vm) is not CONNECTED or call.state_of(device) is not CONNECTED:
        raise Refusal(
            "notAtVoicemail", f"{device} is not talking to the voicemail in call {call_id}"
        )
    # The mailbox is the called user's: the number the caller asked for, whichever way the
    # call then went on to the voicemail (forwarded, deflected, status-forwarded, no answer).
    called = call.called
    return call, called if called != vm and called in d.site.devices else None


def greeting(d: Decision[NodeState], call: Call, device: str, mailbox: str) -> None:
    """The voicemail answered ``call`` for ``mailbox``: its greeting (VM-01, VM-06, VM-08)."""
    box = d.state.voicemail.of(mailbox)
    account = d.state.accounts.account(mailbox)
    name = account.display_name if account is not None else mailbox
    reason = None if box.recording else "recordingOff"
    if box.recording and box.full:
        reason = "mailboxFull"
    shown = presence.shown(d.state, mailbox)
    caller = call.calling
    dev = d.site.devices.get(device)
    internal = dev is not None and dev.kind not in EXTERNAL_KINDS
    visibility = account.profile.presence_visibility if account is not None else None
    text = greeting_text(
        name,
        status=shown.status,
        return_at=shown.return_at,
        visibility=visibility if visibility is not None else Visibility.NOT_VISIBLE,
        internal_caller=internal,
        recording=reason is None,
        reason=reason,
        zone=d.site.location.zone,
    )
    d.emit(
        ev.GreetingPlayed(
            mailbox=mailbox,
            call=call.id,
            caller=caller,
            device=device,
            text=text,
            recording=reason is None,
            reason=reason,
        )
    )


def record_message(d: Decision[NodeState], c: cmd.RecordMessage) -> None:
    call, mailbox = at_voicemail(d, c.call, c.device)
    if mailbox is None or c.device == d.site.voicemail:
        raise Refusal("noMailbox", f"call {c.call} reached the voicemail for no mailbox")
    box = _mailbox(d, mailbox)
    for msg in box.messages.values():
        if msg.call == c.call:
            if msg.audio == c.audio:  # a retry of the same message (UC-LESSONS rule 5)
                d.result = {"message": msg.id}
                return
            raise Refusal(
                "messageAlreadyRecorded",
                f"call {c.call} left message {msg.id} already",
                {"message": msg.id},
            )
    if not box.recording:
        raise Refusal("recordingOff", f"{mailbox} takes no messages (VM-06)")
    if box.full:
        raise Refusal(
            "mailboxFull",
            f"{mailbox}'s mailbox is full ({box.max_messages} messages, VM-02)",
            {"maxMessages": box.max_messages},
        )
    caller = call.calling
    account = d.state.accounts.account(mailbox)
    profile = account.profile if account is not None else None
    mail_to = (
        profile.email
        if profile is not None
        and profile.voicemail_to_email
        and profile.email
        and c.audio.duration_ms >= MIN_MAIL_MS
        else None
    )
    d.emit(
        ev.MessageRecorded(
            mailbox=mailbox,
            message=box.next_id,
            call=c.call,
            caller=caller,
            caller_name=resolve_caller(d.site, d.state, mailbox, caller),
            received_at=d.now_ms,
            sha256=c.audio.sha256,
            length=c.audio.length,
            duration_ms=c.audio.duration_ms,
            mail_to=mail_to,
        )
    )
    waiting(d, mailbox)
    d.result = {"message": box.next_id}


def presented(site: Site, call: Call, device: str) -> str:
    """The number ``device`` calls as in ``call``: the call's calling number when it is the
    device's own or one the device presents (its MULAP group on the group's line, CALL-14; its
    mobility user on the mobile, CALL-15), else the device's own number."""
    calling = call.calling
    return calling if calling == device or calling == site.shown_by(device) else device


def dialled_mailbox(site: Site, state: NodeState, call: Call, device: str) -> str:
    """The mailbox whose menu a call dialled straight to the voicemail number is for
    ``device``: the number's the call presents (:func:`presented`), so a MULAP member phone on
    its own line reaches its owner's mailbox and on the group's line the group's. A member
    phone without a mailbox of its own (a team phone: 337 in the example office) reaches the
    group's on its own line too, the only mailbox it can mean."""
    number = presented(site, call, device)
    group = site.mulap_of(device)
    if number == device and group is not None and not has_mailbox(state, site, device):
        return group
    return number


def menu_mailbox(d: Decision[NodeState], call_id: int, device: str) -> str:
    """The mailbox whose menu ``device`` is in on ``call_id``: for a call dialled straight to
    the voicemail number, that of the number it presents (:func:`dialled_mailbox`; the PIN is
    asked all the same: caller ID never opens a mailbox)."""
    call, redirected = at_voicemail(d, call_id, device)
    menu = d.state.voicemail.menus.get(call_id)
    if menu is not None and menu.device == device:
        return menu.mailbox
    if redirected is not None:
        raise Refusal("menuNotOpen", f"call {call_id} reached the voicemail to leave a message")
    user = dialled_mailbox(d.site, d.state, call, device)
    _mailbox(d, user)
    return user


def menu_owner(site: Site, state: NodeState, call_id: int, device: str) -> str | None:
    """Whose mailbox the phone menu ``device`` is in on ``call_id`` is, or the one a PIN
    keyed now enters (:func:`menu_mailbox`); None: no menu is there. Only that account may
    key its PIN or its keys, whoever else controls the phone (VM-02, VM-03)."""
    if call_id in state.voicemail.menus:
        menu = state.voicemail.menu_at(call_id, device)
        return None if menu is None else menu.mailbox
    call = state.calls.call(call_id)
    if call is None or site.voicemail is None or call.called != site.voicemail:
        return None
    return dialled_mailbox(site, state, call, device)


def pin_owner(site: Site, state: NodeState, c: cmd.CheckedPin) -> str | None:
    """The mailbox a PIN keyed on ``c.call`` opens (cti.domain: only its owner may key it)."""
    return menu_owner(site, state, c.call, c.device)


def keys_owner(site: Site, state: NodeState, c: GenerateDigits) -> str | None:
    """The mailbox whose phone menu DTMF keyed on ``c.call`` reaches: its keys play, delete
    and set the presence (cti.voicemail.menu); only its owner may key them. None: no menu."""
    menu = state.voicemail.menu_at(c.call, c.device)
    return None if menu is None else menu.mailbox


def _menu_of(d: Decision[NodeState], call_id: int, device: str) -> str:
    """The mailbox of the menu on ``call_id``; entered now if the call just reached it."""
    user = menu_mailbox(d, call_id, device)
    if call_id not in d.state.voicemail.menus:
        d.emit(ev.MenuEntered(mailbox=user, call=call_id, device=device))
    return user


def checked_pin(d: Decision[NodeState], c: cmd.CheckedPin) -> None:
    mailbox = _menu_of(d, c.call, c.device)
    _unlocked(d, mailbox, c.device)
    if c.right:
        box = d.state.voicemail.of(mailbox)
        change = box.pin_hash is None
        d.emit(
            ev.MailboxOpened(
                mailbox=mailbox, call=c.call, device=c.device, pin_change_required=change
            )
        )
        d.result = {"open": True, "pinChangeRequired": change}
        return
    _wrong(d, mailbox, c.device)
    d.result = {"open": False, "pinChangeRequired": False}


def _unlocked(d: Decision[NodeState], mailbox: str, caller: str) -> None:
    until = d.state.voicemail.throttle(mailbox, caller).locked_until
    if until > d.now_ms:
        raise Refusal(
            "pinLocked",
            f"too many wrong PINs: try again after {until} (ms UTC)",
            {"lockedUntil": until},
        )


def _wrong(d: Decision[NodeState], mailbox: str, caller: str) -> None:
    failures = d.state.voicemail.throttle(mailbox, caller).failures + 1
    lock = pins.lock_ms(failures)
    d.emit(
        ev.PinRejected(
            mailbox=mailbox,
            caller=caller,
            failures=failures,
            locked_until=d.now_ms + lock if lock else 0,
        )
    )


def client_pin_checked(d: Decision[NodeState], c: cmd.ClientPinChecked) -> None:
    _mailbox(d, c.user)
    _unlocked(d, c.user, CLIENT)
    if not c.right:
        _wrong(d, c.user, CLIENT)
    d.result = {"open": c.right, "pinChangeRequired": False}


CLIENT = "client"  # the throttle's caller for PINs given by a client (changeVoicemailPin)


def set_pin_hash(d: Decision[NodeState], c: cmd.SetPinHash) -> None:
    box = _mailbox(d, c.user)
    if c.call is not None:
        menu = d.state.voicemail.menus.get(c.call)
        if menu is None or not menu.open or menu.mailbox != c.user:
            raise Refusal("menuNotOpen", "the PIN is changed in the open menu (give the PIN)")
    elif box.pin_hash is None:
        raise Refusal(
            "defaultPinNotChanged",
            "the default PIN must be changed on the phone first (VM-03)",
        )
    d.emit(ev.VoicemailPinSet(mailbox=c.user, pin_hash=c.pin_hash, on_phone=c.call is not None))


def listen(d: Decision[NodeState], c: cmd.ListenVoicemailMessage) -> None:
    msg = _message(d, c.user, c.message)
    if msg.folder is VoicemailFolder.NEW:
        d.emit(ev.MessageMoved(mailbox=c.user, message=msg.id, folder=VoicemailFolder.OLD))
        waiting(d, c.user)
    d.result = {
        "message": msg.id,
        "sha256": msg.audio.sha256,
        "length": msg.audio.length,
        "durationMs": msg.audio.duration_ms,
    }


def move(d: Decision[NodeState], c: cmd.MoveVoicemailMessage) -> None:
    msg = _message(d, c.user, c.message)
    if msg.folder is not c.folder:
        d.emit(ev.MessageMoved(mailbox=c.user, message=msg.id, folder=c.folder))
        waiting(d, c.user)


def delete(d: Decision[NodeState], c: cmd.DeleteVoicemailMessage) -> None:
    msg = _message(d, c.user, c.message)
    d.emit(ev.MessageDeleted(mailbox=c.user, message=msg.id))
    waiting(d, c.user)


def _settings(d: Decision[NodeState], user: str, recording: bool, maximum: int) -> None:
    box = _mailbox(d, user)
    if (box.recording, box.max_messages) != (recording, maximum):
        d.emit(ev.VoicemailSettingsSet(mailbox=user, recording=recording, max_messages=maximum))


def set_recording(d: Decision[NodeState], c: cmd.SetVoicemailRecording) -> None:
    _settings(d, c.user, c.recording, _mailbox(d, c.user).max_messages)


def set_maximum(d: Decision[NodeState], c: cmd.SetVoicemailMaximum) -> None:
    if not 1 <= c.max_messages <= MAX_MESSAGES_LIMIT:
        raise invalid_field(
            "maxMessages", "outOfRange", f"maxMessages: from 1 to {MAX_MESSAGES_LIMIT}"
        )
    _settings(d, c.user, _mailbox(d, c.user).recording, c.max_messages)


def mark_mailed(d: Decision[NodeState], c: cmd.MarkMessageMailed) -> None:
    msg = d.state.voicemail.of(c.user).messages.get(c.message)
    if msg is not None and not msg.mailed:
        d.emit(ev.MessageMailed(mailbox=c.user, message=c.message, message_id=c.message_id))


def mark_mail_failed(d: Decision[NodeState], c: cmd.MarkMailFailed) -> None:
    msg = d.state.voicemail.of(c.user).messages.get(c.message)
    if msg is not None and not msg.mailed and msg.mail_to is not None:
        d.emit(ev.MessageMailFailed(mailbox=c.user, message=c.message, error=c.error[:200]))


def office_only(d: Decision[NodeState], user: str) -> None:
    status = presence.shown(d.state, user).status
    if status is not Status.OFFICE:
        raise Refusal(
            "notInOffice",
            f"a message is played on a phone only while {user} is in the office (VM-04)",
            {"status": status.value},
        )


def forget_user(d: Decision[NodeState], user: str) -> None:
    """An account is being removed (removeAccount): its mailbox goes with it, in the same
    decision (no message of the departed person reaches whoever gets the number next). The
    recordings' files are removed by the sweep after the commit (cti.voicemail.audio_sweep)."""
    vm = d.state.voicemail
    if (
        user in vm.mailboxes
        or any(k.startswith(user + "|") for k in vm.throttles)
        or any(m.mailbox == user for m in vm.menus.values())
        or any(p.mailbox == user for p in vm.playbacks.values())
    ):
        d.emit(ev.MailboxRemoved(mailbox=user))


def play_message(d: Decision[NodeState], c: cmd.PlayVoicemailMessage) -> None:
    """VM-04: the system calls ``device`` (default: the user's number) from the voicemail and
    plays the message once it answers; office only. ``device``: one of the user's own
    devices, or a number configured in their profile (USER-03: mobile, external)."""
    msg = _message(d, c.user, c.message)
    office_only(d, c.user)
    device = c.device or c.user
    account = d.state.accounts.account(c.user)
    own = set(controlled(d.site, account)) if account is not None else set()
    if account is not None:
        own |= {n for n in (account.profile.mobile, account.profile.external) if n}
    try:
        target = d.site.plan.resolve(device).number
    except InvalidNumber:
        target = device
    if device not in own and target not in own:
        raise Refusal(
            "notYourDevice",
            f"{c.user} may have a message played on their own devices and profile numbers only",
            {"device": device, "yours": sorted(own)},
        )
    vm = d.site.voicemail
    assert vm is not None  # a mailbox needs one (has_mailbox)
    call = place_call(d, vm, device)
    dest = d.state.calls.call(call)
    called = dest.called if dest is not None else device
    d.emit(ev.PlaybackCalling(mailbox=c.user, message=msg.id, call=call, device=called))
    d.result = {"call": call, "device": called}


def end_playback(d: CallDecision, c: cmd.EndPlayback) -> None:
    """VM-04: the message is over, the node hangs up the call it placed (``callCleared``;
    the playback ends with it, ``playbackEnded``). Records nothing when stale: the call
    ended already, or the clock is not there yet."""
    playback = d.state.voicemail.playbacks.get(c.call)
    if playback is None or playback.until is None or playback.until > d.now_ms:
        return
    call = d.state.calls.call(c.call)
    if call is not None:
        clear_call(d, call)


SERVICES: dict[type[Any], Any] = {
    cmd.PlayVoicemailMessage: play_message,
    cmd.RecordMessage: record_message,
    cmd.CheckedPin: checked_pin,
    cmd.ClientPinChecked: client_pin_checked,
    cmd.SetPinHash: set_pin_hash,
    cmd.ListenVoicemailMessage: listen,
    cmd.MoveVoicemailMessage: move,
    cmd.DeleteVoicemailMessage: delete,
    cmd.SetVoicemailRecording: set_recording,
    cmd.SetVoicemailMaximum: set_maximum,
    cmd.MarkMessageMailed: mark_mailed,
    cmd.MarkMailFailed: mark_mail_failed,
    cmd.EndPlayback: end_playback,
}
