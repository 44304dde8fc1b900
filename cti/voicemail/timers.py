"""The voicemail's timer the node fires when its clock reaches it: the end of a message played
on a phone the system called (VM-04), when the node hangs up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from cti.kernel.messages import Command
from cti.voicemail.commands import EndPlayback

if TYPE_CHECKING:
    from cti.domain.state import NodeState


def timers(state: NodeState) -> Iterator[tuple[int, Command]]:
    for call, playback in state.voicemail.playbacks.items():
        if playback.until is not None:
            yield playback.until, EndPlayback(call=call)
