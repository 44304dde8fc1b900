"""Injectable time. The engine reads time only from a Clock, so tests move time by hand and
never sleep; timers are recorded as events, so a replay needs no clock at all."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...

    async def sleep_until(self, due_ms: int) -> None: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep_until(self, due_ms: int) -> None:
        await asyncio.sleep(max(0.0, (due_ms - self.now_ms()) / 1000))


class ManualClock:
    """A clock that moves only when told to; sleepers wake when ``advance`` passes their time."""

    def __init__(self, start_ms: int = 1_767_225_600_000) -> None:  # 2026-01-01T00:00Z
        self._now = start_ms
        self._changed: asyncio.Event | None = None

    def now_ms(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += round(seconds * 1000)
        if self._changed is not None:
            self._changed.set()

    async def sleep_until(self, due_ms: int) -> None:
        while self._now < due_ms:
            if self._changed is None:
                self._changed = asyncio.Event()
            self._changed.clear()
            await self._changed.wait()
