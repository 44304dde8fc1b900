"""Where a voicemail event changes state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import immutables

from cti.voicemail import events as ev
from cti.voicemail.model import Mailbox, Menu, Message, Playback, Throttle
from cti.voicemail.state import VoicemailState, throttle_key


def _put(box: Mailbox, msg: Message) -> Mailbox:
    return attrs.evolve(box, messages=box.messages.set(msg.id, msg))


def _same(state: VoicemailState, e: Any) -> VoicemailState:
    return state


def _recorded(state: VoicemailState, e: ev.MessageRecorded) -> VoicemailState:
    box = state.of(e.mailbox)
    msg = Message(
        id=e.message,
        call=e.call,
        caller=e.caller,
        received_ms=e.received_at,
        audio=ev.audio_of(e),
        caller_name=e.caller_name,
        mail_to=e.mail_to,
    )
    box = attrs.evolve(
        box, messages=box.messages.set(e.message, msg), next_id=max(box.next_id, e.message + 1)
    )
    return state.with_mailbox(e.mailbox, box)


def _moved(state: VoicemailState, e: ev.MessageMoved) -> VoicemailState:
    box = state.of(e.mailbox)
    msg = attrs.evolve(box.messages[e.message], folder=e.folder)
    return state.with_mailbox(e.mailbox, _put(box, msg))


def _deleted(state: VoicemailState, e: ev.MessageDeleted) -> VoicemailState:
    box = state.of(e.mailbox)
    menus = state.menus
    for call, menu in state.menus.items():
        if menu.mailbox == e.mailbox and menu.current == e.message:
            menus = menus.set(call, attrs.evolve(menu, current=None))
    state = attrs.evolve(state, menus=menus)
    return state.with_mailbox(e.mailbox, attrs.evolve(box, messages=box.messages.delete(e.message)))


def _settings(state: VoicemailState, e: ev.VoicemailSettingsSet) -> VoicemailState:
    box = attrs.evolve(state.of(e.mailbox), recording=e.recording, max_messages=e.max_messages)
    return state.with_mailbox(e.mailbox, box)


def _pin(state: VoicemailState, e: ev.VoicemailPinSet) -> VoicemailState:
    return state.with_mailbox(e.mailbox, attrs.evolve(state.of(e.mailbox), pin_hash=e.pin_hash))


def _rejected(state: VoicemailState, e: ev.PinRejected) -> VoicemailState:
    key = throttle_key(e.mailbox, e.caller)
    return attrs.evolve(
        state, throttles=state.throttles.set(key, Throttle(e.failures, e.locked_until))
    )


def _entered(state: VoicemailState, e: ev.MenuEntered) -> VoicemailState:
    return attrs.evolve(state, menus=state.menus.set(e.call, Menu(e.mailbox, e.device)))


def _opened(state: VoicemailState, e: ev.MailboxOpened) -> VoicemailState:
    key = throttle_key(e.mailbox, e.device)
    throttles = state.throttles.delete(key) if key in state.throttles else state.throttles
    return attrs.evolve(
        state,
        menus=state.menus.set(e.call, Menu(e.mailbox, e.device, open=True)),
        throttles=throttles,
    )


def _closed(state: VoicemailState, e: ev.MenuClosed) -> VoicemailState:
    menus = state.menus.delete(e.call) if e.call in state.menus else state.menus
    return attrs.evolve(state, menus=menus)


def _playing(state: VoicemailState, e: ev.MessagePlaying) -> VoicemailState:
    if e.call in state.menus:
        menu = attrs.evolve(state.menus[e.call], current=e.message)
        return attrs.evolve(state, menus=state.menus.set(e.call, menu))
    if e.call in state.playbacks:
        playback = attrs.evolve(state.playbacks[e.call], played=True, until=e.until)
        return attrs.evolve(state, playbacks=state.playbacks.set(e.call, playback))
    return state


def _calling(state: VoicemailState, e: ev.PlaybackCalling) -> VoicemailState:
    playback = Playback(e.mailbox, e.message, e.device)
    return attrs.evolve(state, playbacks=state.playbacks.set(e.call, playback))


def _ended(state: VoicemailState, e: ev.PlaybackEnded) -> VoicemailState:
    playbacks = state.playbacks.delete(e.call) if e.call in state.playbacks else state.playbacks
    return attrs.evolve(state, playbacks=playbacks)


def _mailed(state: VoicemailState, e: ev.MessageMailed) -> VoicemailState:
    box = state.of(e.mailbox)
    msg = box.messages.get(e.message)
    if msg is None:  # deleted while its e-mail was on the way
        return state
    msg = attrs.evolve(msg, mailed=True)
    return state.with_mailbox(e.mailbox, _put(box, msg))


def _mail_failed(state: VoicemailState, e: ev.MessageMailFailed) -> VoicemailState:
    box = state.of(e.mailbox)
    msg = box.messages.get(e.message)
    if msg is None:
        return state
    return state.with_mailbox(e.mailbox, _put(box, attrs.evolve(msg, mail_to=None)))


def _removed(state: VoicemailState, e: ev.MailboxRemoved) -> VoicemailState:
    prefix = e.mailbox + "|"
    return attrs.evolve(
        state,
        mailboxes=state.mailboxes.delete(e.mailbox),
        throttles=immutables.Map(
            {k: t for k, t in state.throttles.items() if not k.startswith(prefix)}
        ),
        menus=immutables.Map({c: m for c, m in state.menus.items() if m.mailbox != e.mailbox}),
        playbacks=immutables.Map(
            {c: p for c, p in state.playbacks.items() if p.mailbox != e.mailbox}
        ),
    )


HANDLERS: dict[type[Any], Callable[[VoicemailState, Any], VoicemailState]] = {
    ev.GreetingPlayed: _same,
    ev.MessageRecorded: _recorded,
    ev.MessageMoved: _moved,
    ev.MessageDeleted: _deleted,
    ev.MessageWaiting: _same,
    ev.VoicemailSettingsSet: _settings,
    ev.VoicemailPinSet: _pin,
    ev.PinRejected: _rejected,
    ev.MailboxOpened: _opened,
    ev.MenuEntered: _entered,
    ev.MenuClosed: _closed,
    ev.MessagePlaying: _playing,
    ev.PlaybackCalling: _calling,
    ev.PlaybackEnded: _ended,
    ev.MessageMailed: _mailed,
    ev.MessageMailFailed: _mail_failed,
    ev.MailboxRemoved: _removed,
}
