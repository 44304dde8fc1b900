"""Section 2: end to end through a private mosquitto, next to raw baselines in the same run.

Signed in, ACLs on, as `cti serve --broker embedded` runs (bench/signed_in.py): mosquitto
checks every sign-in against the node's password file and every publish and delivery against
its ACL files; the node signs in with its secret, the UI and the consumers as an integrator,
requests go to cti/{node}/users/{u}/requests/{service} and replies to that user's inbox. The
raw baselines sign in too (as the node, on a topic under cti/{node}/), so they are the
ceiling under the same checks."""

from __future__ import annotations

import asyncio
import cProfile
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from bench.office import big_site, pair
from bench.sections import Row
from bench.signed_in import Login, Requester, integrator, integrator_login, seed, start_broker
from cti.app import heap
from cti.app.clock import SystemClock
from cti.app.engine import Engine
from cti.app.node import Node
from cti.mqtt.client import protocol as p
from cti.mqtt.face.service import MqttFace
from cti.store import SqliteStore

PAYLOAD = b"x" * 300


@attrs.frozen
class Raw:
    """One raw baseline run: its rate and the CPU time per message of the broker and of the
    bench's process (publisher and subscriber both)."""

    rate: float
    broker_us: float
    clients_us: float


async def raw_baseline(
    port: int, login: Login, topic: str, broker_pid: int | None, n: int = 60_000
) -> Raw:
    """Our client straight through the broker: the ceiling for anything we publish."""
    done = asyncio.Event()
    got = 0

    def count(_m: p.Message) -> None:
        nonlocal got
        got += 1
        if got == n:
            done.set()

    sub = login.client(port, "raw-sub", on_message=count)
    pub = login.client(port, "raw-pub")
    await sub.connect()
    await sub.subscribe([(f"{topic}/#", 1)])
    await pub.connect()
    started = time.perf_counter()
    cpu, broker_cpu = time.process_time(), _cpu_seconds(broker_pid)
    for i in range(n):
        pub.publish(f"{topic}/{i % 64}", PAYLOAD)
        if i % 2000 == 0:
            await asyncio.sleep(0)
    await asyncio.wait_for(done.wait(), 120)
    took = time.perf_counter() - started
    cpu, broker_cpu = time.process_time() - cpu, _cpu_seconds(broker_pid) - broker_cpu
    await pub.disconnect()
    await sub.disconnect()
    return Raw(n / took, 1e6 * broker_cpu / n, 1e6 * cpu / n)


async def aiomqtt_baseline(port: int, login: Login, topic: str, n: int = 3_000) -> float:
    """aiomqtt, one awaited QoS 1 publish at a time (the client the issue measured)."""
    import aiomqtt

    async with aiomqtt.Client(
        "127.0.0.1", port, username=login.user, password=login.password
    ) as client:
        started = time.perf_counter()
        for i in range(n):
            await client.publish(f"{topic}/{i % 64}", PAYLOAD, qos=1)
        return n / (time.perf_counter() - started)


ROUNDS = 3  # throughput rounds, each right after a raw baseline of its own


