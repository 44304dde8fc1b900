"""`python -m bench.node_cpu`: the node process's CPU per two-party call, in process and
without a broker (issue 19 item 5): the parts of section 2's node that are this code's own,
each timed with ``time.process_time`` over the same calls, so that a change can be compared
before and after on a shared machine where section 2 itself is too noisy to tell.

- ``outbox``: what the outbox makes of the calls' commit batches (event bodies for the call
  and device topics, the batched array, device states, lamps) for a client that only hashes
  them; each batch published right after it commits, against the state then, as the node does.
- ``evolve``: the node state rebuilt from the same calls' events (a replay: evolve alone).
- ``requests``: the MQTT face's request path, make/answer/clear as section 2's UI sends them
  (JSON payload, MQTT 5 reply address), through a running engine on an in-memory log; the
  replies go to the hashing client. Engine (decide, evolve) included, the outbox not.

The digests hash every topic, body and flag published: they must stay the same across a change
that changes no document (the clock is fixed; the request path's batching follows the loop).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
import structlog

from bench.office import big_site, pair
from bench.signed_in import INTEGRATOR, integrator, seed
from cti.app import heap
from cti.app.clock import ManualClock
from cti.app.engine import Engine
from cti.app.node import Accepted, Committed, Node
from cti.calls import commands as cmd
from cti.domain import NodeState, evolve
from cti.mqtt.client import protocol as p
from cti.mqtt.face.outbox import Outbox
from cti.mqtt.face.service import MqttFace
from cti.mqtt.topics import Topics
from cti.store.memory import MemoryStore

T = TypeVar("T")
PAIRS = 200  # as section 2's UI: 200 workers, each making, answering, clearing calls in turn
PHONES = 2_000


class Sink:
    """A connected client that hashes what it is given to publish."""

    connected = True
    inflight = 0

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.published = 0
        self.replies: list[bytes] = []

    def publish(self, topic: str, payload: bytes, **options: Any) -> None:
        self.published += 1
        retain = b"\1" if options.get("retain") else b"\0"
        self.hash.update(topic.encode() + b"\0" + payload + retain)
        if "/inbox/" in topic:
            self.replies.append(payload)

    def publish_many(self, messages: list[tuple[str, bytes, bool]], **_: Any) -> None:
        for topic, payload, retain in messages:
            self.publish(topic, payload, retain=retain)


COUNTED: set[str] = set()  # the parts asked for (--only)


def measured(part: str, run: Callable[[], T]) -> T:
    """``run()``, a measured region; of a part asked for, inside ``functools.reduce``: that C
    function is then on the stack for all of the region and nowhere else, so ``valgrind
    --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce python -m
    bench.node_cpu --repeat 1 --only PART`` counts the part's instructions, which the
    machine's load does not disturb as it does CPU time."""
    if part not in COUNTED:
        return run()
    result: T = functools.reduce(lambda _, __: run(), [None], None)  # type: ignore[arg-type]
    return result


def _node() -> Node:
    node = Node(big_site(PHONES), MemoryStore(), ManualClock())
    seed(node, [integrator()])
    heap.settle()  # as `cti serve` and section 2 do once the log is replayed
    return node


def outbox(calls: int) -> tuple[float, str, int, list[Committed]]:
    """CPU seconds of the outbox for ``calls`` calls; digest, messages, every event."""
    node = _node()
    box = Outbox(node, node.store, Topics(node.site.node))
    sink = Sink()
    spent = 0.0
    events: list[Committed] = []
    for first in range(0, calls, PAIRS):
        span = range(first, min(calls, first + PAIRS))
        a = [pair(i % PAIRS)[0] for i in span]
        b = [pair(i % PAIRS)[1] for i in span]
        made = [cmd.MakeCall(calling=x, called=y) for x, y in zip(a, b, strict=True)]
        ids: list[int] = []
        for step in ("make", "answer", "clear"):
            if step == "make":
                commands: list[cmd.Command] = list(made)
            elif step == "answer":
                commands = [cmd.AnswerCall(call=c, device=y) for c, y in zip(ids, b, strict=True)]
            else:
                commands = [
                    cmd.ClearConnection(call=c, device=x) for c, x in zip(ids, a, strict=True)
                ]
            batch: list[Committed] = []
            for outcome in node.execute_batch(commands):
                assert isinstance(outcome, Accepted), outcome
                batch += outcome.events
                if step == "make":
                    ids.append(outcome.result["call"])  # type: ignore[arg-type]
            cpu = time.process_time()
            measured("outbox", lambda: box._publish(sink, batch))  # type: ignore[arg-type]  # noqa: B023
            spent += time.process_time() - cpu
            events += batch
    return spent, sink.hash.hexdigest(), sink.published, events


