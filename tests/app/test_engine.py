"""The asyncio engine: one writer, group commit, timers driven by the node's clock.

No test sleeps: waits are on the engine's own futures, on asyncio events set by a
``Node.subscribe`` listener, or on threading events set inside a wrapped store append.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path

import pytest

from cti.app.clock import ManualClock
from cti.app.engine import Engine
from cti.app.feed import LogReader
from cti.app.follower import supervised
from cti.app.node import Accepted, Batch, Committed, Node, Outcome, Refused, replay
from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.values import Cause, ConnectionState, ForwardingType
from cti.site.model import Site
from cti.store import (
    EventStore,
    MemoryStore,
    SqliteStore,
    StoredEvent,
    StoreError,
    StoreLost,
)
from cti.store.postgres import PostgresStore
from tests.postgres import private_schema

WAIT = 10  # seconds; only a safety net against a hang, never a timing assumption


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "postgres":
        with private_schema() as dsn:
            pg = PostgresStore(dsn, "node1")
            yield pg
            pg.close()
        return
    s: EventStore = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "n.db")
    yield s
    s.close()


@contextlib.asynccontextmanager
async def running(engine: Engine) -> AsyncIterator[Engine]:
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


def record_appends(store: EventStore) -> list[int]:
    """Wrap ``store.append`` to record the size of every batch appended."""
    sizes: list[int] = []
    real = store.append

    def append(events: Sequence[StoredEvent]) -> None:
        sizes.append(len(events))
        real(events)

    store.append = append  # type: ignore[method-assign]
    return sizes


def record_batches(node: Node) -> list[list[Committed]]:
    """Every batch the writer hands to the commit feed (what followers read), in order."""
    batches: list[list[Committed]] = []
    extend = node.feed.extend

    def record(batch: Sequence[Committed]) -> None:
        batches.append(list(batch))
        extend(batch)

    node.feed.extend = record  # type: ignore[method-assign]
    return batches


def caller(i: int) -> str:
    return f"+4930{100000 + i}"


async def voicemail_calls(engine: Engine, who: str, rounds: int) -> list[Outcome]:
    """A trunk party calls voicemail (auto-answered) and hangs up, ``rounds`` times."""
    outcomes: list[Outcome] = []
    for _ in range(rounds):
        made = await engine.execute(c.Dial(device=who, digits="351"))
        outcomes.append(made)
        assert isinstance(made, Accepted), made
        call = made.result["call"]
        assert isinstance(call, int)
        outcomes.append(await engine.execute(c.ClearConnection(call=call, device=who)))
    return outcomes


async def test_concurrent_commands_all_answered_gap_free_and_in_order(
    site: Site, store: EventStore
) -> None:
    """Many tasks at once: every command is answered, seq is 1..N without gap, every batch is
    heard in seq order and each task's own events come in the order it sent its commands."""
    node = Node(site, store, ManualClock())
    batches = record_batches(node)
    engine = Engine(node)
    tasks, rounds = 30, 3
    async with running(engine):
        results = await asyncio.wait_for(
            asyncio.gather(*(voicemail_calls(engine, caller(i), rounds) for i in range(tasks))),
            WAIT,
        )
    assert all(o.ok for outcomes in results for o in outcomes)
    heard = [x.seq for batch in batches for x in batch]
    total = tasks * rounds * (4 + 2)  # initiated/originated/delivered/established + 2 clears
    assert heard == list(range(1, total + 1))
    assert [r.seq for r in store.read(1)] == heard
    assert node.state.seq == total and not node.state.calls.calls
    for outcomes in results:
        seqs = [x.seq for o in outcomes if isinstance(o, Accepted) for x in o.events]
        assert seqs == sorted(seqs) and len(seqs) == rounds * 6
    calls = {o.result["call"] for outcomes in results for o in outcomes[::2] if o.ok}
    assert len(calls) == tasks * rounds  # every call got its own id
    assert len(batches) < tasks * rounds * 2  # some commands shared a commit
    assert replay(store, use_snapshot=False) == node.state


