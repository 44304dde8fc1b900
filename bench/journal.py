"""Section 6: the journal read model (JOUR-01..05, specs/journal.md).

- **Rebuild**: the journal of a log of N events (default 1,000,000: calls answered, missed
  and busy between 200 phones, every 20th missed call noted) made from scratch, the way the
  follower does it after its file is lost: pages of the log, each page one transaction.
  Target: 1,000,000 events in < 30 s.
- **Keeping up**: the engine at its full rate (100 pairs calling, as section 1) with the
  journal follower running beside it in the same process, as `cti serve` runs it; how far
  behind the follower is when the last call is committed and how long it takes to catch up.

    python -m bench 8                 (BENCH_JOURNAL_EVENTS=200000 for a shorter run)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.office import big_site, pair
from cti.app.clock import ManualClock
from cti.app.engine import Engine
from cti.app.feed import CommitFeed, LogReader
from cti.app.follower import FollowerHealth, follow
from cti.app.node import Node
from cti.calls import commands as c
from cti.journal import commands as j
from cti.journal.journal_db import JournalDb
from cti.site import Site
from cti.store import SqliteStore

EVENTS = int(os.environ.get("BENCH_JOURNAL_EVENTS", "1000000"))
Row = tuple[str, float, str, str | None]


def build_log(path: Path, site: Site, events: int, progress: Callable[[int], None]) -> SqliteStore:
    """Answered, missed and busy calls between 200 phones, with notes on missed calls."""
    store = SqliteStore(path, synchronous="NORMAL")
    node = Node(site, store, ManualClock(), snapshot_every=10**12)
    round_ = 0
    while node.state.seq < events:
        batch: list[c.Command] = []
        first = node.state.calls.next_call_id
        for k in range(100):
            a, b = pair(k)
            call = first + k
            batch.append(c.MakeCall(calling=a, called=b))
            if (k + round_) % 3:  # answered
                batch += [c.AnswerCall(call=call, device=b), c.ClearConnection(call=call, device=a)]
            else:  # missed
                batch.append(c.ClearConnection(call=call, device=a))
        node.execute_batch(batch)
        notes = [
            j.SetJournalNote(user=pair(k)[1], entry=first + k, note="call back")
            for k in range(100)
            if not (k + round_) % 3 and k % 20 == 0
        ]
        node.execute_batch(notes)
        round_ += 1
        progress(node.state.seq)
    return store


def rebuild_rows(
    events: int = EVENTS, progress: Callable[[int], None] = lambda n: None
) -> list[Row]:
    site = big_site(200)
    with tempfile.TemporaryDirectory() as d:
        store = build_log(Path(d) / "log.db", site, events, progress)
        last = store.last_seq()
        db = JournalDb(Path(d) / "journal.db", store.epoch, site)
        reader = LogReader(CommitFeed(last), store.sibling(readonly=True))
        started, cpu = time.perf_counter(), time.process_time()
        position = 0
        while batch := reader.read(position + 1):
            db.apply(batch)
            position = batch[-1].seq
        took = time.perf_counter() - started
        cpu = time.process_time() - cpu
        entries = len(db.dump()[0])
        db.close()
        store.close()
    return [
        (f"rebuild the journal of {last:,} events ({entries:,} entries)", took, "s", "< 30"),
        ("rebuild rate", last / took, "events/s", None),
        # One thread: on a machine nobody else loads, the wall time is about this.
        ("CPU time of that rebuild (one thread)", cpu, "s", "< 30"),
    ]


async def _keep_up(
    pairs: int, calls_each: int, journal: bool = True
) -> tuple[float, int, float, float]:
    site = big_site(2 * pairs)
    with tempfile.TemporaryDirectory() as d:
        store = SqliteStore(Path(d) / "log.db")
        node = Node(site, store, ManualClock())
        engine = Engine(node)
        await engine.start()
        db = JournalDb(Path(d) / "journal.db", store.epoch, site)
        health = FollowerHealth()
        reader = LogReader(node.feed, store.sibling(readonly=True))
        follower = asyncio.create_task(follow(db, reader, health)) if journal else None

        async def worker(i: int) -> None:
            a, b = pair(i)
            for _ in range(calls_each):
                made = await engine.execute(c.MakeCall(calling=a, called=b))
                call = made.result["call"]  # type: ignore[union-attr]
                await engine.execute(c.AnswerCall(call=call, device=b))  # type: ignore[arg-type]
                await engine.execute(c.ClearConnection(call=call, device=a))  # type: ignore[arg-type]

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(pairs)))
        took = time.perf_counter() - started
        last = node.state.seq
        behind, catch_up = 0, 0.0
        if follower is not None:
            behind = last - (health.position or 0)
            caught = time.perf_counter()
            while (health.position or 0) < last:
                await asyncio.sleep(0.005)  # the benchmark measures, it does not test
            catch_up = time.perf_counter() - caught
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
        await engine.stop()
        db.close()
        store.close()
    return last / took, behind, catch_up, took


def keep_up_rows(pairs: int = 100, calls_each: int = 100, reps: int = 3) -> list[Row]:
    """Medians of ``reps`` runs each, alone and with the follower taking turns (the machine
    is shared: its load changes under a run)."""
    alones, runs = [], []
    for _ in range(reps):
        alones.append(asyncio.run(_keep_up(pairs, calls_each, journal=False))[0])
        runs.append(asyncio.run(_keep_up(pairs, calls_each)))
    alone = statistics.median(alones)
    rate = statistics.median(r[0] for r in runs)
    behind = statistics.median(r[1] for r in runs)
    catch_up = statistics.median(r[2] for r in runs)
    took = statistics.median(r[3] for r in runs)
    return [
        (
            "engine events/s without the journal follower, same run (SQLite, group commit)",
            alone,
            "events/s",
            None,
        ),
        (
            "engine events/s with the journal follower beside it (SQLite, group commit)",
            rate,
            "events/s",
            None,
        ),
        (
            f"follower behind when the last of {pairs * calls_each:,} calls committed"
            f" ({took:.1f} s run)",
            behind,
            "events",
            None,
        ),
        ("then caught up in", catch_up * 1000, "ms", None),
    ]


if __name__ == "__main__":
    for row in [*keep_up_rows(), *rebuild_rows()]:
        print(row)
