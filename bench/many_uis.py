"""Section 2b: 1,000 signed-in UIs while an integrator drives calls.

A site of 1,000 phones, a user account per phone (bench/signed_in.py: one precomputed hash
pair for all). Each UI is one of our MqttClients signed in as its user and subscribed to what
the broker's ACL lets a user read: its own device's ``state`` and ``events`` and the busy lamps
(``lamps/+``, or only ``--lamps N`` favourites each). The UIs run in ``--procs`` processes of
their own, the integrator that drives the calls in another, the node (engine, outbox, MQTT face)
in this one, mosquitto in its own: on this machine all of them share two cores.

The integrator places ``--rate`` two-party calls a second for ``--seconds`` (makeCall, then
answerCall, then clearConnection, each as soon as the previous reply is in; pairs of phones in
turn). Measured:

- latency: makeCall request published by the integrator -> the ``delivered`` event on
  ``devices/{called}/events`` seen by the called user's UI (CLOCK_MONOTONIC across processes);
- events lost: every (user, seq) the node's log says the user is entitled to (the events of
  the user's own devices, access.readable, after the UIs subscribed) that the user's UI did not
  receive. Must be 0.

Run alone: ``python -m bench.many_uis [--users N] [--rate R] [--seconds S] [--lamps N |
--all-lamps] [--procs N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from bench.office import big_site, pair
from bench.sections import Row
from bench.signed_in import (
    USER_PASSWORD,
    Requester,
    integrator,
    integrator_login,
    raise_fd_limit,
    seed,
    start_broker,
    users,
)
from cti.accounts.access import readable
from cti.app.clock import SystemClock
from cti.app.engine import Engine
from cti.app.node import Node, decode
from cti.mqtt.client import MqttClient
from cti.mqtt.client import protocol as p
from cti.mqtt.face.service import MqttFace
from cti.site.model import DeviceKind
from cti.store import SqliteStore
from cti.tools.output import print_table

SIGN_IN_AT_ONCE = 16  # concurrent CONNECTs per UI process: mosquitto verifies one at a time
BROKER_RSS_LIMIT_MB = 4_000  # give up rather than let a broker queueing for slow UIs eat the RAM


@attrs.frozen
class Plan:
    users: int = 1_000
    rate: float = 100.0  # calls/s
    seconds: float = 25.0
    lamps: int | None = 20  # N favourites' lamps each; None: every lamp (lamps/+)
    procs: int = 2  # processes the UIs are spread over

    @property
    def calls(self) -> int:
        return int(self.rate * self.seconds)

    def watching(self) -> str:
        lamps = "every lamp (lamps/+)" if self.lamps is None else f"{self.lamps} favourites' lamps"
        return f"own devices/{{d}}/state+events, {lamps}"


# What `make bench` runs. The row: 100 calls/s, each UI with the lamps of 20
# favourites (a busy-lamp panel). Every lamp (lamps/+) for every UI is a fan-out of ~6 lamp
# changes per call to each of the 1,000 UIs (600,000 messages/s at 100 calls/s, far beyond two
# shared cores): measured at 10 calls/s.
PLANS = (Plan(), Plan(rate=10.0, seconds=20.0, lamps=None))


# Slots of the shared counters, per UI process (the driver has its own array).
CONNECTED, EVENTS, MESSAGES, RETAINED = range(4)


def _filters(node: str, number: str, numbers: Sequence[str], lamps: int | None) -> list[str]:
    base = f"cti/{node}"
    own = [f"{base}/devices/{number}/state", f"{base}/devices/{number}/events"]
    if lamps is None:
        return [*own, f"{base}/lamps/+"]
    i = numbers.index(number)
    favourites = [numbers[(i + k) % len(numbers)] for k in range(1, lamps + 1)]
    return own + [f"{base}/lamps/{f}" for f in favourites]


# -- the UIs, in processes of their own --------------------------------------------------------
class Ui:
    """One user's UI: counts what arrives; keeps the seqs of its device's events."""

    def __init__(self, node: str, number: str, counters: Any, delivered: list[Any]) -> None:
        self.number = number
        self.events_topic = f"cti/{node}/devices/{number}/events"
        self.seqs: set[int] = set()
        self.duplicates = 0
        self.counters, self.delivered = counters, delivered

    def on_message(self, m: p.Message) -> None:
        now = time.perf_counter()
        self.counters[MESSAGES] += 1
        if m.retain:
            self.counters[RETAINED] += 1  # what the subscriptions found: its state, the lamps
        if m.topic != self.events_topic:
            return  # its state or a lamp: counted only
        doc = json.loads(m.payload)
        seq = doc["seq"]
        if seq in self.seqs:
            self.duplicates += 1  # at least once: a UI drops what it has seen
            return
        self.seqs.add(seq)
        self.counters[EVENTS] += 1
        if doc["event"] == "delivered" and doc.get("alerting") == self.number:
            self.delivered.append((self.number, doc["call"], now))


async def _uis(
    port: int,
    node: str,
    numbers: list[str],
    mine: list[str],
    lamps: int | None,
    counters: Any,
    stop: Any,
    out: Any,
) -> None:
    raise_fd_limit(len(mine) + 256)
    delivered: list[tuple[str, int, float]] = []
    uis = {n: Ui(node, n, counters, delivered) for n in mine}
    clients: list[MqttClient] = []
    refused: list[str] = []
    gate = asyncio.Semaphore(SIGN_IN_AT_ONCE)

    async def sign_in(number: str) -> None:
        async with gate:
            client = MqttClient(
                "127.0.0.1",
                port,
                f"ui-{number}",
                username=number,
                password=USER_PASSWORD,
                keepalive=60,
                on_message=uis[number].on_message,
            )
            await client.connect(timeout=120)
            filters = _filters(node, number, numbers, lamps)
            granted = await client.subscribe([(f, 1) for f in filters], timeout=120)
            if any(code >= 0x80 for code in granted):
                refused.append(f"{number}: {granted.hex()}")
            clients.append(client)
            counters[CONNECTED] += 1

    await asyncio.gather(*(sign_in(n) for n in mine))
    cpu = time.process_time()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    out.put(
        {
            "seqs": {n: sorted(ui.seqs) for n, ui in uis.items()},
            "delivered": delivered,
            "duplicates": sum(ui.duplicates for ui in uis.values()),
            "messages": counters[MESSAGES],
            "refused": refused,
            "dropped": sum(not c.connected for c in clients),
            "cpu": time.process_time() - cpu,
        }
    )
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


def _ui_process(*args: Any) -> None:
    asyncio.run(_uis(*args))


# -- the integrator driving the calls, in a process of its own -----------------------------------
async def _drive(port: int, node: str, plan: Plan, progress: Any, go: Any, out: Any) -> None:
    request = Requester(port, node, integrator_login(), name="driver")
    await request.start()
    progress[1] = 1  # ready
    while not go.is_set():
        await asyncio.sleep(0.01)
    pairs = plan.users // 2
    made: list[tuple[int, str, float]] = []  # call, called, makeCall request published

    async def call(k: int) -> None:
        a, b = pair(k % pairs)
        sent = time.perf_counter()
        reply = await request("makeCall", calling=a, called=b)
        c = reply["result"]["call"]
        made.append((c, b, sent))
        await request("answerCall", call=c, device=b)
        await request("clearConnection", call=c, device=a)
        progress[0] += 1

    cpu = time.process_time()
    start = time.perf_counter()
    tasks = []
    for k in range(plan.calls):
        await asyncio.sleep(max(0.0, start + k / plan.rate - time.perf_counter()))
        tasks.append(asyncio.create_task(call(k)))
    sent_for = time.perf_counter() - start
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    out.put(
        {
            "made": made,
            "errors": errors[:5],
            "failed": len(errors),
            "rate": plan.calls / sent_for,
            "cpu": time.process_time() - cpu,
            "took": time.perf_counter() - start,
        }
    )
    await request.client.disconnect()


def _driver_process(*args: Any) -> None:
    asyncio.run(_drive(*args))


# -- the node, and the measuring ---------------------------------------------------------------
def _cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def entitled(store: SqliteStore, node: Node, numbers: Sequence[str], after: int) -> set[Any]:
    """Every (user, seq) of the log after ``after`` that the user's UI receives: the events
    on their own devices' topics (access.readable; a person's own presence, profile and
    mailbox events are on ``users/{user}/events`` instead, which the UIs do not subscribe),
    internal ones never."""
    owners: dict[str, list[str]] = defaultdict(list)
    for user in numbers:
        scope = readable(node.site, node.state, user)
        assert scope is not None
        for device in scope:
            owners[device].append(user)
    out: set[tuple[str, int]] = set()
    seq = after + 1
    while records := store.read(seq, 5_000):
        for record in records:
            event = decode(record).event
            if not event.INTERNAL:
                out.update(
                    (u, record.seq) for d in event.topic_devices() for u in owners.get(d, ())
                )
        seq = records[-1].seq + 1
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q + 0.5) - 1)] if ordered else float("nan")


async def measure(tmp: Path, progress: Progress, plan: Plan) -> list[Row]:
    # mosquitto inherits it: a socket per UI (its max_connections is unlimited by default and
    # the embedded config does not set it).
    raise_fd_limit(2 * plan.users + 1024)
    site = big_site(plan.users)
    numbers = sorted(n for n, d in site.devices.items() if d.kind is DeviceKind.SYSTEM_PHONE)
    store = SqliteStore(tmp / "uis.db")
    reader = store.sibling(readonly=True)
    node = Node(site, store, SystemClock())
    seed(node, [integrator(), *users(numbers)])
    broker, login = await start_broker(tmp, node)
    ctx = multiprocessing.get_context("spawn")
    procs: list[Any] = []
    engine = Engine(node)
    face = MqttFace(
        engine,
        store.sibling(),
        "127.0.0.1",
        broker.port,
        username=login.user,
        password=login.password,
    )
    runner: asyncio.Task[None] | None = None
    try:
        await engine.start()
        runner = asyncio.create_task(face.run())
        await face.connected.wait()

        def alive() -> None:
            for proc in procs:
                if proc.exitcode not in (None, 0):
                    raise RuntimeError(f"{proc.name} failed (exit code {proc.exitcode})")
            if _rss_mb(broker.pid) > BROKER_RSS_LIMIT_MB:
                raise RuntimeError(f"mosquitto's RSS passed {BROKER_RSS_LIMIT_MB} MB: stopped")

        # 1. Sign the UIs in.
        stop, ui_out = ctx.Event(), ctx.Queue()
        counters = [ctx.RawArray("q", 4) for _ in range(plan.procs)]
        for i in range(plan.procs):
            mine = numbers[i :: plan.procs]
            args = (broker.port, site.node, numbers, mine, plan.lamps, counters[i], stop, ui_out)
            procs.append(ctx.Process(target=_ui_process, args=args, name=f"uis-{i}"))
        signing = progress.add_task(f"signing in {plan.users:,} UIs", total=plan.users)
        started = time.perf_counter()
        for proc in procs:
            proc.start()
        while (n := sum(c[CONNECTED] for c in counters)) < plan.users:
            alive()
            progress.update(signing, completed=n)
            await asyncio.sleep(0.1)
        sign_in = time.perf_counter() - started
        progress.update(signing, completed=plan.users)
        # Each subscription first gets the retained documents: the UI's state and its lamps
        # (with lamps/+ a million messages for 1,000 UIs). The load starts once all are in.
        lamps = len(site.devices) if plan.lamps is None else plan.lamps
        retained = plan.users * (1 + lamps)
        settling = progress.add_task("retained states and lamps to the UIs", total=retained)
        while (n := sum(c[RETAINED] for c in counters)) < retained:
            alive()
            progress.update(settling, completed=n)
            await asyncio.sleep(0.1)
        settled = time.perf_counter() - started
        progress.update(settling, completed=retained)

        # 2. Drive the calls.
        go, driver_out = ctx.Event(), ctx.Queue()
        driven = ctx.RawArray("q", 2)
        driver = ctx.Process(
            target=_driver_process,
            args=(broker.port, site.node, plan, driven, go, driver_out),
            name="driver",
        )
        procs.append(driver)
        driver.start()
        while not driven[1]:
            alive()
            await asyncio.sleep(0.05)
        first = node.state.seq
        messages0 = sum(c[MESSAGES] for c in counters)
        calls = progress.add_task(
            f"{plan.rate:,.0f} calls/s for {plan.seconds:,.0f} s", total=plan.calls
        )
        events = progress.add_task("events seen by the UIs", total=None)
        cpu, wall, broker_cpu = time.process_time(), time.perf_counter(), _cpu_seconds(broker.pid)
        peak_rss = 0.0
        go.set()
        while driver_out.empty():
            alive()
            peak_rss = max(peak_rss, _rss_mb(broker.pid))
            progress.update(calls, completed=driven[0])
            progress.update(events, completed=sum(c[EVENTS] for c in counters))
            await asyncio.sleep(0.1)
        drive = driver_out.get()
        progress.update(calls, completed=driven[0])
        last = node.state.seq

        # 3. Everything published, then every UI has what it is entitled to (or 30 s pass).
        deadline = time.perf_counter() + 60
        while face.outbox.acked < last:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the outbox is stuck at {face.outbox.acked} of {last}")
            await asyncio.sleep(0.02)
        took = time.perf_counter() - wall
        node_cpu = 100 * (time.process_time() - cpu) / took
        broker_cpu = 100 * (_cpu_seconds(broker.pid) - broker_cpu) / took
        want = entitled(reader, node, numbers, first)
        progress.update(events, total=len(want))
        deadline = time.perf_counter() + 30
        while (n := sum(c[EVENTS] for c in counters)) < len(want):
            if time.perf_counter() > deadline:
                break
            progress.update(events, completed=n)
            await asyncio.sleep(0.1)
        progress.update(events, completed=n)
        # Everything for the window (a connection delivers in order: with its last event a UI
        # has the lamps and states published before it).
        messages = sum(c[MESSAGES] for c in counters) - messages0
        stop.set()
        reports = [ui_out.get(timeout=60) for _ in range(plan.procs)]
        for proc in procs:
            proc.join(30)
        for task in (signing, settling, calls, events):
            progress.remove_task(task)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        await face.stop()
        if runner is not None:
            runner.cancel()
        await engine.stop()
        reader.close()
        store.close()
        await broker.stop()

    got = {(n, s) for r in reports for n, seqs in r["seqs"].items() for s in seqs}
    lost = want - got
    extra = got - want  # an event a user was not entitled to (or from before the window)
    seen_at = {(n, c): t for r in reports for n, c, t in r["delivered"]}
    latencies = [
        (seen_at[(b, c)] - sent) * 1000 for c, b, sent in drive["made"] if (b, c) in seen_at
    ]
    problems = [*drive["errors"], *(x for r in reports for x in r["refused"])]
    dropped = sum(r["dropped"] for r in reports)
    if lost or extra or problems or dropped or drive["failed"]:
        print(
            f"2b: {len(lost)} lost, e.g. {sorted(lost)[:10]}; {len(extra)} unexpected, e.g. "
            f"{sorted(extra)[:10]}; {drive['failed']} failed calls; {dropped} connections "
            f"dropped; {problems[:5]}",
            file=sys.stderr,
        )
    ui_cpu = 100 * sum(r["cpu"] for r in reports) / took
    who = f"{plan.users:,} UIs"
    return [
        (
            f"{who} signed in (user accounts, ACLs on), each reading {plan.watching()}:"
            " time to sign all in (PBKDF2 per CONNECT)",
            sign_in,
            "s",
            None,
        ),
        ("  time until all had their retained state and lamps", settled, "s", None),
        (
            f"  calls/s an integrator drove meanwhile (make, answer, clear), {plan.seconds:.0f} s",
            drive["rate"],
            "calls/s",
            None,
        ),
        (
            "  latency p50 makeCall request -> delivered seen by the called user's UI",
            statistics.median(latencies) if latencies else float("nan"),
            "ms",
            None,
        ),
        (
            "  latency p99, same",
            _percentile(latencies, 0.99),
            "ms",
            None,
        ),
        ("  latency max, same", max(latencies, default=float("nan")), "ms", None),
        (
            f"  events lost: of {len(want):,} (user, seq) the log entitles the UIs to",
            len(lost),
            "events",
            "0",
        ),
        ("  failed requests or dropped UI connections", drive["failed"] + dropped, "count", "0"),
        (
            "  messages to all UIs per second of load (events, states, lamps)",
            messages / plan.seconds,
            "msg/s",
            None,
        ),
        ("  CPU of the node process", node_cpu, "% of a core", None),
        ("  CPU of mosquitto", broker_cpu, "% of a core", None),
        (f"  CPU of the {plan.procs} UI processes together", ui_cpu, "% of a core", None),
        ("  CPU of the integrator process", 100 * drive["cpu"] / took, "% of a core", None),
        ("  mosquitto RSS, peak", peak_rss, "MB", None),
    ]


def run(progress: Progress | None = None, plan: Plan | None = None) -> list[Row]:
    plan = plan or Plan()
    with tempfile.TemporaryDirectory() as d:
        if progress is not None:
            return asyncio.run(measure(Path(d), progress, plan))
        with _progress() as own:
            return asyncio.run(measure(Path(d), own, plan))


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.many_uis", description=__doc__)
    default = Plan()
    parser.add_argument("--users", type=int, default=default.users)
    parser.add_argument("--rate", type=float, default=default.rate, help="calls/s")
    parser.add_argument("--seconds", type=float, default=default.seconds)
    parser.add_argument("--lamps", type=int, default=default.lamps, help="favourites' lamps each")
    parser.add_argument("--all-lamps", action="store_true", help="every lamp: lamps/+")
    parser.add_argument("--procs", type=int, default=default.procs, help="UI processes")
    args = parser.parse_args(argv)
    lamps = None if args.all_lamps else args.lamps
    plan = Plan(args.users, args.rate, args.seconds, lamps, args.procs)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    table = Table(title=f"2b. {plan.users:,} signed-in UIs")
    for col in ("measure", "value", "unit", "target"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for name, value, unit, target in run(plan=plan):
        table.add_row(name, f"{value:,.1f}", unit, target or "")
    print_table(Console(), table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
