"""How many of an account's costly requests of one kind (password hashing, replay pages) may
be in progress at once: more are refused at once (``resourceBusy``), not queued, so one
account cannot occupy the threads that do that work for everyone."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


class PerAccount:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[str, int] = {}

    @contextlib.contextmanager
    def slot(self, account: str, busy: Callable[[int], Exception]) -> Iterator[None]:
        """Hold one of ``account``'s slots while the block runs; ``busy(held)`` is raised
        instead when all ``limit`` are held."""
        held = self._held.get(account, 0)
        if held >= self.limit:
            raise busy(held)
        self._held[account] = held + 1
        try:
            yield
        finally:
            left = self._held.pop(account) - 1
            if left:
                self._held[account] = left