async def test_commands_queued_together_are_committed_in_one_append(
    site: Site, store: EventStore
) -> None:
    """Group commit: commands waiting when the writer runs go to the store in one append,
    and each command's answer carries exactly its own events."""
    node = Node(site, store, ManualClock())
    sizes = record_appends(store)
    engine = Engine(node)
    commands = [c.SetDoNotDisturb(device=d, on=True) for d in ("330", "331", "332", "333")]
    commands.append(c.MakeCall(calling="334", called="335"))  # analogue: prompted, 1 event
    pending = [asyncio.create_task(engine.execute(cmd)) for cmd in commands]
    async with running(engine):  # the writer starts after all five are queued
        outcomes = await asyncio.wait_for(asyncio.gather(*pending), WAIT)
    assert [o.ok for o in outcomes] == [True] * 5
    assert sizes == [5]
    assert [[x.seq for x in o.events] for o in outcomes if isinstance(o, Accepted)] == [
        [1],
        [2],
        [3],
        [4],
        [5],
    ]
    assert [r.kind for r in store.read(1)] == ["doNotDisturb"] * 4 + ["serviceInitiated"]


async def test_commands_arriving_during_an_append_form_the_next_batch(site: Site) -> None:
    """Group commit: while one append is being made durable, new commands queue up and are
    then committed together in a single append."""
    store = MemoryStore()
    node = Node(site, store, ManualClock())
    sizes: list[int] = []
    entered, release = threading.Event(), threading.Event()
    real = store.append

    def slow_first_append(events: Sequence[StoredEvent]) -> None:
        sizes.append(len(events))
        if len(sizes) == 1:
            entered.set()
            release.wait(WAIT)
        real(events)

    store.append = slow_first_append  # type: ignore[method-assign]
    engine = Engine(node)
    async with running(engine):
        try:
            first = asyncio.create_task(engine.execute(c.SetDoNotDisturb(device="330", on=True)))
            assert await asyncio.to_thread(entered.wait, WAIT)
            later = [
                asyncio.create_task(engine.execute(c.SetDoNotDisturb(device=d, on=True)))
                for d in ("331", "332", "333", "334")
            ]
            asyncio.get_running_loop().call_soon(release.set)  # after the four are queued
            outcomes = await asyncio.wait_for(asyncio.gather(first, *later), WAIT)
        finally:
            release.set()
    assert all(o.ok for o in outcomes)
    assert sizes == [1, 4]
    assert [r.seq for r in store.read(1)] == [1, 2, 3, 4, 5]


async def test_no_answer_timer_fires_when_the_clock_passes_due(
    site: Site, store: EventStore
) -> None:
    """CALL-16: the timer task forwards a ringing call once ManualClock passes its due time,
    and not a millisecond before."""
    clock = ManualClock()
    node = Node(site, store, clock)
    prepared: list[c.Command] = []
    real_prepare = node.prepare

    def prepare(commands: Iterable[c.Command], principals: object = None) -> Batch:
        commands = list(commands)
        prepared.extend(commands)
        return real_prepare(commands, principals)  # type: ignore[arg-type]

    node.prepare = prepare  # type: ignore[method-assign]
    forwarded = asyncio.Event()

    extend = node.feed.extend

    def listen(batch: Sequence[Committed]) -> None:
        extend(batch)
        if any(
            isinstance(x.event, ev.Diverted) and x.event.cause is Cause.CALL_FORWARD_NO_ANSWER
            for x in batch
        ):
            forwarded.set()

    node.feed.extend = listen  # type: ignore[method-assign]
    engine = Engine(node)
    async with running(engine):
        fwd = c.SetForwarding(
            device="331",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="332",
            ring_time=10,
        )
        assert (await engine.execute(fwd)).ok
        made = await engine.execute(c.MakeCall(calling="330", called="331"))
        assert isinstance(made, Accepted)
        call = made.result["call"]
        assert isinstance(call, int)
        assert node.next_timer_ms() == clock.now_ms() + 10_000

        clock.advance(9.999)
        # A round trip through the writer lets the woken timer task run before we look.
        assert (await engine.execute(c.SetDoNotDisturb(device="333", on=True))).ok
        assert not forwarded.is_set()
        assert not any(isinstance(x, c.FireTimer) for x in prepared)
        assert node.state.calls.calls[call].state_of("331") is ConnectionState.ALERTING

        clock.advance(0.001)
        await asyncio.wait_for(forwarded.wait(), WAIT)
    fired = [x for x in prepared if isinstance(x, c.FireTimer)]
    assert [(x.call, x.device) for x in fired] == [(call, "331")]
    assert node.state.calls.calls[call].state_of("332") is ConnectionState.ALERTING
    assert node.state.calls.calls[call].state_of("331") is ConnectionState.NULL
    assert not node.state.calls.timers


