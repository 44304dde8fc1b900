"""The conference timers the node fires when its clock reaches them: the end 5 minutes after
the last moderator left (CONF-06), recorded as events like the switch's timers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from cti.conferences.commands import EndConference
from cti.kernel.messages import Command

if TYPE_CHECKING:
    from cti.domain.state import NodeState


def timers(state: NodeState) -> Iterator[tuple[int, Command]]:
    for cid, conf in state.conferences.conferences.items():
        if conf.ends_at is not None:
            yield conf.ends_at, EndConference(conference=cid)