async def load(
    port: int,
    node: str,
    out: multiprocessing.Queue[dict[str, float]],
    go: multiprocessing.Queue[int],
) -> None:
    """The UI side, in its own process, signed in as the integrator: requests on its request
    topics, replies in its inbox, every event message counted. ROUNDS throughput rounds,
    each when the node's process says go (it measures a raw baseline just before), then the
    latency runs."""
    received = 0
    delivered_at: dict[str, float] = {}

    cleared = 0

    def on_event(m: p.Message) -> None:
        nonlocal received, cleared
        received += 1
        if b'"callCleared"' in m.payload and "/calls/" in m.topic:
            cleared += 1
        if b'"delivered"' in m.payload and m.topic.endswith("/events") and "/devices/" in m.topic:
            doc = json.loads(m.payload)
            if doc.get("monitoredDevice") == doc.get("alerting"):
                delivered_at[doc["alerting"]] = time.perf_counter()

    login = integrator_login()
    sub = login.client(port, "bench-sub", on_message=on_event)
    await sub.connect()
    granted = await sub.subscribe(
        [(f"cti/{node}/devices/+/events", 1), (f"cti/{node}/calls/+/events", 1)]
    )
    assert all(code < 0x80 for code in granted), f"subscriptions refused: {granted.hex()}"
    request = Requester(port, node, login)
    await request.start()
    out.put({"ready": 1.0})  # connected and subscribed: the node's process may measure now

    async def worker(i: int, calls: int) -> None:
        a, b = pair(i)
        for _ in range(calls):
            made = await request("makeCall", calling=a, called=b)
            call = made["result"]["call"]
            await request("answerCall", call=call, device=b)
            await request("clearConnection", call=call, device=a)

    pairs, calls_each = 200, 20
    for _ in range(ROUNDS):
        while go.empty():
            await asyncio.sleep(0.01)
        go.get()
        before = received
        started = time.perf_counter()
        cpu = time.process_time()
        await asyncio.gather(*(worker(i, calls_each) for i in range(pairs)))
        # 6 events on the call topic, 9 on the two device topics
        expected = before + pairs * calls_each * 15
        while received < expected and time.perf_counter() - started < 60:
            await asyncio.sleep(0.005)
        took = time.perf_counter() - started
        out.put(
            {
                "received_per_s": (received - before) / took,
                "calls_per_s": pairs * calls_each / took,
                "ui_us_per_call": 1e6 * (time.process_time() - cpu) / (pairs * calls_each),
                "calls": pairs * calls_each,
            }
        )
    result: dict[str, float] = {}
    # Latency at a fixed 500 calls/s: makeCall request -> delivered on the callee's topic;
    # three runs of 1,000 calls, the median of each percentile.
    p50s, p99s, lost = [], [], 0
    for _ in range(3):
        delivered_at.clear()
        sent: dict[str, float] = {}
        calls, interval = 1000, 1 / 500
        start = time.perf_counter()
        tasks = []
        for k in range(calls):
            a, b = pair(k)
            await asyncio.sleep(max(0.0, start + k * interval - time.perf_counter()))
            sent[b] = time.perf_counter()
            tasks.append(asyncio.create_task(request("makeCall", calling=a, called=b)))
        made = await asyncio.gather(*tasks)
        while len(delivered_at) < calls and time.perf_counter() - start < 30:
            await asyncio.sleep(0.005)
        lat = sorted((delivered_at[b] - t0) * 1000 for b, t0 in sent.items() if b in delivered_at)
        p50s.append(lat[len(lat) // 2])
        p99s.append(lat[max(0, int(len(lat) * 0.99) - 1)])
        lost += calls - len(lat)
        # Clear them, and let every resulting event arrive before the next run starts.
        before = cleared
        await asyncio.gather(*(request("clearCall", call=m["result"]["call"]) for m in made))
        while cleared < before + calls and time.perf_counter() - start < 60:
            await asyncio.sleep(0.01)
    result["p50"] = statistics.median(p50s)
    result["p99"] = statistics.median(p99s)
    result["lost"] = lost
    out.put(result)
    await sub.disconnect()


def _load_process(
    port: int,
    node: str,
    out: multiprocessing.Queue[dict[str, float]],
    go: multiprocessing.Queue[int],
) -> None:
    asyncio.run(load(port, node, out, go))


async def _get(out: multiprocessing.Queue[dict[str, float]]) -> dict[str, float]:
    while out.empty():
        await asyncio.sleep(0.05)
    return out.get()


def _profiler() -> cProfile.Profile | None:
    """``BENCH_PROFILE=file``: cProfile the node's process (engine, face, outbox) while the UI
    process runs, stats into that file (`python -m pstats file`). It slows the node down:
    the figures of such a run are not the benchmark's."""
    if not os.environ.get("BENCH_PROFILE"):
        return None
    profile = cProfile.Profile()
    profile.enable()
    return profile


def _sampler(round_no: int) -> subprocess.Popen[bytes] | None:
    """``BENCH_PYSPY=PREFIX``: py-spy samples the node's process during throughput round
    ``round_no`` into ``PREFIX.roundN.txt`` (collapsed stacks; `python -m bench.profile
    PREFIX.round*.txt` sums them up). Sampling from outside costs the node little, unlike
    cProfile, whose cost per call distorts a profile this flat."""
    prefix = os.environ.get("BENCH_PYSPY")
    if not prefix:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = f"{prefix}.round{round_no}.txt"
    command = [spy, "record", "--pid", str(os.getpid()), "--format", "raw", "--output", out]
    # --nonblocking: the node is not paused for each sample (what it costs is measured too).
    command += ["--rate", "250", "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop_sampler(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is None:
        return
    spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
    _, err = spy.communicate(timeout=30)
    if spy.returncode not in (0, -signal.SIGINT):
        raise RuntimeError(f"py-spy failed: {err.decode(errors='replace').strip()}")


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process (the broker child), from /proc."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def end_to_end(tmp: Path) -> list[Row]:
    # The node first: its accounts (the integrator) are what the broker's files say.
    site = big_site(2_000)
    store = SqliteStore(tmp / "e2e.db")
    node = Node(site, store, SystemClock())
    seed(node, [integrator()])
    heap.settle()  # as `cti serve` does once the log is replayed
    broker, login = await start_broker(tmp, node)
    raw_topic = f"cti/{site.node}/raw"  # the node's own account may write under cti/{node}/
    try:
        aio = await aiomqtt_baseline(broker.port, login, raw_topic)
        published = statistics.median(
            [await outbox_rate(broker.port, login, tmp / str(i)) for i in range(3)]
        )
        engine = Engine(node)
        await engine.start()
        face = MqttFace(
            engine,
            store.sibling(),
            "127.0.0.1",
            broker.port,
            username=login.user,
            password=login.password,
        )
        runner = asyncio.create_task(face.run())
        await face.connected.wait()
        assert face.client is not None
        ctx = multiprocessing.get_context("spawn")
        out: multiprocessing.Queue[dict[str, float]] = ctx.Queue()
        go: multiprocessing.Queue[int] = ctx.Queue()
        proc = ctx.Process(target=_load_process, args=(broker.port, site.node, out, go))
        proc.start()
        ready = await _get(out)  # its start-up must not run beside the first raw baseline
        assert "ready" in ready, ready
        profile = _profiler()
        rounds: list[Round] = []
        for round_no in range(1, ROUNDS + 1):
            # The machine's speed drifts over seconds: each round is compared with the raw
            # baseline measured just before it, while the node is idle.
            raw = await raw_baseline(broker.port, login, raw_topic, broker.pid)
            cpu, broker_cpu, sent = (
                time.process_time(),
                _cpu_seconds(broker.pid),
                face.client.published,
            )
            spy = _sampler(round_no)
            go.put(1)
            ui = await _get(out)
            _stop_sampler(spy)
            calls = ui["calls"]
            rounds.append(
                Round(
                    raw=raw,
                    calls_per_s=ui["calls_per_s"],
                    received_per_s=ui["received_per_s"],
                    node_us=1e6 * (time.process_time() - cpu) / calls,
                    broker_us=1e6 * (_cpu_seconds(broker.pid) - broker_cpu) / calls,
                    ui_us=ui["ui_us_per_call"],
                    sent_per_call=(face.client.published - sent) / calls,
                )
            )
        result = await _get(out)  # the latency runs
        if profile is not None:
            profile.disable()
            profile.dump_stats(os.environ["BENCH_PROFILE"])
        proc.join(10)
        await face.stop()
        runner.cancel()
        await engine.stop()
    finally:
        store.close()
        await broker.stop()
    return _rows(rounds, aio, published, result)


@attrs.frozen
class Round:
    """One throughput round and the raw baseline measured just before it; CPU per call."""

    raw: Raw
    calls_per_s: float
    received_per_s: float
    node_us: float
    broker_us: float
    ui_us: float
    sent_per_call: float

    @property
    def share(self) -> float:
        return 100 * self.received_per_s / self.raw.rate


def _rows(rounds: list[Round], aio: float, published: float, result: dict[str, float]) -> list[Row]:
    def median(f: Callable[[Round], float]) -> float:
        return statistics.median(f(r) for r in rounds)

    raw = median(lambda r: r.raw.rate)
    raw_broker_us = median(lambda r: r.raw.broker_us)
    raw_clients_us = median(lambda r: r.raw.clients_us)
    calls_per_s = median(lambda r: r.calls_per_s)
    ours = median(lambda r: r.received_per_s)
    per_call = median(lambda r: r.received_per_s / r.calls_per_s)  # event messages per call
    node_per_call = median(lambda r: r.node_us)
    broker_per_call = median(lambda r: r.broker_us)
    ui_per_call = median(lambda r: r.ui_us)
    shares = sorted(r.share for r in rounds)
    n = len(rounds)
    return [
        (
            f"raw baseline, signed in, ACLs on: our client -> mosquitto -> subscriber (median of"
            f" {n}, each just before a throughput round)",
            raw,
            "msg/s",
            None,
        ),
        (
            "  CPU time of mosquitto per raw message (one QoS 1 message in, one out)",
            raw_broker_us,
            "us/msg",
            None,
        ),
        (
            "  CPU time of the raw publisher + subscriber (one process) per raw message",
            raw_clients_us,
            "us/msg",
            None,
        ),
        (
            "  mosquitto's use of its one thread during the raw baseline",
            raw_broker_us * raw / 1e4,
            "% of a core",
            None,
        ),
        (
            "raw baseline, signed in, ACLs on: aiomqtt, one awaited QoS 1 publish",
            aio,
            "msg/s",
            None,
        ),
        (
            "outbox -> mosquitto, signed in, ACLs on, QoS 1, all topics: events/s at a consumer",
            published,
            "events/s",
            ">= 20000",
        ),
        ("  as share of the raw baseline", 100 * published / raw, "%", ">= 50"),
        (
            "two-party calls via users/{u}/requests, signed in (integrator), ACLs on, 2nd process"
            f" (median of {n} rounds of 4,000)",
            calls_per_s,
            "calls/s",
            None,
        ),
        ("event messages received by that UI process", ours, "msg/s", None),
        (
            "  as share of the raw baseline: median of the rounds' shares, each of the raw"
            " baseline just before it",
            shares[n // 2],
            "%",
            ">= 50",
        ),
        (f"  the lowest round's share (of {n})", shares[0], "%", None),
        (f"  the highest round's share (of {n})", shares[-1], "%", None),
        (
            "  CPU of the node's process during the rounds",
            node_per_call * calls_per_s / 1e4,
            "% of a core",
            None,
        ),
        ("  CPU of mosquitto, same", broker_per_call * calls_per_s / 1e4, "% of a core", None),
        ("  CPU of the UI process, same", ui_per_call * calls_per_s / 1e4, "% of a core", None),
        (
            "  CPU time of the engine process per two-party call, throughput phase (its"
            " threads: requests, engine, SQLite, outbox)",
            node_per_call,
            "us/call",
            None,
        ),
        (
            "  messages the node published per two-party call, throughput phase (events,"
            " retained states and lamps, replies)",
            median(lambda r: r.sent_per_call),
            "msg/call",
            None,
        ),
        (
            "  CPU time of mosquitto per two-party call, throughput phase",
            broker_per_call,
            "us/call",
            None,
        ),
        (
            "  CPU time of the UI process per two-party call, throughput phase",
            ui_per_call,
            "us/call",
            None,
        ),
        (
            "  CPU time per raw message: mosquitto + the raw clients' process",
            raw_broker_us + raw_clients_us,
            "us/msg",
            None,
        ),
        (
            "  CPU time per event message the UI received: node + mosquitto + UI process",
            (node_per_call + broker_per_call + ui_per_call) / per_call,
            "us/msg",
            None,
        ),
        (
            "  the same without the node: mosquitto + UI process (what the path costs even"
            " with a node that costs nothing)",
            (broker_per_call + ui_per_call) / per_call,
            "us/msg",
            None,
        ),
        (
            "  the node's CPU budget per call for 50 % with both cores 100 % busy: 2 cores /"
            " (calls/s at 50 % = raw / 2 / event msgs per call) - mosquitto - UI per call",
            2e6 / (raw / 2 / per_call) - broker_per_call - ui_per_call,
            "us/call",
            None,
        ),
        (
            "latency p50 request -> delivered, 500 calls/s, signed in, ACLs on",
            result["p50"],
            "ms",
            None,
        ),
        ("latency p99, same", result["p99"], "ms", "< 10"),
        ("  delivered events not seen in those runs (of 3,000)", result["lost"], "events", "0"),
    ]


def run(tmp: Path | None = None) -> list[Row]:
    with tempfile.TemporaryDirectory() as d:
        return asyncio.run(end_to_end(Path(tmp or d)))


def _count_events(
    port: int, node: str, total: int, out: multiprocessing.Queue[float], login: Login
) -> None:
    """A high-rate consumer in its own process: the batched node-wide topic, events counted
    without parsing; reports the monotonic time when the last one arrived."""

    async def main() -> None:
        done = asyncio.Event()
        got = 0

        def on_batch(m: p.Message) -> None:
            nonlocal got
            got += m.payload.count(b'"seq":')
            if got >= total:
                done.set()

        sub = login.client(port, "bench-batched", on_message=on_batch)
        await sub.connect()
        await sub.subscribe([(f"cti/{node}/events", 1)])
        out.put(-1.0)  # subscribed
        await asyncio.wait_for(done.wait(), 120)
        out.put(time.perf_counter())
        await sub.disconnect()

    asyncio.run(main())


def _fill_log(node: Node, calls: int, pairs: int = 500) -> None:
    """Two-party calls committed straight through the node, one batch per step."""
    from cti.calls import commands as cmd

    for first in range(0, calls, pairs):
        span = range(first, min(calls, first + pairs))
        made = node.execute_batch(
            [cmd.MakeCall(calling=pair(i % pairs)[0], called=pair(i % pairs)[1]) for i in span]
        )
        ids = [o.result["call"] for o in made]  # type: ignore[union-attr]
        node.execute_batch(
            [
                cmd.AnswerCall(call=c, device=pair(i % pairs)[1])
                for c, i in zip(ids, span, strict=True)
            ]
        )
        node.execute_batch(
            [
                cmd.ClearConnection(call=c, device=pair(i % pairs)[0])
                for c, i in zip(ids, span, strict=True)
            ]
        )


async def outbox_rate(port: int, node_login: Login, tmp: Path, calls: int = 10_000) -> float:
    """Events/s the outbox publishes QoS 1 into mosquitto — every per-device, per-call and
    batched topic, as in production — measured until a consumer in a second process has all
    of them. The log is filled first, so this is the publisher, not the engine. The node signs
    in as itself, the consumer as the integrator (both in the broker's files already)."""
    site = big_site(2_000)
    tmp.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(tmp / "outbox.db")
    node = Node(site, store, SystemClock())
    _fill_log(node, calls)
    heap.settle()
    total = node.state.seq
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[float] = ctx.Queue()
    proc = ctx.Process(target=_count_events, args=(port, site.node, total, out, integrator_login()))
    proc.start()
    while out.empty():
        await asyncio.sleep(0.02)
    out.get()
    engine = Engine(node)
    await engine.start()
    face = MqttFace(
        engine,
        store.sibling(),
        "127.0.0.1",
        port,
        username=node_login.user,
        password=node_login.password,
    )
    started = time.perf_counter()
    runner = asyncio.create_task(face.run())
    while out.empty():
        await asyncio.sleep(0.01)
    finished = out.get()
    proc.join(10)
    await face.stop()
    runner.cancel()
    await engine.stop()
    store.close()
    return total / (finished - started)
