"""What the voicemail records as a consequence of call control's events (Context.reactions),
and what it does with DTMF keyed towards it (Context.digit_receivers).

- the voicemail answered a call (``established`` at the voicemail device): for the mailbox of
  the number the caller asked for, its greeting (``greetingPlayed``, VM-01/06/08); dialled
  straight, the menu of the number the call presents asks for the PIN (``menuEntered``), when
  that number has a mailbox;
- the phone the system called for a playback answered (VM-04): the message plays there
  (``messagePlaying``; the first playback moves it to old);
- the call ended or the caller left it: the menu closes (``menuClosed``), the playback ends
  (``playbackEnded``);
- DTMF towards the voicemail: the open menu's keys (cti.voicemail.menu). Before the PIN opened
  it, and from a caller leaving a message, keys are ignored (accepted, nothing recorded). A PIN
  keyed as DTMF (6 digits while the menu waits for it; ``8`` and the new PIN twice in the open
  menu) never gets here: the API recognises it (cti.api.voicemail.keys_pin) and checks it
  against its argon2 hash outside the writer, as ``enterVoicemailPin`` (call control records
  no digits towards the voicemail either).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cti.calls import events as calls_events
from cti.calls.values import ConnectionState
from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal
from cti.voicemail import events as ev
from cti.voicemail import menu
from cti.voicemail.services import dialled_mailbox, greeting, has_mailbox

if TYPE_CHECKING:
    from cti.domain.state import NodeState

CONNECTED = ConnectionState.CONNECTED


def established(d: Decision[NodeState], e: calls_events.Established) -> None:
    vm = d.site.voicemail
    playback = d.state.voicemail.playbacks.get(e.call)
    if playback is not None and e.answering == playback.device and not playback.played:
        msg = d.state.voicemail.of(playback.mailbox).messages.get(playback.message)
        if msg is not None:
            until = d.now_ms + msg.audio.duration_ms
            menu.play(d, playback.mailbox, e.call, playback.device, msg, until=until)
        return
    if vm is None or e.answering != vm:
        return
    call = d.state.calls.call(e.call)
    if call is None:
        return
    caller = next((p.device for p in call.parties if p.device != vm), None)
    if caller is None:
        return
    if call.called != vm:
        if call.called in d.site.devices and has_mailbox(d.state, d.site, call.called):
            greeting(d, call, caller, call.called)
        return
    user = dialled_mailbox(d.site, d.state, call, caller)  # a member phone: its line's
    if has_mailbox(d.state, d.site, user):
        d.emit(ev.MenuEntered(mailbox=user, call=e.call, device=caller))


def _ended(d: Decision[NodeState], call_id: int, device: str | None) -> None:
    """``device`` left ``call_id`` (None: the whole call cleared)."""
    vm = d.state.voicemail
    m = vm.menus.get(call_id)
    if m is not None and (device is None or device in (m.device, d.site.voicemail)):
        d.emit(ev.MenuClosed(mailbox=m.mailbox, call=call_id))
    p = vm.playbacks.get(call_id)
    if p is not None and (device is None or device in (p.device, d.site.voicemail)):
        d.emit(ev.PlaybackEnded(mailbox=p.mailbox, call=call_id))


def connection_cleared(d: Decision[NodeState], e: calls_events.ConnectionCleared) -> None:
    _ended(d, e.call, e.device)


def call_cleared(d: Decision[NodeState], e: calls_events.CallCleared) -> None:
    _ended(d, e.call, None)


def digits(d: Decision[NodeState], call: int, device: str, served: str, keyed: str) -> None:
    """DTMF ``keyed`` by ``device`` towards the voicemail ``served`` on ``call``."""
    m = d.state.voicemail.menus.get(call)
    if m is None or m.device != device or not m.open:
        # Heard by no menu (a caller leaving a message, a menu before its PIN): they mean
        # nothing and are not recorded, as a voicemail ignores keys it does not listen to.
        return
    if d.state.voicemail.of(m.mailbox).pin_hash is None:
        raise Refusal(
            "defaultPinNotChanged",
            "change the default PIN first (8, the new PIN twice; VM-03)",
        )
    menu.keys(d, call, device, keyed)


REACTIONS: dict[type[Any], Any] = {
    calls_events.Established: established,
    calls_events.ConnectionCleared: connection_cleared,
    calls_events.CallCleared: call_cleared,
}
