"""Section 9: chat end to end with 1,000 signed-in users, and the call engine beside it
(IM-01..03, specs/chat.md "Out of the call log's write path").

One node as `cti serve` runs it: the embedded mosquitto with the node's password and ACL files,
the MQTT face, the chat service with its own SQLite file and writer. 1,000 users sign in (in
two processes of their own), each announcing its session with a retained marker and a Will, and
subscribing to its own chat topic and inbox. The node counts them online.

1. The call engine alone: in the node's process, workers run makeCall/answerCall/
   clearConnection cycles on the engine for SECONDS; commands per second.
2. The same, while every user sends chat messages to a neighbour (one outstanding each,
   idempotent client ids) over MQTT for SECONDS: chat messages per second acknowledged (the
   reply after the commit) and delivered (on the recipient's chat topic), the latency from
   the send to the recipient, the chat writer's batches; and the engine's commands per second
   beside it. Both share the node's process and the machine's two cores: what remains of the
   engine's rate is the cost of chat's CPU, not of its disk (chat commits in its own file).
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import structlog

from bench.office import big_site, pair
from bench.sections import Row
from bench.signed_in import (
    USER_PASSWORD,
    integrator,
    raise_fd_limit,
    seed,
    start_broker,
    users,
)
from cti.api.chat import ChatService
from cti.app.clock import SystemClock
from cti.app.engine import Engine
from cti.app.node import Node
from cti.calls import commands as c
from cti.chat.chat_db import ChatDb
from cti.mqtt.client import MqttClient, Will
from cti.mqtt.client import protocol as p
from cti.mqtt.face.service import MqttFace
from cti.site.model import DeviceKind
from cti.store import SqliteStore

USERS = 1_000
PROCS = 2
SECONDS = 10.0
ENGINE_WORKERS = 20  # concurrent call cycles on the engine
SIGN_IN_AT_ONCE = 16
PACED_RATE = 100.0  # chat messages/s of the paced phase: each of 1,000 users one per 10 s
CONNECTED, ACKED, DELIVERED, REFUSED = range(4)
IDLE, SATURATED, PACED = range(3)  # what the users do


async def _uis(
    port: int, node: str, mine: list[str], counters: Any, phase: Any, stop: Any, out: Any
) -> None:
    raise_fd_limit(len(mine) + 256)
    base = f"cti/{node}"
    sent_at: dict[str, tuple[float, int]] = {}  # client id: when, in which phase
    latencies: dict[int, list[float]] = {SATURATED: [], PACED: []}
    pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
    clients: dict[str, MqttClient] = {}
    gate = asyncio.Semaphore(SIGN_IN_AT_ONCE)

    def on_message(number: str, m: p.Message) -> None:
        doc = json.loads(m.payload)
        if m.topic.endswith("/chat"):
            if doc.get("event") == "chatMessage" and doc["recipient"] == number:
                counters[DELIVERED] += 1
                sent = sent_at.pop(doc["clientId"], None)
                if sent is not None and sent[1] in latencies:
                    latencies[sent[1]].append(time.perf_counter() - sent[0])
            return
        corr = m.properties.get(p.CORRELATION_DATA)
        future = pending.pop(corr.decode(), None) if isinstance(corr, bytes) else None
        if future is not None and not future.done():
            future.set_result(doc)

    async def sign_in(number: str) -> None:
        async with gate:
            session = f"{base}/users/{number}/sessions/bench-{number}"
            client = MqttClient(
                "127.0.0.1",
                port,
                f"bench-{number}",
                username=number,
                password=USER_PASSWORD,
                keepalive=60,
                will=Will(session, b"", retain=True),
                on_message=lambda m: on_message(number, m),
            )
            await client.connect(timeout=120)
            await client.subscribe(
                [(f"{base}/users/{number}/chat", 1), (f"{base}/users/{number}/inbox/#", 1)],
                timeout=120,
            )
            client.publish(session, b'{"client":"bench"}', retain=True)
            clients[number] = client
            counters[CONNECTED] += 1

    await asyncio.gather(*(sign_in(n) for n in mine))
    # Paced: each user one message every `every` seconds (PACED_RATE in all), spread evenly.
    every = len(mine) * PROCS / PACED_RATE

    paced = [0] * len(mine)  # messages each user sent paced

    async def talk(i: int) -> None:
        me, to = mine[i], mine[(i + 1) % len(mine)]
        client = clients[me]
        while not stop.is_set():
            if phase.value == IDLE:
                await asyncio.sleep(0.01)
                continue
            if phase.value == PACED:
                # The first one at a random point of the interval, then one per interval.
                await asyncio.sleep(every * (random.random() if paced[i] == 0 else 1.0))
                paced[i] += 1
                if phase.value != PACED:
                    continue
            cid = uuid.uuid4().hex
            loop = asyncio.get_running_loop()
            future: asyncio.Future[dict[str, Any]] = loop.create_future()
            pending[cid] = future
            sent_at[cid] = (time.perf_counter(), phase.value)
            body = json.dumps({"to": to, "text": f"Nachricht von {me}", "clientId": cid})
            client.publish(
                f"{base}/users/{me}/requests/sendChatMessage",
                body.encode(),
                props={
                    p.RESPONSE_TOPIC: f"{base}/users/{me}/inbox/bench",
                    p.CORRELATION_DATA: cid.encode(),
                },
            )
            try:
                reply = await asyncio.wait_for(future, 30)
            except TimeoutError:
                counters[REFUSED] += 1
                continue
            if reply.get("ok"):
                counters[ACKED] += 1
            else:
                counters[REFUSED] += 1

    await asyncio.gather(*(talk(i) for i in range(len(mine))))
    out.put({"latencies": latencies})
    await asyncio.gather(*(cl.disconnect() for cl in clients.values()), return_exceptions=True)


def _ui_process(*args: Any) -> None:
    asyncio.run(_uis(*args))


async def _engine_rate(engine: Engine, seconds: float, offset: int) -> float:
    """Call cycles on the engine for ``seconds``: commands per second."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        nonlocal done
        a, b = pair(offset + i)
        while time.perf_counter() < deadline:
            made = await engine.execute(c.MakeCall(calling=a, called=b))
            call = made.result["call"]  # type: ignore[union-attr]
            await engine.execute(c.AnswerCall(call=call, device=b))  # type: ignore[arg-type]
            await engine.execute(c.ClearConnection(call=call, device=a))  # type: ignore[arg-type]
            done += 3

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(ENGINE_WORKERS)))
    return done / (time.perf_counter() - started)


