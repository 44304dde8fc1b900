"""Waiting for work that runs in a thread and cannot be cancelled."""

from __future__ import annotations

import asyncio
from typing import TypeVar

T = TypeVar("T")


async def finished(work: asyncio.Future[T]) -> T:
    """The result of ``work`` (a thread's), once it is done: however often the waiter is
    cancelled meanwhile, return (or raise CancelledError) only then, so nobody closes what
    the thread uses under it (an SQLite connection closed mid-read crashes the process)."""
    interrupted = False
    while not work.done():
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            interrupted = True
    if interrupted:
        raise asyncio.CancelledError
    return work.result()  # the work's own failure, if any
