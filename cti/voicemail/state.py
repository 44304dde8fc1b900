"""The voicemail part of the node state: the mailboxes, the PIN throttle, the open phone
menus and the playbacks under way (VM-01..VM-06)."""

from __future__ import annotations

import attrs
import immutables

from cti.voicemail.model import NO_MAILBOX, Mailbox, Menu, Playback, Throttle

NO_THROTTLE = Throttle()


def throttle_key(mailbox: str, caller: str) -> str:
    return f"{mailbox}|{caller}"


@attrs.frozen
class VoicemailState:
    mailboxes: immutables.Map[str, Mailbox] = attrs.field(factory=immutables.Map)
    throttles: immutables.Map[str, Throttle] = attrs.field(factory=immutables.Map)
    menus: immutables.Map[int, Menu] = attrs.field(factory=immutables.Map)  # by call
    playbacks: immutables.Map[int, Playback] = attrs.field(factory=immutables.Map)  # by call

    def of(self, user: str) -> Mailbox:
        return self.mailboxes.get(user, NO_MAILBOX)

    def menu_at(self, call: int, device: str) -> Menu | None:
        """The phone menu ``device`` is in on ``call``, if any."""
        menu = self.menus.get(call)
        return menu if menu is not None and menu.device == device else None

    def playback_at(self, call: int, device: str) -> Playback | None:
        """The playback (VM-04) on ``call`` to ``device``, if any."""
        playback = self.playbacks.get(call)
        return playback if playback is not None and playback.device == device else None

    def throttle(self, mailbox: str, caller: str) -> Throttle:
        return self.throttles.get(throttle_key(mailbox, caller), NO_THROTTLE)

    def audio_in_use(self) -> frozenset[str]:
        """The SHA-256 of every recording a message refers to (content-addressed: several
        messages may share one file)."""
        return frozenset(
            m.audio.sha256 for box in self.mailboxes.values() for m in box.messages.values()
        )

    def with_mailbox(self, user: str, box: Mailbox) -> VoicemailState:
        boxes = (
            self.mailboxes.delete(user)
            if box.is_default() and user in self.mailboxes
            else self.mailboxes
            if box.is_default()
            else self.mailboxes.set(user, box)
        )
        return attrs.evolve(self, mailboxes=boxes)