async def measure(tmp: Path) -> list[Row]:
    raise_fd_limit(2 * USERS + 1024)
    site = big_site(USERS)
    numbers = sorted(n for n, d in site.devices.items() if d.kind is DeviceKind.SYSTEM_PHONE)
    store = SqliteStore(tmp / "chat-bench.db")
    node = Node(site, store, SystemClock())
    seed(node, [integrator(), *users(numbers)])
    broker, login = await start_broker(tmp, node)
    engine = Engine(node)
    chat = ChatService(node, ChatDb.sqlite(tmp / "bench.chat.db", site.node), SystemClock())
    face = MqttFace(
        engine,
        store.sibling(),
        "127.0.0.1",
        broker.port,
        username=login.user,
        password=login.password,
    )
    face.chat = chat
    ctx = multiprocessing.get_context("spawn")
    procs: list[Any] = []
    runner: asyncio.Task[None] | None = None
    try:
        await engine.start()
        await chat.start()
        runner = asyncio.create_task(face.run())
        await face.connected.wait()
        phase, stop, out = ctx.RawValue("i", IDLE), ctx.Event(), ctx.Queue()
        counters = [ctx.RawArray("q", 4) for _ in range(PROCS)]
        chunk = len(numbers) // PROCS
        for i in range(PROCS):
            mine = numbers[i * chunk : (i + 1) * chunk]
            args = (broker.port, site.node, mine, counters[i], phase, stop, out)
            procs.append(ctx.Process(target=_ui_process, args=args, name=f"chat-uis-{i}"))
        started = time.perf_counter()
        for proc in procs:
            proc.start()
        while (
            sum(c[CONNECTED] for c in counters) < USERS
            or sum(chat.online(n) for n in numbers) < USERS
        ):
            if any(proc.exitcode not in (None, 0) for proc in procs):
                raise RuntimeError("a UI process failed")
            await asyncio.sleep(0.1)
        sign_in = time.perf_counter() - started
        online = sum(chat.online(n) for n in numbers)

        def totals() -> tuple[int, int, int, int]:
            return (
                sum(c[ACKED] for c in counters),
                sum(c[DELIVERED] for c in counters),
                sum(c[REFUSED] for c in counters),
                chat.writer.batches,
            )

        async def beside(mode: int) -> tuple[float, float, float, int, float]:
            """The engine's rate while the users do ``mode``; chat acked/s, delivered/s,
            refused, messages per commit."""
            before = totals()
            phase.value = mode
            t0 = time.perf_counter()
            rate = await _engine_rate(engine, SECONDS, offset=0)
            took = time.perf_counter() - t0
            phase.value = IDLE
            now = totals()
            acked, delivered, refused, batches = (now[k] - before[k] for k in range(4))
            while True:  # the messages still in flight are answered before the next phase
                await asyncio.sleep(0.5)
                if totals()[:3] == now[:3]:
                    break
                now = totals()
            return rate, acked / took, delivered / took, refused, acked / max(batches, 1)

        # 1. The engine alone (the users signed in, idle); 2. beside chat as fast as the
        # users can (one outstanding message each); 3. beside chat at PACED_RATE.
        # The machine is shared: the engine alone is measured right before each.
        alone = await _engine_rate(engine, SECONDS, offset=0)
        saturated = await beside(SATURATED)
        alone2 = await _engine_rate(engine, SECONDS, offset=0)
        paced = await beside(PACED)
        stop.set()
        latencies: dict[int, list[float]] = {SATURATED: [], PACED: []}
        for _ in procs:
            for mode, values in out.get(timeout=60)["latencies"].items():
                latencies[int(mode)] += values
        for proc in procs:
            proc.join(30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        await face.stop()
        if runner is not None:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        await chat.stop()
        await engine.stop()
        store.close()
        await broker.stop()

    def pct(mode: int, q: int) -> float:
        values = sorted(latencies[mode])
        return 1000 * statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else 0.0

    rows: list[Row] = [
        ("signed-in users, counted online by the node", float(online), "users", "1,000"),
        ("sign-in of 1,000 users incl. session markers", sign_in, "s", None),
    ]
    for mode, (rate, acked, delivered, refused, per_commit), label, before in (
        (SATURATED, saturated, "chat as fast as it goes", alone),
        (PACED, paced, f"chat at {PACED_RATE:,.0f} msg/s", alone2),
    ):
        rows += [
            (f"{label}: call engine alone right before", before, "commands/s", None),
            (f"{label}: messages acknowledged", acked, "msg/s", None),
            (f"{label}: messages delivered to the recipient", delivered, "msg/s", None),
            (f"{label}: sends refused or unanswered", refused, "requests", "0"),
            (f"{label}: send -> recipient p50", pct(mode, 50), "ms", None),
            (f"{label}: send -> recipient p99", pct(mode, 99), "ms", None),
            (f"{label}: messages per chat commit", per_commit, "msg/batch", None),
            (f"{label}: call engine beside it", rate, "commands/s", None),
        ]
    return rows


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as d:
        return asyncio.run(measure(Path(d)))


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    for row in run():
        print(f"{row[0]:<52} {row[1]:>12,.1f} {row[2]}")
