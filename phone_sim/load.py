"""`phone-sim load`: a realistic call mix against a live node, paced at a target rate.

Every call is one flow of the mix (answered, no answer, busy, consultation + transfer,
conference, deflect, pickup) played by parties taken from a pool of idle ones: the site's
system phones, plus trunk parties (+49301000…) as callers up to ``--devices``. A flow that
finds no idle party is counted as skipped, never forced onto a busy phone. Every request's
latency is measured from sending it to having seen every event it caused."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping

import attrs
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from cti.mqtt.client import Endpoint
from cti.tools.output import print_table
from phone_sim.link.base import Link, NoStatus, Refusal
from phone_sim.link.mqtt import MqttLink
from phone_sim.sim import Simulator

MIX: dict[str, int] = {  # relative weights of the flows
    "answered": 40,
    "no-answer": 10,
    "busy": 10,
    "consult-transfer": 15,
    "conference": 10,
    "deflect": 10,
    "pickup": 5,
}
TALK_SECONDS = 0.2  # short calls: the point is switching, not waiting


@attrs.frozen
class LoadPlan:
    devices: int
    rate: float  # flows (calls) started per second
    duration: float
    seed: int | None = None


@attrs.define
class Stats:
    started: int = 0
    completed: int = 0
    skipped: int = 0
    flows: Counter[str] = attrs.Factory(Counter)
    errors: Counter[str] = attrs.Factory(Counter)
    latencies: list[float] = attrs.Factory(list)  # seconds per request

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Timed:
    """A person acting through the simulator (``act``); latencies are recorded per request
    by the simulator itself (``Simulator.on_request``)."""

    def __init__(self, sim: Simulator, stats: Stats) -> None:
        self.sim = sim
        sim.on_request = lambda _service, seconds: stats.latencies.append(seconds)

    async def __call__(self, number: str, verb: str, *args: str) -> None:
        await self.sim.act(number, verb, *args)


class Pool:
    """Idle parties: phones take calls, trunk parties place them."""

    def __init__(self, phones: list[str], callers: list[str], rng: random.Random) -> None:
        self.free_phones, self.free_callers, self.rng = list(phones), list(callers), rng

    def take(self, phones: int, callers: int = 1) -> tuple[list[str], list[str]] | None:
        if len(self.free_phones) < phones or len(self.free_callers) < callers:
            return None
        self.rng.shuffle(self.free_phones)
        got = [self.free_phones.pop() for _ in range(phones)]
        return got, [self.free_callers.pop() for _ in range(callers)]

    def give(self, phones: list[str], callers: list[str]) -> None:
        self.free_phones += phones
        self.free_callers += callers


Flow = Callable[[Simulator, Timed, list[str], str], Awaitable[None]]


async def _settle(sim: Simulator, parties: list[str]) -> None:
    """Leave nothing behind: whoever is still in a call hangs up."""
    for number in parties:
        phone = sim.phone(number)
        for call in list(phone.legs):
            try:
                await sim.request("clearConnection", call=call, device=number)
            except Refusal:
                phone.legs.pop(call, None)  # already gone at the node
            except (ConnectionError, TimeoutError):
                return  # the link is down: nothing to clear with


async def answered(sim: Simulator, act: Timed, phones: list[str], caller: str) -> None:
    await act(caller, "dials", phones[0])
    await act(phones[0], "answers")
    await asyncio.sleep(TALK_SECONDS)
    await act(caller, "hangs-up")


async def no_answer(sim: Simulator, act: Timed, phones: list[str], caller: str) -> None:
    await act(caller, "dials", phones[0])
    await asyncio.sleep(TALK_SECONDS)
    await act(caller, "hangs-up")


async def busy(sim: Simulator, act: Timed, phones: list[str], caller: str) -> None:
    await act(phones[0], "dials", phones[1])  # phones[1] is now busy with phones[0]'s call
    await act(phones[1], "answers")
    await act(caller, "dials", phones[1])
    await act(caller, "hangs-up")
    await act(phones[0], "hangs-up")


async def consult_transfer(sim: Simulator, act: Timed, phones: list[str], caller: str) -> None:
    await act(caller, "dials", phones[0])
    await act(phones[0], "answers")
    await act(phones[0], "consults", phones[1])
    await act(phones[1], "answers")
    await act(phones[0], "transfers")
    await asyncio.sleep(TALK_SECONDS)
    await act(caller, "hangs-up")


async def conference(sim: Simulator, act: Timed, phones: list[str], caller: str) -> None:
    await act(caller, "dials", phones[0])
    await act(phones[0], "answers")
    await act(phones[0], "consults", phones[1])
    await act(phones[1], "answers")
    await act(phones[0], "conferences")
    await asyncio.sleep(TALK_SECONDS)
    await act(phones[1], "hangs-up")
    await act(caller, "hangs-up")  # the last two: the call ends, phones[0] is idle again


async def deflect(sim: Simulator, act: Timed, phones: list[str], caller: str) -> None:
    await act(caller, "dials", phones[0])
    await act(phones[0], "deflects", "to", phones[1])
    await act(phones[1], "answers")
    await act(caller, "hangs-up")


async def pickup(sim: Simulator, act: Timed, phones: list[str], caller: str) -> None:
    await act(caller, "dials", phones[0])
    await act(phones[1], "picks-up", phones[0])
    await act(caller, "hangs-up")


FLOWS: dict[str, tuple[Flow, int]] = {  # flow, internal phones it needs
    "answered": (answered, 1),
    "no-answer": (no_answer, 1),
    "busy": (busy, 2),
    "consult-transfer": (consult_transfer, 2),
    "conference": (conference, 2),
    "deflect": (deflect, 2),
    "pickup": (pickup, 2),
}


def parties(sim: Simulator, devices: int) -> tuple[list[str], list[str]]:
    """The system phones that take part and the trunk parties that call them."""
    phones = sorted(
        n
        for n, kind in sim.kinds.items()
        if kind == "system_phone" and not sim.phone(n).mobile and sim.summaries.get(n) == "idle"
    )[: max(2, devices // 2)]
    callers = [f"+49301000{i:04d}" for i in range(max(1, devices - len(phones)))]
    return phones, callers


async def generate(sim: Simulator, plan: LoadPlan, stats: Stats, tick: Callable[[], None]) -> None:
    rng = random.Random(plan.seed)
    phones, callers = parties(sim, plan.devices)
    pool = Pool(phones, callers, rng)
    act = Timed(sim, stats)
    running: set[asyncio.Task[None]] = set()
    names, weights = list(MIX), list(MIX.values())

    async def play(name: str, flow: Flow, got: list[str], caller: str) -> None:
        try:
            await flow(sim, act, got, caller)
            stats.completed += 1
        except Refusal as exc:
            stats.errors[f"{name}: {exc.code}"] += 1
        except (TimeoutError, ConnectionError) as exc:
            stats.errors[f"{name}: {type(exc).__name__}"] += 1
        finally:
            try:
                await _settle(sim, [*got, caller])
            finally:
                pool.give(got, [caller])

    start = loop_time = asyncio.get_running_loop().time()
    n = 0
    while loop_time - start < plan.duration:
        n += 1
        name = rng.choices(names, weights)[0]
        flow, need = FLOWS[name]
        taken = pool.take(need)
        if taken is None:
            stats.skipped += 1
        else:
            stats.started += 1
            stats.flows[name] += 1
            task = asyncio.create_task(play(name, flow, taken[0], taken[1][0]))
            running.add(task)
            task.add_done_callback(running.discard)
        tick()
        due = start + n / plan.rate
        loop_time = asyncio.get_running_loop().time()
        if due > loop_time:
            await asyncio.sleep(due - loop_time)
            loop_time = asyncio.get_running_loop().time()
    if running:
        _, unfinished = await asyncio.wait(running, timeout=30)
        for task in unfinished:  # a hung flow is an error, not a success left uncounted
            task.cancel()
        if unfinished:
            stats.errors["unfinished after 30 s"] += len(unfinished)


def report(stats: Stats, plan: LoadPlan, elapsed: float, node: str = "") -> Table:
    on = f" on {node}" if node else ""
    table = Table(title=f"phone-sim load{on}: {plan.rate:g} calls/s for {plan.duration:g} s")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("calls started", f"{stats.started}"),
        ("calls completed", f"{stats.completed}"),
        ("achieved calls/s", f"{stats.completed / elapsed:.1f}" if elapsed else "0"),
        ("skipped (no idle party)", f"{stats.skipped}"),
        ("errors", f"{sum(stats.errors.values())}"),
        ("requests", f"{len(stats.latencies)}"),
        ("latency p50", f"{stats.percentile(0.5) * 1000:.1f} ms"),
        ("latency p99", f"{stats.percentile(0.99) * 1000:.1f} ms"),
        ("latency max", f"{max(stats.latencies, default=0) * 1000:.1f} ms"),
        ("mix", ", ".join(f"{k} {v}" for k, v in sorted(stats.flows.items()))),
    ]
    rows += [(f"  {k}", f"{v}") for k, v in sorted(stats.errors.items())]
    for row in rows:
        table.add_row(*row)
    return table


async def load_with(link: Link, plan: LoadPlan, console: Console) -> Stats:
    """One node's load run, its report printed."""
    return (await load_nodes({"": link}, plan, console))[""]


