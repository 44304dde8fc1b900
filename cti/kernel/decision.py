"""The decision under way: a scratch state that evolves with each emitted event.

A context's service handler emits events one by one and reads the scratch state back, so
multi-step services are written as plain sequences. A refusal raises :class:`Refusal`; the
caller drops the scratch state, so nothing of a refused command survives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from cti.kernel.messages import Event
from cti.kernel.refusal import Refusal
from cti.site import Site

S = TypeVar("S")
Result = Mapping[str, object]


class Decision(Generic[S]):
    def __init__(self, site: Site, state: S, now_ms: int, evolve: Callable[[S, Event], S]) -> None:
        self.site = site
        self.state = state
        self.now_ms = now_ms
        self.events: list[Event] = []
        self.result: Result = {}
        self._evolve = evolve

    def emit(self, event: Event) -> None:
        self.events.append(event)
        self.state = self._evolve(self.state, event)

    def attempt(self, step: Callable[[], None]) -> bool:
        """Run ``step``; if it refuses, undo what it emitted and report False."""
        state, count = self.state, len(self.events)
        try:
            step()
        except Refusal:
            self.state = state
            del self.events[count:]
            return False
        return True
