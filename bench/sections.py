"""The benchmark sections. Each returns a list of rows: (name, value, unit, target or None)."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.office import big_site, pair
from cti.app.clock import ManualClock, SystemClock
from cti.app.engine import Engine
from cti.app.node import Node, replay
from cti.calls import commands as c
from cti.site import Site
from cti.store import EventStore, MemoryStore, SqliteStore

Row = tuple[str, float, str, str | None]


def median_of(reps: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(reps))


# -- 1. engine alone ---------------------------------------------------------------------------
async def _calls(store: EventStore, pairs: int, calls_each: int) -> tuple[float, float, float]:
    node = Node(big_site(2 * pairs), store, ManualClock())
    engine = Engine(node)
    await engine.start()

    async def worker(i: int) -> None:
        a, b = pair(i)
        for _ in range(calls_each):
            made = await engine.execute(c.MakeCall(calling=a, called=b))
            call = made.result["call"]  # type: ignore[union-attr]
            await engine.execute(c.AnswerCall(call=call, device=b))  # type: ignore[arg-type]
            await engine.execute(c.ClearConnection(call=call, device=a))  # type: ignore[arg-type]

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(i) for i in range(pairs)))
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    await engine.stop()
    calls = pairs * calls_each
    return calls / took, node.state.seq / took, 1e6 * cpu / calls


def engine_alone(reps: int) -> list[Row]:
    rows: list[Row] = []
    for name, make in (
        ("SQLite, durable group commit", lambda: SqliteStore(tempfile.mktemp(suffix=".db"))),
        ("in-memory store", MemoryStore),
    ):
        results = [asyncio.run(_calls(make(), pairs=100, calls_each=40)) for _ in range(reps)]
        target_calls, target_events = (
            (">= 2,000", ">= 20,000") if "SQLite" in name else (None, None)
        )
        rows.append(
            (f"calls/s, {name}", statistics.median(r[0] for r in results), "calls/s", target_calls)
        )
        rows.append(
            (
                f"events/s, {name}",
                statistics.median(r[1] for r in results),
                "events/s",
                target_events,
            )
        )
        rows.append(
            (
                f"CPU time per two-party call (the process, all threads), {name}",
                statistics.median(r[2] for r in results),
                "us/call",
                None,
            )
        )
    return rows


# -- 3. replay ---------------------------------------------------------------------------------
def build_log(path: Path, events: int, progress: Callable[[int], None]) -> SqliteStore:
    store = SqliteStore(path, synchronous="NORMAL")
    node = Node(big_site(200), store, ManualClock(), snapshot_every=10**12)
    i = 0
    while node.state.seq < events:
        batch: list[c.Command] = []
        for k in range(100):
            a, b = pair(k)
            call = node.state.calls.next_call_id + len(batch) // 3
            batch += [
                c.MakeCall(calling=a, called=b),
                c.AnswerCall(call=call, device=b),
                c.ClearConnection(call=call, device=a),
            ]
        node.execute_batch(batch)
        i += 1
        progress(node.state.seq)
    return store


def replay_rows(store: SqliteStore) -> list[Row]:
    started = time.perf_counter()
    state = replay(store, use_snapshot=False)
    took = time.perf_counter() - started
    node_seq = state.seq
    # A snapshot at the end: loading it is what a restart costs.
    from cti.domain import snapshot
    from cti.store import Snapshot

    store.save_snapshot(Snapshot(state.seq, snapshot.encode(state)))
    started = time.perf_counter()
    replay(store)
    snap = time.perf_counter() - started
    return [
        (f"replay {node_seq:,} events from the log", took, "s", "< 15"),
        ("replay rate", node_seq / took, "events/s", None),
        (
            f"restart: the log above with a snapshot at its end ({len(state.calls.calls)} open "
            "calls on 200 devices, 0 events after it)",
            snap * 1000,
            "ms",
            None,
        ),
    ]


# -- 4. scale ----------------------------------------------------------------------------------
def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_rows() -> list[Row]:
    """Run in a fresh process: RSS must show the devices and calls, not what earlier
    sections (a million-event replay) left in this process's allocator."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        rows: list[Row] = pool.apply(_scale_rows)
    return rows


def _scale_rows() -> list[Row]:
    site = big_site(10_000)
    node = Node(site, MemoryStore(), ManualClock())
    gc.collect()
    idle = rss_mb()
    # 1,000 concurrent two-party calls (2,000 of the phones busy).
    cmds: list[c.Command] = []
    for i in range(1000):
        a, b = pair(i)
        cmds.append(c.MakeCall(calling=a, called=b))
    node.execute_batch(cmds)
    node.execute_batch([c.AnswerCall(call=i + 1, device=pair(i)[1]) for i in range(1000)])
    assert len(node.state.calls.calls) == 1000
    started = time.perf_counter()
    n = 2000
    for k in range(n // 2):
        a, b = pair(1000 + k % 2000)
        made = node.execute(c.MakeCall(calling=a, called=b))
        node.execute(c.ClearCall(call=made.result["call"]))  # type: ignore[union-attr,arg-type]
    took = time.perf_counter() - started
    gc.collect()
    return [
        ("RSS: process with 10,000 idle configured devices", idle, "MB", "< 200"),
        ("RSS with 1,000 concurrent calls", rss_mb(), "MB", None),
        (
            "commands/s beside 1,000 concurrent calls, one command per batch, in-memory store "
            "(the decision and state cost without I/O)",
            n / took,
            "cmd/s",
            None,
        ),
        (
            "restart: a SQLite log with a snapshot of 1,000 open calls on 10,000 devices "
            "(and 0 events after it) opened and the node state restored",
            restart_with_open_calls(site) * 1000,
            "ms",
            None,
        ),
    ]


def restart_with_open_calls(site: Site, calls: int = 1000) -> float:
    """Seconds to start a node on a log whose snapshot holds ``calls`` open calls."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "restart.db"
        store = SqliteStore(path)
        node = Node(site, store, ManualClock())
        pairs = [pair(i) for i in range(calls)]
        node.execute_batch([c.MakeCall(calling=a, called=b) for a, b in pairs])
        node.execute_batch([c.AnswerCall(call=i + 1, device=b) for i, (_, b) in enumerate(pairs)])
        assert len(node.state.calls.calls) == calls
        node.snapshot()
        store.close()
        started = time.perf_counter()
        again = SqliteStore(path)
        restored = Node(site, again, ManualClock())
        took = time.perf_counter() - started
        assert len(restored.state.calls.calls) == calls and restored.state.seq == node.state.seq
        again.close()
    return took


__all__ = ["SystemClock", "engine_alone", "median_of", "replay_rows", "scale_rows"]
