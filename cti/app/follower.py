"""Log followers: everything that reacts to committed events runs as one, on its own task.

A follower reads the log from its own position (:class:`~cti.app.feed.LogReader`), so a slow or
failing follower never holds up the writer, and resumes after a crash from what it made
durable. Two kinds:

- a **read model** (:class:`ReadModel`) keeps tables of its own and stores its position in the
  same transaction as the rows that position covers: after a crash it resumes exactly where
  it stopped, and equals a rebuild from the log;
- a **live follower** (the CSTA reports, phone_sim's in-process link) starts at the current end
  of the log and keeps no position; the MQTT outbox keeps the broker's acknowledgements as its
  position (at least once).

Every follower runs :func:`supervised`: a failure is logged with the follower's name and the
follower restarts from its position after a growing pause, so a broken follower never leaves
a half-alive node behind it (specs/architecture.md, "Log followers").
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import attrs
import structlog

from cti.app.committed import Committed
from cti.app.feed import LogReader
from cti.app.threads import finished

log = structlog.get_logger(__name__)
FIRST_PAUSE = 0.2  # seconds before the first restart; doubles up to MAX_PAUSE
MAX_PAUSE = 30.0
HEALTHY = 60.0  # a run this long resets the pause


@attrs.define
class FollowerHealth:
    """What the operator's /healthz shows of a supervised task (cti/ops/health.py): a
    follower that keeps failing is still "running" (it restarts), so whether it is in a pause
    after a failure is what tells up from down."""

    up: bool = False  # running now (not waiting to restart after a failure)
    failures: int = 0
    last_error: str | None = None  # the exception's type only: messages may carry data
    position: int | None = None  # a read model's last applied seq, when it has one


class ReadModel(Protocol):
    """A checkpointed follower with tables of its own."""

    name: str

    def position(self) -> int:
        """The last seq applied (durably); 0 for an empty read model."""
        ...

    def apply(self, batch: Sequence[Committed]) -> None:
        """Apply ``batch`` and store its last seq as the position, in one transaction.

        Runs in a worker thread; raises on failure (then nothing of the batch is applied)."""
        ...

    def reset(self) -> None:
        """Empty the read model (position 0): it is rebuilt from the log."""
        ...

    def close(self) -> None:
        """Release the read model's storage (its follower has stopped)."""
        ...


async def supervised(
    name: str,
    run: Callable[[], Awaitable[None]],
    *,
    first_pause: float = FIRST_PAUSE,
    max_pause: float = MAX_PAUSE,
    clock: Callable[[], float] = lambda: asyncio.get_running_loop().time(),
    health: FollowerHealth | None = None,
) -> None:
    """Run ``run`` until it is cancelled; when it fails, log it and start it again after a
    pause that grows while it keeps failing (with jitter, so followers do not restart in step).
    ``health``, if given, says whether it is running or waiting to restart.
    """
    pause = first_pause
    health = health if health is not None else FollowerHealth()
    while True:
        started = clock()
        health.up = True
        try:
            await run()
        except asyncio.CancelledError:
            health.up = False
            raise
        except Exception as exc:
            health.up = False
            health.failures += 1
            health.last_error = type(exc).__name__
            if clock() - started >= HEALTHY:
                pause = first_pause
            log.exception("follower.failed", follower=name, restart_in=round(pause, 2))
            await asyncio.sleep(pause * random.uniform(0.8, 1.2))
            pause = min(pause * 2, max_pause)
        else:
            health.up = False
            log.warning("follower.returned", follower=name)
            return


async def follow(model: ReadModel, reader: LogReader, health: FollowerHealth | None = None) -> None:
    """Keep ``model`` up to date with the log, forever; supervised."""
    health = health if health is not None else FollowerHealth()

    async def run() -> None:
        if model.position() > reader.feed.last_seq:
            # Ahead of the log: the log was restored from an older backup (same epoch). Its
            # seqs will be reissued with other events, so what the model holds is not theirs.
            log.warning("follower.ahead_of_the_log", follower=model.name, log=reader.feed.last_seq)
            await _finish(asyncio.ensure_future(asyncio.to_thread(model.reset)))
        health.position = model.position()
        async for batch in reader.batches(health.position + 1):
            await _finish(asyncio.ensure_future(asyncio.to_thread(model.apply, batch)))
            health.position = batch[-1].seq

    await supervised(model.name, run, health=health)


async def _finish(work: asyncio.Future[None]) -> None:
    """Wait for work running in a thread (cti.app.threads.finished), so nobody closes the
    model under it."""
    await finished(work)


class LiveFollower:
    """Hands every batch committed from ``start`` on to ``deliver``, in order and once: on a
    task of its own after each commit, and synchronously whenever :meth:`catch_up` is called
    (by a face about to answer a request, so the answer never overtakes earlier events).
    Keeps no position: live consumers (CSTA reports, in-process phones) start from now."""

    def __init__(
        self, name: str, reader: LogReader, deliver: Callable[[Sequence[Committed]], None]
    ) -> None:
        self.name = name
        self.reader = reader
        self.deliver = deliver
        self._next = reader.feed.last_seq + 1  # the first seq not yet delivered
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._next = self.reader.feed.last_seq + 1
        self._task = asyncio.create_task(supervised(self.name, self._follow), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _follow(self) -> None:
        while True:
            await self.reader.feed.wait_beyond(self._next - 1)
            self.catch_up()

    def catch_up(self) -> None:
        """Deliver every batch committed since the last delivery."""
        while batch := self.reader.read(self._next):
            self._next = batch[-1].seq + 1
            self.deliver(batch)
