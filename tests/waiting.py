"""Waiting for a condition that another task, thread or process makes true, with nothing to
await on (a file a node writes, a proxy's count, a broker's state): polled, and bounded, so a
test never sleeps for timing and never hangs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

TIMEOUT = 5.0  # seconds, unless a test says otherwise


async def until(
    condition: Callable[[], bool], what: str = "the condition", timeout: float = TIMEOUT
) -> None:
    """Return as soon as ``condition()`` holds; an AssertionError naming ``what`` if it does
    not within ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"not within {timeout} s: {what}") from None
