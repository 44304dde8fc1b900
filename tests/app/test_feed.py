"""The in-memory tail of the log (cti/app/feed.py): followers that keep up read the newest
events from it, older ones come from the store; the two join without a gap or an overlap,
whatever the batch sizes, and the newest batch is always whole in memory (a follower one
batch behind never reads the disk)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.app.committed import Committed
from cti.app.feed import CommitFeed, LogReader
from cti.calls import events as ev
from cti.domain import CODEC
from cti.store import SqliteStore, StoredEvent
from cti.store.memory import MemoryStore


def committed(seq: int) -> Committed:
    return Committed(seq, 1_000 * seq, ev.DoNotDisturb(device="330", on=seq % 2 == 0))


def stored(item: Committed) -> StoredEvent:
    event = item.event
    return StoredEvent(item.seq, item.ts_ms, event.KIND, CODEC.encode(event), event.VERSION)


@given(
    capacity=st.integers(1, 20),
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=30),
    page=st.integers(1, 50),
    start=st.integers(0, 400),
)
def test_memory_and_store_join_without_gap_or_overlap(
    capacity: int, sizes: list[int], page: int, start: int
) -> None:
    store = MemoryStore()
    feed = CommitFeed(0, capacity=capacity)
    seq = 0
    for size in sizes:
        batch = [committed(seq + i + 1) for i in range(size)]
        store.append([stored(x) for x in batch])
        feed.extend(batch)
        seq += size
        first = feed.first_seq
        assert first is not None and feed.last_seq == seq
        held = seq - first + 1
        # Between capacity and twice it, or more to keep the newest batch whole.
        assert min(capacity, seq) <= held <= max(2 * capacity, size)
        assert feed.read(seq - size + 1, size) == batch  # the newest batch, from memory
    reader = LogReader(feed, store, page=page)
    got: list[int] = []
    next_seq = max(start, 1)
    while True:
        events = reader.read(next_seq)
        if not events:
            break
        got += [x.seq for x in events]
        next_seq = events[-1].seq + 1
    assert got == list(range(max(start, 1), seq + 1))


def test_a_batch_bigger_than_the_tail_stays_whole() -> None:
    feed = CommitFeed(0, capacity=10)
    feed.extend([committed(s) for s in range(1, 16)])
    feed.extend([committed(s) for s in range(16, 66)])  # 50 events: more than 2 x 10
    assert feed.first_seq == 16 and feed.read(16, 100) == [committed(s) for s in range(16, 66)]
    feed.extend([committed(66)])  # a small one after it: back to the capacity
    assert feed.first_seq == 57 and feed.read(57, 100) == [committed(s) for s in range(57, 67)]


async def test_a_cancelled_page_read_waits_for_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follower stopped while its page is read from the store (the outbox at a SIGTERM):
    the cancellation waits for the read's thread, so the store closed right after is not
    closed under it (SQLite then crashed the whole process)."""
    store = SqliteStore(tmp_path / "e.db")
    store.append([stored(committed(s)) for s in range(1, 11)])
    reader = LogReader(CommitFeed(10, capacity=5), store.sibling(readonly=True))
    entered, release = threading.Event(), threading.Event()
    from_store = LogReader._from_store

    def gated(self: LogReader, from_seq: int, limit: int) -> list[Committed]:
        entered.set()
        assert release.wait(10), "the test never released the read"
        return from_store(self, from_seq, limit)

    monkeypatch.setattr(LogReader, "_from_store", gated)
    task = asyncio.create_task(reader.read_off_loop(1))
    await asyncio.to_thread(entered.wait, 10)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=0.2)
    assert not done  # still waiting for the thread, though cancelled
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    store.close()  # safe now: no thread reads it
