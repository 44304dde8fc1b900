"""The asyncio face of a node: one writer task serialises every command (so ``seq`` is
gap-free and totally ordered), batches whatever queued up while the previous batch was being
made durable (group commit), and a timer task turns due switch timers into commands."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

import structlog

from cti.app.node import Node, Outcome, Refused
from cti.calls import commands as cmd
from cti.calls.errors import CstaError
from cti.store import StoreError

log = structlog.get_logger(__name__)
_STOP: Final = None  # queued by stop(): the writer finishes what is before it, then returns
_Item = tuple[cmd.Command, "asyncio.Future[Outcome]"] | None


class Engine:
    def __init__(self, node: Node, *, max_batch: int = 1000) -> None:
        self.node = node
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._writer(), name="cti-writer"),
            asyncio.create_task(self._timers(), name="cti-timers"),
        ]

    async def stop(self) -> None:
        """Finish the batch being committed, refuse what is still queued, then stop."""
        writer = next((t for t in self._tasks if t.get_name() == "cti-writer"), None)
        for task in self._tasks:
            if task is not writer:
                task.cancel()
        if writer is not None and not writer.done():
            self._stopping = True
            await self._queue.put(_STOP)
            await asyncio.gather(writer, return_exceptions=True)
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._stopping = False
        self._refuse_queued()

    def _refuse_queued(self) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not _STOP and not item[1].done():
                item[1].set_result(Refused(CstaError("resourceOutOfService", "node stopping")))

    async def execute(self, command: cmd.Command) -> Outcome:
        """Run a command; returns once its events are durable (or it was refused)."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        if not self._tasks or self._stopping:
            return Refused(CstaError("resourceOutOfService", "node not running"))
        await self._queue.put((command, future))
        return await future

    async def _writer(self) -> None:
        while True:
            first = await self._queue.get()
            if first is _STOP:
                return
            items = [first]
            while len(items) < self.max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is _STOP:
                    await self._queue.put(_STOP)  # after this batch
                    break
                items.append(item)
            batch = self.node.prepare([c for c, _ in items])
            failure: StoreError | None = None
            try:
                # The fsync runs off the loop; commands arriving meanwhile form the next batch.
                await asyncio.to_thread(self.node.append, batch)
            except StoreError as exc:
                failure = exc
            outcomes = self.node.commit(batch, failure)
            for (_, future), outcome in zip(items, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)

    async def _timers(self) -> None:
        clock, feed = self.node.clock, self.node.feed
        while True:
            seen = feed.last_seq
            for fire in self.node.due_timers():
                await self.execute(fire)
            due = self.node.next_timer_ms()
            # Any commit may move the next deadline (a timer set or cleared): wake on either.
            waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(feed.wait_beyond(seen))]
            if due is not None:
                waiters.append(asyncio.ensure_future(clock.sleep_until(due)))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
