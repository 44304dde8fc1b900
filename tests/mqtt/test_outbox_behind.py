"""An outbox behind the log's in-memory tail (after a reconnect, a restart, or under load)
reads its pages from the store in a worker thread, on a connection of its own: the event
loop, which answers every other request meanwhile, never waits for the disk. Everything
still arrives, in order (specs/mqtt.md, the outbox)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cti.app.clock import SystemClock
from cti.app.config import load_site
from cti.app.feed import LogReader
from cti.app.node import Node
from cti.calls import commands as c
from cti.store import SqliteStore
from tests.mqtt.conftest import CtiClient, Mosquitto, seed_tester
from tests.mqtt.test_outbox_acks import (  # noqa: F401  (fixtures)
    Lives,
    assert_all_delivered,
    broker,
    lives,
    settle,
    subscriber,
)


async def test_pages_behind_the_tail_are_read_off_the_event_loop(
    broker: Mosquitto,  # noqa: F811
    lives: Lives,  # noqa: F811
    subscriber: CtiClient,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A log of 1,000 events the broker has never seen: a new life's tail is empty, so the
    # outbox reads all of it from the store.
    with SqliteStore(tmp_path / "node1.db") as store:
        node = Node(load_site(), store, SystemClock())
        seed_tester(node)
        for n in range(1_000):
            node.execute(c.SetDoNotDisturb(device="330", on=n % 2 == 0))
    readers: list[threading.Thread] = []
    from_store = LogReader._from_store

    def watched(self: LogReader, from_seq: int, limit: int) -> object:
        readers.append(threading.current_thread())
        return from_store(self, from_seq, limit)

    monkeypatch.setattr(LogReader, "_from_store", watched)
    life = await lives.start(broker.port)
    await settle(life, subscriber)
    await assert_all_delivered(life, subscriber)
    assert readers, "the outbox read nothing from the store"
    assert threading.main_thread() not in readers
