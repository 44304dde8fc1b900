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
from cti.store import EventStore

TAIL = 50_000  # events kept in memory (about a minute at full rate)
PAGE = 5_000  # the most events handed to a follower at once


class CommitFeed:
    def __init__(self, last_seq: int, capacity: int = TAIL) -> None:
        self.capacity = capacity
        self.last_seq = last_seq  # the last committed seq
        self._tail: list[Committed] = []  # contiguous seqs ending at last_seq
        self._waiters: list[asyncio.Future[None]] = []

    def extend(self, batch: Sequence[Committed]) -> None:
        """Called by the writer with a batch that is durable; wakes every waiting follower."""
        if not batch:
            return
        self._tail.extend(batch)
        self.last_seq = batch[-1].seq
        if len(self._tail) > 2 * self.capacity:  # trim in halves: amortised O(1) per event
            del self._tail[: len(self._tail) - self.capacity]
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

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
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter


class LogReader:
    """One follower's view of the log: ``store`` is its own connection (SQLite allows one
    thread per connection; the writer has its own)."""

    def __init__(self, feed: CommitFeed, store: EventStore, page: int = PAGE) -> None:
        self.feed = feed
        self.store = store
        self.page = page

    def read(self, from_seq: int) -> list[Committed]:
        """The committed events from ``from_seq`` on, at most a page; [] when there are none."""
        events = self.feed.read(from_seq, self.page)
        if events is not None:
            return events
        # Older than the tail: from the store, never beyond what the tail starts with (or
        # what is committed), so the two sources join without a gap or an overlap.
        first = self.feed.first_seq
        upto = (first - 1) if first is not None else self.feed.last_seq
        limit = min(self.page, upto - from_seq + 1)
        return [decode(r) for r in self.store.read(from_seq, limit)] if limit > 0 else []

    async def batches(self, from_seq: int) -> AsyncIterator[list[Committed]]:
        """Every committed event from ``from_seq`` on, in order, in batches; waits for more
        when it has given everything (runs until cancelled)."""
        next_seq = max(from_seq, 1)
        while True:
            batch = self.read(next_seq)
            if batch:
                yield batch
                next_seq = batch[-1].seq + 1
            else:
                await self.feed.wait_beyond(next_seq - 1)