async def test_answered_call_cancels_its_timer_in_the_engine(site: Site) -> None:
    """CALL-16: answering before the ring time ends clears the timer; passing the old due
    time then forwards nothing."""
    clock = ManualClock()
    store = MemoryStore()
    node = Node(site, store, clock)
    engine = Engine(node)
    async with running(engine):
        fwd = c.SetForwarding(
            device="331",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="332",
            ring_time=5,
        )
        assert (await engine.execute(fwd)).ok
        made = await engine.execute(c.MakeCall(calling="330", called="331"))
        assert isinstance(made, Accepted)
        assert (await engine.execute(c.AnswerCall(call=1, device="331"))).ok
        assert node.next_timer_ms() is None
        seq = store.last_seq()
        clock.advance(60)
        assert (await engine.execute(c.SetDoNotDisturb(device="333", on=True))).ok
    assert store.last_seq() == seq + 1  # only the DND
    assert node.state.calls.calls[1].state_of("331") is ConnectionState.CONNECTED


async def test_stop_is_clean(site: Site) -> None:
    """stop() ends the writer and timer tasks, leaves no task behind and may be repeated;
    a stopped engine can be started again and serves commands."""
    node = Node(site, MemoryStore(), ManualClock())
    engine = Engine(node)
    await engine.start()
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert {"cti-writer", "cti-timers"} <= names
    assert (await engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
    await engine.stop()
    left = {t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    assert not left & {"cti-writer", "cti-timers"}
    await engine.stop()  # harmless
    async with running(engine):
        assert (await engine.execute(c.SetDoNotDisturb(device="330", on=False))).ok
    assert not node.state.calls.device("330").dnd


async def test_stop_during_an_append_loses_nothing(site: Site) -> None:
    """A batch being made durable when stop() is called is either committed and answered or
    not stored at all: the node never ends up behind its log."""
    store = MemoryStore()
    node = Node(site, store, ManualClock())
    entered, release, finished = threading.Event(), threading.Event(), threading.Event()
    real = store.append

    def slow_append(events: Sequence[StoredEvent]) -> None:
        entered.set()
        release.wait(WAIT)
        try:
            real(events)
        finally:
            finished.set()

    store.append = slow_append  # type: ignore[method-assign]
    engine = Engine(node)
    await engine.start()
    task = asyncio.create_task(engine.execute(c.SetDoNotDisturb(device="330", on=True)))
    try:
        assert await asyncio.to_thread(entered.wait, WAIT)
        asyncio.get_running_loop().call_soon(release.set)  # once stop() has begun
        await asyncio.wait_for(engine.stop(), WAIT)
        assert await asyncio.to_thread(finished.wait, WAIT)
        assert store.last_seq() == node.state.seq
        assert task.done() and task.result().ok
    finally:
        release.set()
        task.cancel()


async def test_a_failing_follower_is_restarted_and_the_writer_goes_on(site: Site) -> None:
    """A bug in a follower (say, a read model) is logged and the follower starts again from
    its position after a pause; the writer never runs follower code, so it is not touched."""
    node = Node(site, MemoryStore(), ManualClock())
    reader = LogReader(node.feed, node.store)
    seen: list[int] = []
    failures = 0

    async def flaky() -> None:
        nonlocal failures
        async for batch in reader.batches(len(seen) + 1):
            if failures < 2:
                failures += 1
                raise RuntimeError("read model bug")
            seen.extend(x.seq for x in batch)

    engine = Engine(node)
    async with running(engine):
        follower = asyncio.create_task(supervised("flaky", flaky, first_pause=0.001))
        for device in ("330", "331", "332"):
            assert (await engine.execute(c.SetDoNotDisturb(device=device, on=True))).ok
        while len(seen) < 3:
            await node.feed.wait_beyond(node.feed.last_seq - 1)
            await asyncio.sleep(0)
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    assert failures == 2 and seen == [1, 2, 3]


async def test_store_failure_through_the_engine(site: Site) -> None:
    """A failed append refuses the batch with resourceOutOfService; the engine goes on."""
    store = MemoryStore()
    node = Node(site, store, ManualClock())
    engine = Engine(node)
    async with running(engine):
        store.fail_next_append = StoreError("disk full")
        refused = await engine.execute(c.SetDoNotDisturb(device="330", on=True))
        assert isinstance(refused, Refused)
        assert refused.error.name == "resourceOutOfService"
        assert "disk full" in refused.error.message
        assert store.last_seq() == 0 and not node.state.calls.device("330").dnd
        accepted = await engine.execute(c.SetDoNotDisturb(device="330", on=True))
        assert isinstance(accepted, Accepted) and [x.seq for x in accepted.events] == [1]
    assert node.state.calls.device("330").dnd


async def test_a_dead_writer_refuses_everything_and_says_so(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug that ends the writer task cannot be survived in place: the command being
    committed and every later one are refused (never left hanging), and ``failed`` resolves so
    that cti serve exits non-zero for its supervisor to restart it."""
    node = Node(site, MemoryStore(), ManualClock())
    engine = Engine(node)

    def broken(batch: object) -> None:
        raise RuntimeError("writer bug")

    monkeypatch.setattr(node, "append", broken)
    await engine.start()
    try:
        first = await asyncio.wait_for(
            engine.execute(c.SetDoNotDisturb(device="330", on=True)), WAIT
        )
        assert isinstance(first, Refused) and first.error.name == "resourceOutOfService"
        assert engine.failed is not None and engine.failed.done()
        assert isinstance(engine.failure, RuntimeError)
        later = await engine.execute(c.SetDoNotDisturb(device="331", on=True))
        assert isinstance(later, Refused) and "failed" in later.error.message
    finally:
        await engine.stop()


async def test_a_lost_postgres_connection_stops_the_engine(site: Site, pg_dsn: str) -> None:
    """The writer's session ends (the server restarted): whether the batch was committed is
    unknown, so the engine does not go on in place; it refuses the command and ``failed``
    resolves (cti serve exits for a restart, which replays the log)."""
    store = PostgresStore(pg_dsn, "node1")
    node = Node(site, store, ManualClock())
    engine = Engine(node)
    await engine.start()
    try:
        assert (await engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
        with PostgresStore.open_readonly(pg_dsn, "node1") as admin:
            admin._conn.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
        lost = await asyncio.wait_for(
            engine.execute(c.SetDoNotDisturb(device="331", on=True)), WAIT
        )
        assert isinstance(lost, Refused) and lost.error.name == "resourceOutOfService"
        assert engine.failed is not None and engine.failed.done()
        assert isinstance(engine.failure, StoreLost)
    finally:
        await engine.stop()
        store.close()
    with PostgresStore(pg_dsn, "node1") as again:
        assert replay(again) == node.state  # the restart finds what the node had


async def test_a_failed_snapshot_costs_nothing_but_the_snapshot(site: Site) -> None:
    store = MemoryStore()
    node = Node(site, store, ManualClock(), snapshot_every=2)

    def full(snapshot: object) -> None:
        raise StoreError("disk full")

    store.save_snapshot = full  # type: ignore[assignment]
    engine = Engine(node)
    async with running(engine):
        for device in ("330", "331", "332"):
            assert (await engine.execute(c.SetDoNotDisturb(device=device, on=True))).ok
        assert engine.failure is None
    assert store.latest_snapshot() is None and node.state.seq == 3


async def test_cancelled_waiters_leave_nothing_behind_in_the_feed(site: Site) -> None:
    """Followers and the timer task wait on the feed and are often cancelled (a timer fired
    first, a follower stopped): they all shield one future per commit, so none accumulate."""
    node = Node(site, MemoryStore(), ManualClock())
    for _ in range(1000):
        waiter = asyncio.create_task(node.feed.wait_beyond(node.feed.last_seq))
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
    assert node.feed._next is not None and not node.feed._next.cancelled()
    woken = asyncio.create_task(node.feed.wait_beyond(node.feed.last_seq))
    await asyncio.sleep(0)
    node.execute(c.SetDoNotDisturb(device="330", on=True))
    await asyncio.wait_for(woken, WAIT)
    assert node.feed._next is None
