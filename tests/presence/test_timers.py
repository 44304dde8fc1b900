"""The return time (PRES-02) is a timer of the node: the engine fires it from its clock, and
one that passed while the node was down fires after the restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node, replay
from cti.presence.commands import SetPresence
from cti.presence.model import Status
from cti.store import MemoryStore, SqliteStore

HOUR = 3_600_000


async def test_pres02_the_engine_fires_a_return_time_from_its_clock() -> None:
    clock = ManualClock()
    node = Node(load_site(), MemoryStore(), clock)
    engine = Engine(node)
    await engine.start()
    try:
        back = clock.now_ms() + HOUR
        outcome = await engine.execute(
            SetPresence(user="331", status=Status.LUNCH, return_at=back, info="Canteen")
        )
        assert outcome.ok
        seq = node.feed.last_seq
        clock.advance(3600)  # wakes the engine's timer task: no real time passes
        await asyncio.wait_for(node.feed.wait_beyond(seq), 5)
        assert node.state.presence.of("331").return_at is None
        assert node.state.presence.of("331").info == "Canteen"  # the status stays
    finally:
        await engine.stop()


def test_pres02_a_return_time_that_passed_while_down_fires_after_the_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "node.db"
    clock = ManualClock()
    node = Node(load_site(), SqliteStore(path), clock)
    back = clock.now_ms() + HOUR
    assert node.execute(SetPresence(user="332", status=Status.VACATION, return_at=back)).ok
    node.store.close()

    later = ManualClock(back + 1)
    node2 = Node(load_site(), SqliteStore(path), later)
    assert node2.state.presence.of("332").return_at == back  # replayed, still announced
    [outcome] = node2.fire_due_timers()
    assert outcome.ok and node2.state.presence.of("332").return_at is None
    assert replay(node2.store, use_snapshot=False) == node2.state
    node2.store.close()
