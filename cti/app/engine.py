"""The asyncio face of a node: one writer task serialises every command (so ``seq`` is
gap-free and totally ordered), batches whatever queued up while the previous batch was being
made durable (group commit), and a timer task turns due switch timers into commands.

A bug that ends either task is not survivable in place (the writer's state is in doubt): it is
logged, every waiting command is refused, new ones too, and ``failed`` resolves so that the
process exits non-zero and its supervisor restarts it; the log makes the restart exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

import structlog

from cti.app.node import Node, Outcome, Refused
from cti.calls import commands as cmd
from cti.calls.errors import CstaError
from cti.kernel.messages import Command
from cti.store import StoreError, StoreLost

log = structlog.get_logger(__name__)
_STOP: Final = None  # queued by stop(): the writer finishes what is before it, then returns
_Item = tuple[cmd.Command, str | None, "asyncio.Future[Outcome]"] | None
TIMER_RETRY = 0.5  # seconds before due timers are tried again after a refusal


class Executor(Protocol):
    """What runs commands for the API (cti/api/execute.py): the engine of a running node, or
    :class:`Direct` on a node a tool opened itself."""

    @property
    def node(self) -> Node: ...

    async def execute(self, command: Command, principal: str | None = None) -> Outcome: ...


class Observer(Protocol):
    """Told what the writer does, for the operator's metrics (cti/ops/metrics.py); called on
    the loop, so it must be quick and must not raise."""

    def committed(self, events: int, seconds: float, failure: StoreError | None) -> None:
        """A batch was appended (``events`` of them, in ``seconds``), or the store refused it."""

    def answered(self, command: Command, outcome: Outcome) -> None:
        """A command was accepted or refused."""


class Direct:
    """Commands run on the node at once, with no writer task or timers: for a tool that
    holds the log's writer lock itself (`cti users` on a stopped node)."""

    def __init__(self, node: Node) -> None:
        self.node = node

    async def execute(self, command: Command, principal: str | None = None) -> Outcome:
        return self.node.execute(command, principal)


class Engine:
    def __init__(
        self, node: Node, *, max_batch: int = 1000, observer: Observer | None = None
    ) -> None:
        self.node = node
        self.max_batch = max_batch
        self.observer = observer
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: list[asyncio.Future[Outcome]] = []  # the batch being committed
        self.failed: asyncio.Future[BaseException] | None = None  # resolves if a task dies
        self.failure: BaseException | None = None

    async def start(self) -> None:
        self.failure = None
        self.failed = asyncio.get_running_loop().create_future()
        self._tasks = [
            asyncio.create_task(self._guard("cti-writer", self._writer), name="cti-writer"),
            asyncio.create_task(self._guard("cti-timers", self._timers), name="cti-timers"),
        ]

    @property
    def running(self) -> bool:
        """The writer and the timers are running (started, not stopped, not failed)."""
        return bool(self._tasks) and self.failure is None and not self._stopping

    async def _guard(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.critical("engine.failed", task=name, exc_info=True)
            self.failure = exc
            self._stopping = True  # nothing more is accepted
            reason = f"the node failed ({type(exc).__name__}); it must be restarted"
            for future in self._inflight:
                if not future.done():
                    future.set_result(Refused(CstaError("resourceOutOfService", reason)))
            self._refuse_queued(reason)
            if self.failed is not None and not self.failed.done():
                self.failed.set_result(exc)

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

    def _refuse_queued(self, reason: str = "node stopping") -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not _STOP and not item[2].done():
                item[2].set_result(Refused(CstaError("resourceOutOfService", reason)))

    async def execute(self, command: cmd.Command, principal: str | None = None) -> Outcome:
        """Run a command sent by the account ``principal`` (None: the node itself); returns
        once its events are durable (or it was refused)."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        outcome: Outcome
        if not self._tasks or self._stopping:
            why = "node not running" if self.failure is None else "the node failed"
            outcome = Refused(CstaError("resourceOutOfService", why))
        else:
            await self._queue.put((command, principal, future))
            outcome = await future
        if self.observer is not None:
            self.observer.answered(command, outcome)
        return outcome

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
            self._inflight = [future for _, _, future in items]
            batch = self.node.prepare([c for c, _, _ in items], [p for _, p, _ in items])
            failure: StoreError | None = None
            started = time.perf_counter()
            try:
                # The fsync runs off the loop; commands arriving meanwhile form the next batch.
                await asyncio.to_thread(self.node.append, batch)
            except StoreLost:
                raise  # the batch may be durable or not: only a restart (a replay) is exact
            except StoreError as exc:
                failure = exc
            took = time.perf_counter() - started
            outcomes = self.node.commit(batch, failure)
            if self.observer is not None and (batch.staged or failure is not None):
                self.observer.committed(len(batch.staged), took, failure)
            for (_, _, future), outcome in zip(items, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
            self._inflight = []

    async def _timers(self) -> None:
        clock, feed = self.node.clock, self.node.feed
        pause = TIMER_RETRY
        while True:
            seen = feed.last_seq
            refused = [
                o for o in [await self.execute(f) for f in self.node.due_timers()] if not o.ok
            ]
            if refused:
                # The store failed (or a bug): the timers stay due. Retry after a growing pause
                # instead of spinning; they fire as soon as the store takes them again.
                log.error("engine.timers_refused", error=str(refused[0]), retry_in=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            pause = TIMER_RETRY
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
