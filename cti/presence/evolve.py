"""Where a presence event changes state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cti.presence import events as ev
from cti.presence.model import Target
from cti.presence.state import PresenceState


def _changed(state: PresenceState, e: ev.PresenceChanged) -> PresenceState:
    entry = attrs.evolve(state.of(e.user), status=e.status, return_at=e.return_at, info=e.info)
    return state.with_entry(e.user, entry)


def _return_passed(state: PresenceState, e: ev.ReturnTimePassed) -> PresenceState:
    return state.with_entry(e.user, attrs.evolve(state.of(e.user), return_at=None))


def _forwarding(state: PresenceState, e: ev.PresenceForwardingSet) -> PresenceState:
    entry = state.of(e.user)
    forwarding = entry.forwarding.set(e.status, Target(e.target, e.number))
    if forwarding[e.status] == Target():  # the default is kept as no entry
        forwarding = forwarding.delete(e.status)
    return state.with_entry(e.user, attrs.evolve(entry, forwarding=forwarding))


HANDLERS: dict[type[Any], Callable[[PresenceState, Any], PresenceState]] = {
    ev.PresenceChanged: _changed,
    ev.ReturnTimePassed: _return_passed,
    ev.PresenceForwardingSet: _forwarding,
}
