"""Section 6: the PostgreSQL event store beside SQLite in the same run (issue 19, items 1/6).

The engine's write path with group commit (concurrent two-party calls, every batch of queued
commands one append) on each store; the store alone appending batches of 100 events (its own
capacity, without the engine's CPU); single-event appends (one commit each: what group
commit saves); and the replay of the same log of calls (decoded and folded into the node's
state, no snapshot) from each store. PostgreSQL is ``BENCH_POSTGRES`` (default the tests' server,
``postgresql://postgres@127.0.0.1:5432/test``), in a private schema dropped afterwards;
both servers' commits are durable (SQLite ``synchronous=FULL``, PostgreSQL
``synchronous_commit=on``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg

from bench.sections import Row, _calls, build_log
from cti.app.node import replay
from cti.store import EventStore, SqliteStore, StoredEvent
from cti.store.postgres import PostgresStore

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SINGLE_APPENDS = 500
GROUPED_EVENTS, GROUPED_BATCH = 50_000, 100
# Section 3 replays 1,000,000 events from SQLite; here fewer, both stores in the same run.
REPLAY_EVENTS = int(os.environ.get("BENCH_PG_REPLAY_EVENTS", "200000"))


@contextlib.contextmanager
def private_schema() -> Iterator[str]:
    schema = f"cti_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    glue = "&" if "?" in SERVER else "?"
    try:
        yield f"{SERVER}{glue}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def appends(store: EventStore, count: int, batch: int) -> float:
    """Events/s appended in batches of ``batch`` (one durable commit each), the store alone."""
    data = b'{"call": 1, "device": "330", "cause": "newCall", "calling": "330", "called": "331"}'
    started = time.perf_counter()
    for first in range(1, count + 1, batch):
        store.append(
            [StoredEvent(seq, 0, "delivered", data) for seq in range(first, first + batch)]
        )
    took = time.perf_counter() - started
    store.close()
    return count / took


def rows() -> list[Row]:
    out: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, private_schema() as dsn:
        stores: list[tuple[str, Callable[[str], EventStore]]] = [
            ("SQLite", lambda name: SqliteStore(Path(tmp) / f"{name}.db")),
            ("PostgreSQL", lambda name: PostgresStore(dsn, name)),
        ]
        for label, make in stores:
            store = make("calls")
            calls, events, _cpu = asyncio.run(_calls(store, pairs=100, calls_each=40))
            store.close()
            out.append((f"calls/s, engine with group commit, {label}", calls, "calls/s", None))
            out.append((f"events/s (appended), same, {label}", events, "events/s", None))
        for label, make in stores:
            rate = appends(make("grouped"), GROUPED_EVENTS, GROUPED_BATCH)
            out.append(
                (
                    f"events/s appended by the store alone, batches of {GROUPED_BATCH}"
                    f" (a commit per batch), {label}",
                    rate,
                    "events/s",
                    None,
                )
            )
        for label, make in stores:
            rate = appends(make("single"), SINGLE_APPENDS, 1)
            out.append(
                (f"appends/s of one event each (a commit each), {label}", rate, "appends/s", None)
            )
        out += replay_rows(Path(tmp) / "replay.db", dsn)
    return out


def replay_rows(path: Path, dsn: str) -> list[Row]:
    sqlite = build_log(path, REPLAY_EVENTS, lambda _: None)
    postgres = PostgresStore(dsn, "replay")
    batch: list[StoredEvent] = []
    for event in sqlite.iter_from(1):  # the very same events, copied
        batch.append(event)
        if len(batch) == 10_000:
            postgres.append(batch)
            batch = []
    postgres.append(batch)
    out: list[Row] = []
    for label, store in (("SQLite", sqlite), ("PostgreSQL", postgres)):
        # The server's backend too: on a shared machine wall time says little, CPU time more.
        server = postgres._conn.info.backend_pid if store is postgres else None
        server_cpu = _cpu_seconds(server)
        started, cpu = time.perf_counter(), time.process_time()
        state = replay(store, use_snapshot=False)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        out.append((f"replay of {state.seq:,} events (no snapshot), {label}", took, "s", None))
        out.append((f"  CPU time of that replay, this process, {label}", cpu, "s", None))
        if server is not None:
            out.append(
                (
                    "  CPU time of the PostgreSQL server process serving it",
                    _cpu_seconds(server) - server_cpu,
                    "s",
                    None,
                )
            )
        store.close()
    return out


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a local process, from /proc (0 when it cannot be read)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
