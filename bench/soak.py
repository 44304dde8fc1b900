"""`make soak` (not in CI): calls through the engine and its SQLite log for N minutes while
memory is sampled; fails if RSS keeps growing after warm-up (a leak), prints the samples.

SOAK_MINUTES (default 5) sets the length.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import structlog
from rich.console import Console
from rich.progress import Progress

from bench.office import big_site, pair
from bench.sections import rss_mb
from cti.app.clock import SystemClock
from cti.app.engine import Engine
from cti.app.node import Node
from cti.calls import commands as c
from cti.store import SqliteStore

GROWTH_LIMIT = 1.15  # final RSS may exceed the post-warm-up RSS by 15 % at most


async def soak(minutes: float, path: Path, console: Console) -> int:
    node = Node(big_site(200), SqliteStore(path), SystemClock(), snapshot_every=200_000)
    engine = Engine(node)
    await engine.start()
    deadline = time.monotonic() + minutes * 60
    samples: list[tuple[float, float, int]] = []
    calls = 0

    async def worker(i: int) -> None:
        nonlocal calls
        a, b = pair(i)
        while time.monotonic() < deadline:
            made = await engine.execute(c.MakeCall(calling=a, called=b))
            call = made.result["call"]  # type: ignore[union-attr]
            await engine.execute(c.AnswerCall(call=call, device=b))  # type: ignore[arg-type]
            await engine.execute(c.ClearConnection(call=call, device=a))  # type: ignore[arg-type]
            calls += 1

    started = time.monotonic()
    tasks = [asyncio.create_task(worker(i)) for i in range(100)]
    with Progress(console=console) as progress:
        bar = progress.add_task("soak", total=minutes * 60)
        while time.monotonic() < deadline:
            await asyncio.sleep(5)
            elapsed = time.monotonic() - started
            samples.append((elapsed, rss_mb(), calls))
            progress.update(
                bar,
                completed=elapsed,
                description=f"soak: {calls:,} calls, RSS {samples[-1][1]:.0f} MB",
            )
    await asyncio.gather(*tasks)
    await engine.stop()
    warm = samples[min(len(samples) - 1, max(1, len(samples) // 5))][1]
    final = samples[-1][1]
    for elapsed, rss, n in samples[:: max(1, len(samples) // 12)]:
        console.print(f"{elapsed:7.0f} s  {rss:7.1f} MB  {n:>10,} calls")
    ok = final <= warm * GROWTH_LIMIT
    console.print(
        f"RSS after warm-up {warm:.1f} MB, at the end {final:.1f} MB: "
        f"{'flat' if ok else 'GROWING'} ({calls:,} calls, seq {node.state.seq:,})"
    )
    return 0 if ok else 1


def main() -> int:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    minutes = float(os.environ.get("SOAK_MINUTES", "5"))
    with tempfile.TemporaryDirectory() as d:
        return asyncio.run(soak(minutes, Path(d) / "soak.db", Console()))


if __name__ == "__main__":
    sys.exit(main())