def _evolve(events: list[Committed]) -> NodeState:
    state = NodeState()
    for item in events:
        state = evolve(state, item.event)
    return state


def replay(events: list[Committed]) -> float:
    """CPU seconds to evolve a fresh state through ``events``."""
    cpu = time.process_time()
    measured("evolve", lambda: _evolve(events))
    return time.process_time() - cpu


def requests(calls: int) -> tuple[float, str, int]:
    """CPU seconds of ``calls`` make/answer/clear rounds through the face; the replies' digest
    and number."""
    loop = asyncio.new_event_loop()
    try:
        engine, sink, workers = loop.run_until_complete(_face(calls))
        cpu = time.process_time()
        measured("requests", lambda: loop.run_until_complete(workers()))
        took = time.process_time() - cpu
        loop.run_until_complete(engine.stop())
    finally:
        loop.close()
    return took, sink.hash.hexdigest(), sink.published


async def _face(calls: int) -> tuple[Engine, Sink, Callable[[], Awaitable[None]]]:
    """A running engine with its MQTT face on the hashing client; the UI's workers."""
    node = _node()
    engine = Engine(node)
    await engine.start()
    face = MqttFace(engine, MemoryStore(), "127.0.0.1", 1)
    sink = Sink()
    face.client = sink  # type: ignore[assignment]
    base = f"cti/{node.site.node}/users/{INTEGRATOR}"
    inbox = f"{base}/inbox/bench"
    waiting: dict[bytes, asyncio.Future[dict[str, Any]]] = {}
    n = 0

    def publish(topic: str, payload: bytes, **options: Any) -> None:
        Sink.publish(sink, topic, payload, **options)
        key = options["props"][p.CORRELATION_DATA]
        waiting.pop(key).set_result(orjson.loads(payload))

    sink.publish = publish  # type: ignore[method-assign]

    async def request(service: str, body: str) -> dict[str, Any]:
        nonlocal n
        n += 1
        key = str(n).encode()
        future = waiting[key] = asyncio.get_running_loop().create_future()
        props: dict[int, object] = {p.RESPONSE_TOPIC: inbox, p.CORRELATION_DATA: key}
        message = p.Message(f"{base}/requests/{service}", body.encode(), 1, False, n, props)
        face._on_message(sink, message)  # type: ignore[arg-type]
        reply = await future
        assert reply["ok"], reply
        return reply

    async def worker(i: int, rounds: int) -> None:
        a, b = pair(i)
        for _ in range(rounds):
            made = await request("makeCall", f'{{"calling": "{a}", "called": "{b}"}}')
            call = made["result"]["call"]
            await request("answerCall", f'{{"call": {call}, "device": "{b}"}}')
            await request("clearConnection", f'{{"call": {call}, "device": "{a}"}}')

    async def workers() -> None:
        # Every one of ``calls`` made: fewer than PAIRS calls gave each worker none.
        n = min(PAIRS, calls)
        await asyncio.gather(*(worker(i, calls // n + (i < calls % n)) for i in range(n)))

    return engine, sink, workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=4_000)
    parser.add_argument("--repeat", type=int, default=5, help="the median of this many runs")
    parser.add_argument("--only", choices=["outbox", "evolve", "requests"], action="append")
    args = parser.parse_args()
    structlog.configure(  # as `cti serve` does (cti/log.py)
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=True,
    )
    only = set(args.only or ["outbox", "evolve", "requests"])
    COUNTED.update(only)
    per_call: dict[str, list[float]] = {k: [] for k in only}
    digests: set[str] = set()
    for _ in range(args.repeat):
        spent, digest, messages, events = outbox(args.calls)
        digests.add(digest)
        if "outbox" in only:
            per_call["outbox"].append(spent)
        if "evolve" in only:
            per_call["evolve"].append(replay(events))
        if "requests" in only:
            took, replies, answered = requests(args.calls)
            per_call["requests"].append(took)
    for name, values in per_call.items():
        us = [1e6 * v / args.calls for v in values]
        print(
            f"{name:9} {statistics.median(us):7.1f} µs/call (median of {len(us)}; "
            f"min {min(us):.1f}, max {max(us):.1f})"
        )
    print(f"outbox: {messages} messages for {args.calls} calls, {len(events)} events")
    print(f"outbox digest {' '.join(sorted(digests))}")
    if "requests" in only:
        print(f"requests: {answered} replies for {args.calls} calls")
        print(f"requests digest (last run) {replies}")


if __name__ == "__main__":
    main()
