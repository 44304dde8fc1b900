"""A standing-by node follows the log another process writes and takes it over, with the
state a replay gives, once the lock is free (cti/app/standby.py, specs/store.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
import structlog.testing

from cti.app.bootstrap import ServeOptions, StartupError, start
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.node import Node, replay
from cti.app.standby import LeaseWatch, Standby
from cti.calls import commands as cmd
from cti.store.postgres import PostgresStore

TIMEOUT = 5.0


async def test_a_standby_follows_the_log_and_takes_over_with_the_same_state(
    pg_dsn: str,
) -> None:
    site = load_site()
    active_store = PostgresStore(pg_dsn, site.node)
    active = Node(site, active_store, ManualClock())
    assert active.execute(cmd.MakeCall(calling="330", called="331")).ok
    store = PostgresStore(pg_dsn, site.node, standby=True)
    node = Node(site, store, ManualClock())
    standby = Standby(node, store)
    assert standby.doc() == {
        "status": "standby",
        "node": site.node,
        "seq": active.state.seq,
        "active": {"writer": standby.holder, "term": 1},
    }
    waiting = asyncio.create_task(standby.wait())
    assert active.execute(cmd.SetDoNotDisturb(device="332", on=True)).ok
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while node.state.seq < active.state.seq:  # it follows the log, polling it
        assert asyncio.get_running_loop().time() < deadline, "the standby did not follow"
        await asyncio.sleep(0.02)  # polling a condition, bounded: not a timing sleep
    assert not waiting.done()
    lease = LeaseWatch(active_store.sibling(readonly=True), ManualClock())
    assert await lease.holds()
    active_store._conn.close()  # as a SIGKILL: the session ends, the lock is free
    await asyncio.wait_for(waiting, TIMEOUT)
    assert store.term == 2 and not store.standing_by
    assert node.state == replay(store)
    assert node.feed.last_seq == node.state.seq
    assert not await lease.holds()
    assert "taken over by another writer" in await asyncio.wait_for(lease.fenced, TIMEOUT)
    outcome = node.execute(cmd.SetDoNotDisturb(device="332", on=False))
    assert outcome.ok and outcome.events[0].seq == active.state.seq + 1
    store.close()
    active_store.close()


async def test_standby_needs_a_postgres_log(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"^--standby needs a PostgreSQL log \(--store"):
        await start(ServeOptions(data_dir=tmp_path, standby=True))
    assert not (tmp_path / "node1.db").exists()


async def test_the_lease_watch_survives_a_failure_and_still_fences(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Supervised (cti/app/follower.py): an unexpected error in a check is logged and the
    watch goes on; before, its task died silently and the writer was never fenced."""
    site = load_site()
    active_store = PostgresStore(pg_dsn, site.node)
    Node(site, active_store, ManualClock())
    sibling = active_store.sibling(readonly=True)
    real = sibling.lease_lost
    failures: list[str] = []

    def lease_lost_failing_once() -> str | None:
        if not failures:
            failures.append("once")
            raise RuntimeError("a bug in a check")
        return real()

    monkeypatch.setattr(sibling, "lease_lost", lease_lost_failing_once)
    lease = LeaseWatch(sibling, ManualClock())
    with structlog.testing.capture_logs() as logs:
        await lease.start()
        try:
            deadline = asyncio.get_running_loop().time() + TIMEOUT
            while not any(e["event"] == "follower.failed" for e in logs):
                assert asyncio.get_running_loop().time() < deadline, logs
                await asyncio.sleep(0.02)  # polling a condition, bounded: not a timing sleep
            active_store._conn.close()  # the writer's session ends: its lock is gone
            why = await asyncio.wait_for(lease.fenced, TIMEOUT)
        finally:
            await lease.stop()
    assert "session" in why and "ended" in why, why
    failed = [e for e in logs if e["event"] == "follower.failed"]
    assert [e["follower"] for e in failed] == ["lease"]
    active_store.close()


async def test_a_lease_check_behind_a_lock_queue_is_unknown_not_stuck(pg_dsn: str) -> None:
    """A lock queued on cti_logs (here held by another session) made the check wait forever,
    and a node's stop with it; now it gives up after LEASE_LOCK_TIMEOUT: "unknown", which
    keeps the writer going (fencing is decided by the database, never by a guess)."""
    site = load_site()
    active_store = PostgresStore(pg_dsn, site.node)
    Node(site, active_store, ManualClock())
    lease = LeaseWatch(active_store.sibling(readonly=True), ManualClock())
    with psycopg.connect(pg_dsn) as other, structlog.testing.capture_logs() as logs:
        other.execute("LOCK TABLE cti_logs IN ACCESS EXCLUSIVE MODE")  # held until rollback
        assert await asyncio.wait_for(lease.holds(), 3 * TIMEOUT)
        other.rollback()
    assert [e["event"] for e in logs] == ["lease.unknown"]
    assert "lock timeout" in logs[0]["error"], logs
    assert await lease.holds() and not lease.fenced.done()
    active_store.close()
