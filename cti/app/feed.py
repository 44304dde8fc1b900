"""What followers of the log read: the node's newest committed events and a way to wait for more.

The writer puts each batch here after it is durable (:meth:`CommitFeed.extend`, nothing else
runs in the writer); a :class:`LogReader` hands a follower everything from a given ``seq`` on,
from this in-memory tail when it has it, else from the store through the follower's own
connection. So a follower that fell behind (or restarts from an old position) reads the log,
and one that keeps up never touches the disk.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from cti.app.committed import Committed, decode
from cti.app.threads import finished
from cti.store import EventStore

# Events kept in memory: between TAIL and 2 * TAIL, and always the newest batch whole (the
# one followers that keep up are reading). Not more: every full collection of the cyclic
# garbage collector walks them all (~5 tracked objects an event), and under load it ran
# twice a second: 14 ms a pause with 10,000 events, 5 ms with 2,000 (BENCHMARKS.md).
TAIL = 2_000
PAGE = 5_000  # the most events handed to a follower at once


class CommitFeed:
    def __init__(self, last_seq: int, capacity: int = TAIL) -> None:
        self.capacity = capacity
        self.last_seq = last_seq  # the last committed seq
        self._tail: list[Committed] = []  # contiguous seqs ending at last_seq
        # One future per commit that every waiter shields: a waiter that is cancelled (a
        # follower stopping, a timer firing first) leaves nothing behind.
        self._next: asyncio.Future[None] | None = None

    def extend(self, batch: Sequence[Committed]) -> None:
        """Called by the writer with a batch that is durable; wakes every waiting follower."""
        if not batch:
            return
        self._tail.extend(batch)
        self.last_seq = batch[-1].seq
        if len(self._tail) > 2 * self.capacity:  # trim in halves: amortised O(1) per event
            del self._tail[: len(self._tail) - max(self.capacity, len(batch))]
        if self._next is not None and not self._next.done():
            self._next.set_result(None)
        self._next = None

    @property
    def first_seq(self) -> int | None:
        """The oldest seq still in memory."""
        return self._tail[0].seq if self._tail else None

    def read(self, from_seq: int, limit: int) -> list[Committed] | None:
        """Up to ``limit`` events from ``from_seq`` out of memory; None when they are older
        than the tail (read them from the store)."""
        first = self.first_seq
        if from_seq > self.last_seq:
            return []
        if first is None or from_seq < first:
            return None
        start = from_seq - first
        return self._tail[start : start + limit]

    async def wait_beyond(self, seq: int) -> None:
        """Return once an event after ``seq`` has been committed."""
        while self.last_seq <= seq:
            loop = asyncio.get_running_loop()
            if self._next is None or self._next.get_loop() is not loop:
                self._next = loop.create_future()
            await asyncio.shield(self._next)


class LogReader:
    """One follower's view of the log: ``store`` is its own connection (SQLite allows one
    thread per connection at a time; the writer has its own). Use either :meth:`read` on the
    loop or :meth:`batches`, not both with the same reader."""

    def __init__(self, feed: CommitFeed, store: EventStore, page: int = PAGE) -> None:
        self.feed = feed
        self.store = store
        self.page = page

    def read(self, from_seq: int) -> list[Committed]:
        """The committed events from ``from_seq`` on, at most a page; [] when there are none."""
        events = self.feed.read(from_seq, self.page)
        if events is not None:
            return events
        return self._from_store(from_seq, self._store_limit(from_seq))

    def _store_limit(self, from_seq: int) -> int:
        # Older than the tail: from the store, never beyond what the tail starts with (or
        # what is committed), so the two sources join without a gap or an overlap. The tail
        # only moves forward, so a limit computed now stays safe while the page is read.
        first = self.feed.first_seq
        upto = (first - 1) if first is not None else self.feed.last_seq
        return min(self.page, upto - from_seq + 1)

    def _from_store(self, from_seq: int, limit: int) -> list[Committed]:
        return [decode(r) for r in self.store.read(from_seq, limit)] if limit > 0 else []

    async def read_off_loop(self, from_seq: int) -> list[Committed]:
        """As :meth:`read`, but a page from the store is read in a worker thread, so a
        follower that fell behind the tail never holds the event loop (the reader's store
        connection must then be used by nothing else meanwhile)."""
        events = self.feed.read(from_seq, self.page)
        if events is not None:
            return events
        limit = self._store_limit(from_seq)
        # Waited for even when cancelled: the store may be closed right after (a stop), and
        # SQLite crashes the process when its connection is closed under a read.
        return await finished(
            asyncio.ensure_future(asyncio.to_thread(self._from_store, from_seq, limit))
        )

    async def batches(self, from_seq: int) -> AsyncIterator[list[Committed]]:
        """Every committed event from ``from_seq`` on, in order, in batches; waits for more
        when it has given everything (runs until cancelled). Pages from the store are read in
        a worker thread, so a follower catching up never holds the event loop."""
        next_seq = max(from_seq, 1)
        while True:
            batch = await self.read_off_loop(next_seq)
            if batch:
                yield batch
                next_seq = batch[-1].seq + 1
            else:
                await self.feed.wait_beyond(next_seq - 1)
