"""Redial list (CALL-02): the last 10 numbers each user dialled, newest first, no repeats.

A projection of ``originated`` events; the "user" is the number the call was presented from
(the MULAP number or mobility user, not the phone that happened to dial).
"""

from __future__ import annotations

from collections.abc import Iterable

from cti.domain import events as ev

REDIAL_SIZE = 10


class RedialLists:
    def __init__(self) -> None:
        self._lists: dict[str, list[str]] = {}
        self._caller: dict[int, str] = {}  # call -> presenting user, until it originates

    def apply(self, event: ev.Event) -> None:
        if isinstance(event, ev.ServiceInitiated):
            self._caller[event.call] = event.calling
        elif isinstance(event, ev.Originated):
            user = self._caller.pop(event.call, event.calling)
            numbers = self._lists.setdefault(user, [])
            if event.called in numbers:
                numbers.remove(event.called)
            numbers.insert(0, event.called)
            del numbers[REDIAL_SIZE:]
        elif isinstance(event, ev.CallCleared):
            self._caller.pop(event.call, None)

    def apply_all(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self.apply(event)

    def numbers(self, user: str) -> list[str]:
        return list(self._lists.get(user, ()))
