"""The test client's waits (tests/mqtt/conftest.py) never lose a cancellation.

On Python 3.11, ``asyncio.wait_for`` returns the awaited result instead of raising when its
task is cancelled in the same loop iteration as the awaited thing completes (CPython fixed it
in 3.12 by building ``wait_for`` on ``asyncio.timeout``). A load worker of
test_hot_standby.py, cancelled while a reply arrived, missed its cancel and made requests
forever: the intermittent hang after the SIGKILL. These tests deliver a reply and cancel the
waiter in one iteration: a cancel that was accepted (``cancel()`` returned True) must end the
waiter cancelled. With the waits on ``asyncio.wait_for`` they fail on 3.11.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.mqtt.conftest import CtiClient, Msg, Server


async def deliver_and_cancel(
    waiter: asyncio.Task[Any], deliver: Callable[[], Awaitable[None]]
) -> None:
    """Let ``waiter`` suspend, run ``deliver`` (it notifies), give the loop one
    step, then cancel ``waiter``; it must not swallow an accepted cancel."""
    await asyncio.sleep(0)  # the waiter is now suspended in its wait
    await deliver()
    await asyncio.sleep(0)  # whatever the notify woke has run one step
    accepted = waiter.cancel()
    if accepted:
        with pytest.raises(asyncio.CancelledError):
            await waiter
    else:  # it had already finished: nothing to lose
        assert waiter.done() and not waiter.cancelled()


async def test_a_reply_arriving_with_the_cancel_does_not_swallow_it() -> None:
    client = CtiClient("127.0.0.1", 1)  # never connected: only its bookkeeping is used
    corr = b"c1"

    async def arrive() -> None:
        async with client._changed:
            client.replies[corr] = Msg(client.inbox, b"{}", False, corr)
            client._changed.notify_all()

    waiter = asyncio.create_task(client.reply(corr, timeout=10))
    await deliver_and_cancel(waiter, arrive)


async def test_a_message_arriving_with_the_cancel_does_not_swallow_it() -> None:
    client = CtiClient("127.0.0.1", 1)

    async def arrive() -> None:
        async with client._changed:
            client.messages.append(Msg("cti/node1/status", b"{}", True, None))
            client._changed.notify_all()

    waiter = asyncio.create_task(client.wait_for("cti/node1/status", timeout=10))
    await deliver_and_cancel(waiter, arrive)


async def test_a_line_arriving_with_the_cancel_does_not_swallow_it() -> None:
    server = Server("--help")  # never started: only its line bookkeeping is used

    async def arrive() -> None:
        async with server._changed:
            server.lines.append("hot standby: took over")
            server._changed.notify_all()

    waiter = asyncio.create_task(server.wait_line(lambda line: "took over" in line, timeout=10))
    await deliver_and_cancel(waiter, arrive)


async def test_the_waits_still_time_out() -> None:
    client = CtiClient("127.0.0.1", 1)
    with pytest.raises(TimeoutError):
        await client.reply(b"never", timeout=0.01)
    with pytest.raises(AssertionError, match="nothing on cti/node1/status matched"):
        await client.wait_for("cti/node1/status", timeout=0.01)