async def load_nodes(
    links: Mapping[str, Link], plan: LoadPlan, console: Console
) -> dict[str, Stats]:
    """The plan against every node of ``links`` at once (node name -> its link; each node
    gets the whole plan), one progress bar and one report per node."""
    sims = {node: Simulator(link) for node, link in links.items()}
    started_sims: list[Simulator] = []
    stats = {node: Stats() for node in links}
    total = max(1, int(plan.rate * plan.duration))
    started = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]load {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} calls"),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )

    async def run(node: str, sim: Simulator, bar: TaskID) -> None:
        mine = stats[node]

        def tick() -> None:
            info = f"done {mine.completed} err {sum(mine.errors.values())}"
            progress.update(bar, advance=1, info=info)

        await generate(sim, plan, mine, tick)

    try:
        for sim in sims.values():
            await sim.start()
            started_sims.append(sim)
        # A node that is not online (no status, or its last word "offline") has no phones
        # to call: say so, run nothing.
        silent = {
            sim.link.node: sim.link.node_state
            for sim in sims.values()
            if isinstance(sim.link, MqttLink) and not sim.link.node_online
        }
        if silent:
            raise NoStatus(silent)
        with progress:
            bars = {node: progress.add_task(node, total=total, info="") for node in sims}
            await asyncio.gather(*(run(node, sim, bars[node]) for node, sim in sims.items()))
    finally:
        for sim in started_sims:
            await sim.close()
    elapsed = time.perf_counter() - started
    for node, got in stats.items():
        print_table(console, report(got, plan, elapsed, node))
    return stats


async def run_load(endpoints: Mapping[str, Endpoint], plan: LoadPlan, console: Console) -> int:
    """`phone-sim load` against each node (name -> where and as whom) at once: 0 if every
    node's run completed calls without an error. Raises NoStatus, before anything ran, if a
    node publishes no status (phone_sim/cli.py says so)."""
    links: dict[str, Link] = {
        node: MqttLink(endpoint, node, name=f"load-{node}") for node, endpoint in endpoints.items()
    }
    stats = await load_nodes(links, plan, console)
    return 1 if any(s.errors or not s.completed for s in stats.values()) else 0
