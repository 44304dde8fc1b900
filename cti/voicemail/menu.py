"""The voicemail's phone menu over DTMF (VM-02, PRES-05), once the PIN opened it.

- ``1``: play the oldest new message (it goes to old: ``messagePlaying``, ``messageMoved``,
  ``messageWaiting``);
- ``2``: play the next old message (after the one last played; the first again at the end);
- ``7``: delete the message last played;
- ``5`` then ``1``..``9``: set the presence (PRES-05): 1 office, 2 meeting, 3 sick, 4 break,
  5 outOfOffice, 6 vacation, 7 lunch, 8 goneHome, 9 doNotDisturb;
- ``8``, the new PIN, the new PIN again (``8135790#135790#``): change the PIN (VM-03).

Other keys are refused (``invalidParameterValue``), so the caller's phone learns the menu
does not know them; a key with nothing to do (no new message) records nothing. The PIN and
the PIN change (``8``) keyed as DTMF are taken by the API before call control
(cti.api.voicemail.keys_pin): they are checked against / hashed with argon2 outside the writer,
as ``enterVoicemailPin`` / ``changeVoicemailPinOnPhone``. There is no dial-out from the menu
(UC-LESSONS).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal
from cti.presence import services as presence
from cti.presence.commands import SetPresence
from cti.presence.model import Status
from cti.voicemail import events as ev
from cti.voicemail.model import Message, VoicemailFolder
from cti.voicemail.services import waiting

if TYPE_CHECKING:
    from cti.domain.state import NodeState

STATUSES = tuple(Status)  # the digit after 5 is the position (1 office ... 9 doNotDisturb)


def play(
    d: Decision[NodeState],
    mailbox: str,
    call: int,
    device: str,
    msg: Message,
    *,
    until: int | None = None,
) -> None:
    """``msg`` is played on ``call`` to ``device``; the first playback moves it to old.
    ``until``: when it is over and the node ends the call (VM-04's playback)."""
    d.emit(
        ev.MessagePlaying(
            mailbox=mailbox,
            message=msg.id,
            call=call,
            device=device,
            sha256=msg.audio.sha256,
            length=msg.audio.length,
            duration_ms=msg.audio.duration_ms,
            until=until,
        )
    )
    if msg.folder is VoicemailFolder.NEW:
        d.emit(ev.MessageMoved(mailbox=mailbox, message=msg.id, folder=VoicemailFolder.OLD))
        waiting(d, mailbox)


def keys(d: Decision[NodeState], call: int, device: str, digits: str) -> None:
    """``digits`` keyed by ``device`` on ``call``: what the open menu does with them."""
    menu = d.state.voicemail.menus.get(call)
    if menu is None or not menu.open or menu.device != device:
        return
    box = d.state.voicemail.of(menu.mailbox)
    ordered = sorted(box.messages.values(), key=lambda m: m.id)
    if digits == "1":
        new = [m for m in ordered if m.folder is VoicemailFolder.NEW]
        if new:
            play(d, menu.mailbox, call, device, new[0])
    elif digits == "2":
        old = [m for m in ordered if m.folder is VoicemailFolder.OLD]
        after = [m for m in old if menu.current is not None and m.id > menu.current]
        if old:
            play(d, menu.mailbox, call, device, (after or old)[0])
    elif digits == "7":
        if menu.current is not None and menu.current in box.messages:
            d.emit(ev.MessageDeleted(mailbox=menu.mailbox, message=menu.current))
            waiting(d, menu.mailbox)
    elif len(digits) == 2 and digits[0] == "5" and "1" <= digits[1] <= str(len(STATUSES)):
        status = STATUSES[int(digits[1]) - 1]
        # Refused (DND for a MULAP member, say): the keys are refused with its reason.
        presence.set_presence(d, SetPresence(user=menu.mailbox, status=status))
    else:
        # The keys are not echoed: they may be a PIN keyed once more (the reply is published).
        raise Refusal(
            "invalidParameterValue",
            f"the voicemail menu knows 1, 2, 7, 8 (a new PIN) and 51..5{len(STATUSES)}",
        )
