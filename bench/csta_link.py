"""Section 5b: the CSTA link end to end (issue 20 item 9).

The load site (cti/sites/load.toml, 200 phones 400-599) on a node with its SQLite log, and the
CSTA link (`CstaServer`, default limits, siemens framing) in this process, as `cti serve` runs
them. In a second process, ``associations`` CSTA applications (our `CstaClient`, each its own
TCP association and a full decode of every report) each start a monitor on every one of the
200 phones; the first of them also drives the calls: ``concurrency`` call flows in flight, each
makeCall a -> b, answerCall at b, clearConnection at a, the next invoke as soon as the previous
result is in (closed loop: the rate is what the link sustains, not a rate asked for). Each
call gives 9 reports per association (serviceInitiated, originated, 2 delivered, 2 established,
2 connectionCleared, callCleared).

Measured (CLOCK_MONOTONIC in the client process, so both ends of a latency are on one clock):

- calls/s: calls completed (all three results in) / time of the run;
- invoke -> result: every invoke of the flows, until its ReturnResult is in;
- makeCall invoke -> first event report: until the call's serviceInitiated report arrived at
  the driving association (the result comes first, specs/csta.md), and until the last of the
  monitoring associations had it;
- reports lost: per association, the reports the node's log entitles it to (a report per
  monitored party of each call event after the monitors started) minus those it received.

Run alone: ``python -m bench.csta_link [--associations N ...] [--calls N] [--concurrency N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
import structlog
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

import cti.sites
from bench.sections import Row
from cti.app.clock import SystemClock
from cti.app.config import CstaSettings, load_site
from cti.app.engine import Engine
from cti.app.node import Node, decode
from cti.calls import events as ev
from cti.csta.client import CstaClient
from cti.csta.ids import connection, device_id
from cti.csta.link.server import CstaServer
from cti.site.model import DeviceKind
from cti.store import SqliteStore
from cti.tools.output import print_table

LOAD_SITE = Path(cti.sites.__file__).parent / "load.toml"
PASSWORD = "bench-link-password"  # loopback only
OSBIZ_LINKS = 4  # OpenScape Business allows this many CSTA links


@attrs.frozen
class Plan:
    associations: int = 1  # monitoring associations; the first also drives the calls
    calls: int = 1_000
    concurrency: int = 8  # call flows in flight

    def label(self) -> str:
        n = self.associations
        return f"{n} association{'s' if n > 1 else ''} x 200 monitors"


# What `make bench` runs: 3,000 calls in all, well under a minute on two shared cores.
PLANS = (Plan(1), Plan(4), Plan(16))

# Shared counters of the client process: phase, monitors started, calls done, reports received.
PHASE, MONITORS, CALLS, REPORTS = range(4)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q + 0.5) - 1)] if ordered else float("nan")


# -- the applications, in a process of their own -----------------------------------------------
class Watcher:
    """One association's reports: counted, and the arrival of each call's serviceInitiated."""

    def __init__(self, client: CstaClient, counters: Any) -> None:
        self.client, self.counters = client, counters
        self.received = 0
        self.initiated: dict[int, float] = {}  # call -> arrival (perf_counter)
        self.task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            report = await self.client.events.get()
            self.received += 1
            self.counters[REPORTS] += 1
            if report.name == "serviceInitiated":
                call = int(report.value["initiatedConnection"][1]["callID"])
                self.initiated.setdefault(call, time.perf_counter())


async def _applications(
    port: int, phones: list[str], plan: Plan, counters: Any, go: Any, out: Any
) -> None:
    clients = [
        CstaClient("127.0.0.1", port, "cti", PASSWORD, timeout=120)
        for _ in range(plan.associations)
    ]
    for client in clients:
        await client.associate()
    counters[PHASE] = 1
    started = time.perf_counter()

    async def monitor_all(client: CstaClient) -> None:
        for phone in phones:
            await client.monitor_start(phone)
            counters[MONITORS] += 1

    await asyncio.gather(*(monitor_all(c) for c in clients))
    monitors_took = time.perf_counter() - started
    watchers = [Watcher(c, counters) for c in clients]
    driver = clients[0]
    results: list[float] = []  # invoke -> result, ms
    made: list[tuple[int, float]] = []  # (call, makeCall sent)
    pairs = [(phones[2 * i], phones[2 * i + 1]) for i in range(len(phones) // 2)]
    per_worker = len(pairs) // plan.concurrency
    if per_worker < 1:
        raise ValueError(f"at most {len(pairs)} flows in flight on {len(phones)} phones")
    errors: list[str] = []

    async def timed(operation: str, argument: Any) -> Any:
        sent = time.perf_counter()
        result = await driver.invoke(operation, argument)
        results.append((time.perf_counter() - sent) * 1000)
        return result

    async def worker(w: int, flows: int) -> None:
        for j in range(flows):
            a, b = pairs[w + plan.concurrency * (j % per_worker)]  # no two workers share a pair
            try:
                sent = time.perf_counter()
                r = await timed(
                    "makeCall",
                    {"callingDevice": device_id(a), "calledDirectoryNumber": device_id(b)},
                )
                call = int(r["callingDevice"][1]["callID"])
                made.append((call, sent))
                await timed("answerCall", {"callToBeAnswered": connection(call, b)})
                await timed("clearConnection", {"connectionToBeCleared": connection(call, a)})
            except Exception as exc:  # counted and shown, the run goes on
                errors.append(repr(exc))
            counters[CALLS] += 1

    counters[PHASE] = 2  # monitors ready: the node notes where the log is, then says go
    while not go.is_set():
        await asyncio.sleep(0.01)
    cpu, start = time.process_time(), time.perf_counter()
    flows = [
        plan.calls // plan.concurrency + (w < plan.calls % plan.concurrency)
        for w in range(plan.concurrency)
    ]
    await asyncio.gather(*(worker(w, n) for w, n in enumerate(flows)))
    took = time.perf_counter() - start
    # The link writes the reports of what was committed before a result ahead of it: after a
    # systemStatus round trip on each association, every report is in its queue.
    for client in clients:
        await client.invoke("systemStatus", {"systemStatus": "normal"})
    while any(not c.events.empty() for c in clients):
        await asyncio.sleep(0.01)
    client_cpu = time.process_time() - cpu
    first = [(watchers[0].initiated[c] - t) * 1000 for c, t in made if c in watchers[0].initiated]
    every = [
        (max(w.initiated[c] for w in watchers) - t) * 1000
        for c, t in made
        if all(c in w.initiated for w in watchers)
    ]
    out.put(
        {
            "monitors_took": monitors_took,
            "took": took,
            "completed": plan.calls - len(errors),
            "errors": errors[:5],
            "failed": len(errors),
            "results": results,
            "first": first,
            "every": every,
            "received": [w.received for w in watchers],
            "client_cpu": client_cpu,
        }
    )
    for watcher in watchers:
        watcher.task.cancel()
    for client in clients:
        await client.release()


def _application_process(*args: Any) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(_applications(*args))


# -- the node and the link, and the measuring -------------------------------------------------
def _entitled(store: SqliteStore, after: int, phones: set[str]) -> int:
    """Reports one association with a monitor on every phone is owed for the log after
    ``after``: one per monitored party of each call event."""
    owed, seq = 0, after + 1
    while records := store.read(seq, 5_000):
        for record in records:
            event = decode(record).event
            if isinstance(event, ev.CallEvent) and not event.INTERNAL:
                owed += sum(1 for entry in event.local if entry.device in phones)
        seq = records[-1].seq + 1
    return owed


async def measure(tmp: Path, progress: Progress, plan: Plan) -> list[Row]:
    site = load_site(LOAD_SITE)
    phones = sorted(n for n, d in site.devices.items() if d.kind is DeviceKind.SYSTEM_PHONE)
    store = SqliteStore(tmp / "link.db")
    reader = store.sibling(readonly=True)
    node = Node(site, store, SystemClock())
    engine = Engine(node)
    server = CstaServer(engine, CstaSettings(password=PASSWORD, port=0))
    ctx = multiprocessing.get_context("spawn")
    counters = ctx.RawArray("q", 4)
    go, out = ctx.Event(), ctx.Queue()
    proc: Any = None
    tasks: list[Any] = []
    try:
        await engine.start()
        await server.start()
        proc = ctx.Process(
            target=_application_process,
            args=(server.address[1], phones, plan, counters, go, out),
            name="csta-applications",
        )
        proc.start()

        def alive() -> None:
            if proc.exitcode not in (None, 0):
                raise RuntimeError(f"the applications' process failed (exit {proc.exitcode})")

        want_monitors = plan.associations * len(phones)
        monitoring = progress.add_task(f"   {plan.label()}: monitorStart", total=want_monitors)
        tasks.append(monitoring)
        while counters[PHASE] < 2:
            alive()
            progress.update(monitoring, completed=counters[MONITORS])
            await asyncio.sleep(0.05)
        progress.update(monitoring, completed=want_monitors)
        first_seq = node.state.seq  # the monitors are started: reports are owed from here
        go.set()
        calls = progress.add_task(f"   {plan.label()}: calls", total=plan.calls)
        reports = progress.add_task(f"   {plan.label()}: event reports received", total=None)
        tasks += [calls, reports]
        cpu, wall = time.process_time(), time.perf_counter()
        while out.empty():
            alive()
            progress.update(calls, completed=counters[CALLS])
            progress.update(reports, completed=counters[REPORTS])
            await asyncio.sleep(0.05)
        node_cpu = 100 * (time.process_time() - cpu) / (time.perf_counter() - wall)
        got = out.get()
        progress.update(calls, completed=counters[CALLS])
        progress.update(reports, completed=counters[REPORTS])
        proc.join(30)
        owed = _entitled(reader, first_seq, set(phones))
    finally:
        for task in tasks:
            progress.remove_task(task)
        if proc is not None and proc.is_alive():
            proc.terminate()
        await server.stop()
        await engine.stop()
        reader.close()
        store.close()

    lost = sum(max(0, owed - n) for n in got["received"])
    extra = sum(max(0, n - owed) for n in got["received"])
    if lost or extra or got["failed"]:
        print(
            f"5b: {lost} reports lost, {extra} unexpected, {got['failed']} failed calls, e.g. "
            f"{got['errors']}",
            file=sys.stderr,
        )
    took = got["took"]
    total_reports = sum(got["received"])
    who = plan.label()
    results, first, every = got["results"], got["first"], got["every"]
    return [
        (
            f"{who}: monitorStart of all {plan.associations * len(phones):,} monitors"
            " (200 per association, one after another on each)",
            got["monitors_took"],
            "s",
            None,
        ),
        (
            f"  calls/s the first association drove (makeCall, answerCall, clearConnection;"
            f" {plan.concurrency} flows in flight, closed loop), {plan.calls:,} calls",
            got["completed"] / took,
            "calls/s",
            None,
        ),
        ("  invoke -> result p50 (the three services)", statistics.median(results), "ms", None),
        ("  invoke -> result p99", _percentile(results, 0.99), "ms", None),
        (
            "  makeCall invoke -> its first event report (serviceInitiated) at the driving"
            " association, p50",
            statistics.median(first) if first else float("nan"),
            "ms",
            None,
        ),
        ("  same, p99", _percentile(first, 0.99), "ms", None),
        (
            f"  same report at every one of the {plan.associations} association(s) (the last"
            " to get it), p99",
            _percentile(every, 0.99),
            "ms",
            None,
        ),
        (
            "  event reports/s the link wrote (all associations, 9 per call each)",
            total_reports / took,
            "reports/s",
            None,
        ),
        ("  failed calls (an invoke refused, rejected or timed out)", got["failed"], "", "0"),
        (
            f"  reports lost: owed by the log {owed:,} per association, minus received",
            lost,
            "reports",
            "0",
        ),
        ("  CPU of the node + link process (% of a core)", node_cpu, "%", None),
        (
            "  CPU of the applications' process (all associations, decoding every report)",
            100 * got["client_cpu"] / took,
            "%",
            None,
        ),
    ]


def run(progress: Progress, plan: Plan) -> list[Row]:
    with tempfile.TemporaryDirectory() as d:
        return asyncio.run(measure(Path(d), progress, plan))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.csta_link", description=__doc__)
    parser.add_argument("--associations", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--calls", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    console = Console()
    rows: list[Row] = []
    with Progress(console=console, transient=True) as progress:
        for n in args.associations:
            rows += run(progress, Plan(n, args.calls, args.concurrency))
    table = Table(title="5b. CSTA link end to end")
    for col in ("measure", "value", "unit"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for name, value, unit, _ in rows:
        table.add_row(str(name), f"{value:,.1f}", str(unit))
    print_table(console, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
