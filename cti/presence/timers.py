"""The presence timers the node fires when its clock reaches them (PRES-02): a planned return
time, recorded as a ``returnTimePassed`` event like the switch's timers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from cti.kernel.messages import Command
from cti.presence.commands import ExpireReturnTime

if TYPE_CHECKING:
    from cti.domain.state import NodeState


def timers(state: NodeState) -> Iterator[tuple[int, Command]]:
    """(due ms, the command that fires it) of every pending return time."""
    for user, entry in state.presence.users.items():
        if entry.return_at is not None:
            yield entry.return_at, ExpireReturnTime(user=user)
