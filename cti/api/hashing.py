"""The threads that hash and verify passwords (argon2id and Mosquitto's PBKDF2), apart from
asyncio's default pool.

A hash costs ~0.1 s of CPU and 64 MiB (argon2id, RFC 9106 low-memory profile) on purpose. On
the default pool it would queue in front of everything else that pool does for the node
(appending to the store, directory search, photo uploads, voicemail audio), so a burst of
password requests delayed every other user's answers. Here at most ``WORKERS`` run at once
(at most 128 MiB of argon2 memory), whatever comes in; the rest wait their turn in this pool
only. Who may queue here at all is bounded where the requests arrive (cti.api.passwords: one
password request at a time per account, none for a sender not allowed to send it).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
WORKERS: Final = 2


class HashingPool:
    """A small thread pool for password work; ``submitted`` counts the jobs it was given
    (what an operator, or a test, reads to see that a refused request cost no hash)."""

    def __init__(self, workers: int = WORKERS) -> None:
        self.workers = workers
        self.submitted = 0
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cti-hash")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        self.submitted += 1
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def executor(self) -> ThreadPoolExecutor:
        """The executor itself (tests occupy its threads to hold password work in progress)."""
        return self._executor


# One per process: the threads are created only when needed, and every node of the process
# (tests run several) shares the bound.
HASHING: Final = HashingPool()
