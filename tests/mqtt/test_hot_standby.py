"""Hot standby (specs/store.md, "Hot standby"; issue 19 item 2): two `cti serve --standby`
processes for node1 on one PostgreSQL log (a private schema) and one private Mosquitto.

The first holds the log and serves; the second follows it without a broker connection, CSTA
listener or client id of the node, and says "standby" on /healthz. The active one is
SIGKILLed under load: the standby takes over within 5 s (the gap in served requests),
continues the same sequence, every acknowledged command is in the log where its reply said,
and the events topic repeats only what the at-least-once contract allows (specs/mqtt.md,
"Delivery guarantees"). A writer that lost its lock while paused comes back fenced: it exits
1 with one line and writes nothing."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import time
from pathlib import Path
from typing import Any

from cti.app.node import decode
from cti.calls import events as ev
from cti.domain import INTERNAL_KINDS
from cti.mqtt.broker import free_port
from cti.mqtt.broker_files import write_private
from cti.store.postgres import PostgresStore
from tests.mqtt.conftest import TIMEOUT, Broker, CtiClient, Server, site_with_tester
from tests.mqtt.test_kill_under_load import load_site_file
from tests.ops.test_endpoint import get
from tests.postgres import execute

STATUS = "cti/node1/status"
EVENTS = "cti/node1/events"
PAIRS = 40  # phones 1000..1079 (test_kill_under_load's site has 60: made bigger here)
WORKERS = 10
TAKEOVER_LIMIT = 5.0  # seconds (issue 19): from the kill to the first request served again
REQUEST_TIMEOUT = 1.0  # a request unanswered this long counts as not acknowledged


def serve_args(site: Path, data: Path, broker: Broker, dsn: str, csta: int) -> list[str]:
    # The pair shares the node's broker secret, as specs/store.md tells operators: so both
    # have the node's one client id, and the new active node's connect ends a paused old
    # one's session (a stale 'online' status from it was seen when each had its own secret).
    data.mkdir(parents=True, exist_ok=True)
    write_private(data / "node1.broker-secret", "the-pair-s-shared-secret\n")
    return [
        *("--site", str(site), "--broker", "external", "--mqtt-url", broker.url),
        *("--data-dir", str(data), "--store", dsn, "--standby"),
        *("--csta-port", str(csta), "--http-port", str(free_port())),
    ]


def http_port(server: Server) -> int:
    return int(server.args[server.args.index("--http-port") + 1])


async def healthz(server: Server) -> dict[str, Any]:
    _, _, body = await get(http_port(server), "/healthz")
    doc = json.loads(body)
    assert isinstance(doc, dict)
    return doc


def longest_pause(times: list[float]) -> float:
    """The longest time without an answer: the gap in served requests."""
    ordered = sorted(times)
    return max(b - a for a, b in itertools.pairwise(ordered))


async def test_standby_takes_over_a_sigkilled_active_under_load(
    broker: Broker, tmp_path: Path, pg_dsn: str, servers: list[Server]
) -> None:
    site = tmp_path / "site.toml"
    load_site_file(site)
    text = site.read_text()
    more = "".join(
        f'\n[[devices]]\nnumber = "{1000 + i}"\nname = "Load {i}"\n' for i in range(60, 2 * PAIRS)
    )
    site.write_text(text.replace("\n[[users]]", more + "\n[[users]]", 1))
    csta = free_port()
    a = Server(*serve_args(site, tmp_path / "a", broker, pg_dsn, csta))
    b = Server(*serve_args(site, tmp_path / "b", broker, pg_dsn, csta))
    servers += [a, b]
    acked: list[tuple[float, str, str, int]] = []  # (when, service, call, seq)
    enough, after, stopping = asyncio.Event(), asyncio.Event(), asyncio.Event()
    killed: list[float] = []

    async with (
        CtiClient(broker.host, broker.port, name="watch", filters=[EVENTS, STATUS]) as watch,
        CtiClient(broker.host, broker.port, name="load", filters=[]) as ui,
    ):
        await a.start()
        await a.wait_line(lambda line: "log postgresql://" in line)
        await watch.wait_for(STATUS, lambda d: d["state"] == "online")
        await b.start()
        line = await b.wait_line(lambda line: ": standby, log " in line)
        assert "active writer pid" in line and "(term 1)" in line, line
        doc = await healthz(b)
        assert doc["status"] == "standby" and doc["active"]["term"] == 1, doc
        assert (await healthz(a))["status"] == "up"

        async def request(service: str, **fields: Any) -> dict[str, Any] | None:
            if stopping.is_set():
                return None  # not sent: the load is over
            body = json.dumps(fields).encode()
            try:
                reply = await ui.raw_request(ui.topic(service), body, timeout=REQUEST_TIMEOUT)
            except (TimeoutError, AssertionError):
                return None  # never answered: not acknowledged
            return reply if reply.get("ok") is True else None

        async def worker(i: int) -> None:
            pairs = [(str(1000 + 2 * j), str(1001 + 2 * j)) for j in range(i, PAIRS, WORKERS)]
            for x, y in pairs:  # on any failure the next pair: this one's state is unknown
                while not stopping.is_set():
                    made = await request("makeCall", calling=x, called=y)
                    if made is None:
                        break
                    call = made["result"]["call"]
                    acked.append((time.monotonic(), "makeCall", call, made["seq"]))
                    for service, device in (("answerCall", y), ("clearConnection", x)):
                        reply = await request(service, call=call, device=device)
                        if reply is None:
                            break
                        acked.append((time.monotonic(), service, call, reply["seq"]))
                    else:
                        if len(acked) >= 300:
                            enough.set()
                        if killed and sum(1 for t, *_ in acked if t > killed[0]) >= 150:
                            after.set()
                        continue
                    break

        served: list[float] = []  # when a probe was answered

        async def probe() -> None:
            reply = await request("snapshotDevice", device="1000")
            if reply is not None:
                served.append(time.monotonic())

        async def prober() -> None:
            # A request every 50 ms, each waiting on its own: the first one sent after the
            # standby subscribed is answered, so the gap is measured to about 50 ms.
            probes: set[asyncio.Task[None]] = set()
            while not stopping.is_set():
                task = asyncio.create_task(probe())
                probes.add(task)
                task.add_done_callback(probes.discard)
                await asyncio.sleep(0.05)  # the probing rate, not a wait for a condition
            await asyncio.gather(*probes)  # each bounded by REQUEST_TIMEOUT

        workers = [asyncio.create_task(worker(i)) for i in range(WORKERS)]
        workers.append(asyncio.create_task(prober()))
        await asyncio.wait_for(enough.wait(), 60)
        killed.append(time.monotonic())
        a.signal(signal.SIGKILL)
        assert await a.wait() == -signal.SIGKILL
        took = await b.wait_line(lambda line: "hot standby: took over" in line, timeout=10)
        await asyncio.wait_for(after.wait(), 60)
        # The load ends when told, not by cancelling it: on Python 3.11 a cancel that meets
        # a completing asyncio.wait_for (aiomqtt's publish has one) is lost, and a worker
        # that missed it made its requests forever (the intermittent hang of this test).
        stopping.set()
        done, running = await asyncio.wait(workers, timeout=3 * TIMEOUT)
        for task in running:
            task.cancel()  # a failing test need not wait for them
        assert not running, running
        for task in done:
            task.result()  # a worker that failed fails the test
        banner = b.output
        assert f"CSTA link    127.0.0.1:{csta}" in banner  # bound only now, after takeover
        assert "(term 2, previous writer pid" in took, took
        taken_at = int(took.split("took over the log at seq ")[1].split()[0])
        assert (await healthz(b))["status"] == "up"
        last_b = max(seq for *_, seq in acked)
        await watch.wait_for(STATUS, lambda d: d["state"] == "online" and d["seq"] >= last_b)

    before = [(t, seq) for t, _, _, seq in acked if t <= killed[0]]
    later = [(t, seq) for t, _, _, seq in acked if t > killed[0]]
    gap, load_gap = longest_pause(served), longest_pause([t for t, *_ in acked])
    print(
        f"\ntakeover gap in served requests: {gap:.2f} s (probes every 50 ms; the load's "
        f"commands {load_gap:.2f} s with a {REQUEST_TIMEOUT} s request timeout; "
        f"{len(before)}+{len(later)} commands acknowledged before+after the kill)"
    )
    assert gap < TAKEOVER_LIMIT, gap
    assert load_gap < TAKEOVER_LIMIT + REQUEST_TIMEOUT, load_gap
    # Answered before the kill: the dead node's; then the new active's, on from its last.
    assert max(seq for _, seq in before) <= taken_at
    assert len([seq for _, seq in later if seq > taken_at]) >= 100

    with PostgresStore.open_readonly(pg_dsn, "node1") as log:
        last = log.last_seq()
        records = log.read(1)
        assert [r.seq for r in records] == list(range(1, last + 1))  # one sequence, no gap
        for _, service, call, seq in acked:  # every acknowledged command where its reply said
            event = decode(records[seq - 1]).event
            assert isinstance(event, ev.CallEvent) and event.call == call, service
    # The events topic: at least once, in order after dropping repeats; repeated are only
    # events the dead node had published before the broker acknowledgement was stored.
    seen = [e["seq"] for batch in watch.docs(EVENTS) for e in batch]
    published = [r.seq for r in records if r.kind not in INTERNAL_KINDS and r.seq >= seen[0]]
    unique = list(dict.fromkeys(seen))
    assert unique == sorted(unique) == published
    repeats = [s for s in seen if seen.count(s) > 1]
    assert all(s <= taken_at for s in repeats), (repeats, taken_at)
    assert all(seen.count(s) == 2 for s in repeats)
    print(f"events topic: {len(unique)} events, {len(set(repeats))} of them twice (at least once)")


async def test_a_returning_old_primary_is_fenced_and_exits(
    broker: Broker, tmp_path: Path, pg_dsn: str, servers: list[Server]
) -> None:
    site = site_with_tester(tmp_path)
    a = Server(*serve_args(site, tmp_path / "a", broker, pg_dsn, 0))
    b = Server(*serve_args(site, tmp_path / "b", broker, pg_dsn, 0))
    servers += [a, b]
    async with CtiClient(broker.host, broker.port, name="fence") as ui:
        await a.start()
        await a.wait_line(lambda line: "log postgresql://" in line)
        first = (await ui.wait_for(STATUS, lambda d: d["state"] == "online"))["started"]
        before = await ui.ok("setDoNotDisturb", device="330", on=True)
        await b.start()
        await b.wait_line(lambda line: ": standby, log " in line)
        # A pause (a stalled VM, a network partition) long enough for the database to end
        # the writer's session: the lock is free, the standby takes over under term 2.
        a.signal(signal.SIGSTOP)
        execute(
            pg_dsn,
            # The session that holds this schema's log lock: the active writer's.
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            " AND granted AND objsubid = 2 AND classid = 'cti_logs'::regclass::oid",
        )
        await b.wait_line(lambda line: "hot standby: took over" in line, timeout=10)
        await ui.wait_for(STATUS, lambda d: d["state"] == "online" and d["started"] != first)
        a.signal(signal.SIGCONT)  # the old primary comes back
        assert await a.wait() == 1
        fenced = [line for line in a.lines if "fenced" in line]
        assert len(fenced) == 1, a.output
        assert fenced[0].startswith("cti serve: fenced: the event log of node node1"), fenced
        assert "was taken over by another writer" in fenced[0] and "term 2" in fenced[0]
        # The new active serves and goes on from the old one's last event; the retained
        # status is still its own (the fenced one published nothing when it left).
        after = await ui.ok("setDoNotDisturb", device="330", on=False)
        assert after["seq"] == before["seq"] + 1
        status = [m.doc for m in ui.on(STATUS)]
        assert status[-1]["state"] == "online" and status[-1]["started"] != first, status
        # Its supervisor starts it again: now it is the standby, and stops cleanly as one.
        again = Server(*a.args[4:])
        servers.append(again)
        await again.start()
        line = await again.wait_line(lambda line: ": standby, log " in line)
        assert f"at seq {after['seq']}; active writer pid" in line and "(term 2)" in line, line
        again.signal(signal.SIGTERM)
        assert await again.wait() == 0
        assert again.lines[-1] == "stopped (standby)"
        b.signal(signal.SIGTERM)
        assert await b.wait() == 0
    with PostgresStore.open_readonly(pg_dsn, "node1") as log:
        assert log.last_seq() == after["seq"]
        assert log.holder()[1] == 2
