"""The decision under way: a scratch state that evolves with each emitted event.

A context's service handler emits events one by one and reads the scratch state back, so
multi-step services are written as plain sequences. A refusal raises :class:`Refusal`; the
caller drops the scratch state, so nothing of a refused command survives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

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
        # Other contexts' reactions by event type (Context.reactions), set by the composition.
        self.reactions: Mapping[type[Event], Sequence[Callable[[Any, Any], None]]] = {}
        # Contexts that serve calls on devices of a kind (voicemail, conference dial-in) receive
        # the DTMF keyed towards those devices, by device kind (Context.digit_receivers).
        self.digit_receivers: Mapping[str, Callable[[Any, int, str, str, str], None]] = {}

    def emit(self, event: Event) -> None:
        self.events.append(event)
        self.state = self._evolve(self.state, event)
        # Right after the event, so a reaction reads the state it made and its own events
        # follow it in the log; a refused step (attempt) takes the reactions' events back too.
        for react in self.reactions.get(type(event), ()):
            react(self, event)

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
