"""`cti serve --store postgresql://...`: the node's log, snapshots-to-be, outbox position and
sequence live in PostgreSQL; SIGKILLed after acknowledged commands, the restarted node has the
state its log gives and continues the sequence (specs/store.md, "PostgreSQL"; OPS-level
requirement of issue 19, item 1). Private Mosquitto, private schema."""

from __future__ import annotations

import signal
from pathlib import Path

from cti.app.node import replay
from cti.calls.services import queries
from cti.mqtt.face.outbox import POSITION_KEY
from cti.store.postgres import PostgresStore, where
from tests.mqtt.conftest import CtiClient, Mosquitto, Server, site_with_tester
from tests.postgres import wait_for_writer_gone

STATUS = "cti/node1/status"


async def test_serve_on_postgres_survives_sigkill_and_continues_the_sequence(
    broker: Mosquitto, tmp_path: Path, pg_dsn: str, servers: list[Server]
) -> None:
    data = tmp_path / "data"
    args = [
        *("--site", str(site_with_tester(tmp_path))),
        *("--broker", "external", "--mqtt-url", broker.url),
        *("--data-dir", str(data), "--csta-port", "0"),
        *("--store", pg_dsn),
    ]
    async with CtiClient(broker.host, broker.port, name="pg") as ui:
        first = Server(*args)
        servers.append(first)
        await first.start()
        banner = await first.wait_line(lambda line: "log postgresql://" in line)
        assert f"log {where(pg_dsn)} (node node1) at seq 2" in banner
        await ui.wait_for(STATUS, lambda d: d["state"] == "online")
        made = await ui.ok("makeCall", calling="330", called="331")
        call = made["result"]["call"]
        await ui.ok("answerCall", call=call, device="331")
        dnd = await ui.ok("setDoNotDisturb", device="332", on=True)
        acked = dnd["seq"]
        await ui.wait_for(STATUS, lambda d: d["seq"] == acked)  # published: the outbox moved
        first.signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL

    assert not (data / "node1.db").exists()  # the log is not a file here
    assert (data / "node1.calls.db").exists()  # the call records stay an SQLite read model
    with PostgresStore.open_readonly(pg_dsn, "node1") as log:
        last = log.last_seq()
        assert last == acked  # nothing after the last command; nothing acknowledged lost
        assert [e.seq for e in log.read(1)] == list(range(1, last + 1))
        state = replay(log, use_snapshot=False)
        assert int(log.get_meta(POSITION_KEY) or 0) > 2

    wait_for_writer_gone(pg_dsn, "node1")  # as a supervisor's restart delay would
    async with CtiClient(broker.host, broker.port, name="check") as ui:
        second = Server(*args)
        servers.append(second)
        await second.start()
        await second.wait_line(lambda line: f"(node node1) at seq {last}" in line)
        await ui.wait_for(STATUS, lambda d: d["state"] == "online")
        for device in ("330", "331", "332"):
            reply = await ui.ok("snapshotDevice", device=device)
            assert reply["result"] == queries.snapshot_device(state.calls, device), device
        assert state.calls.device("332").dnd
        dnd_off = await ui.ok("setDoNotDisturb", device="332", on=False)
        assert dnd_off["seq"] == last + 1  # one event, right after the last one before the kill
        cleared = await ui.ok("clearConnection", call=call, device="330")  # the call goes on
        assert cleared["seq"] > last + 1
        second.signal(signal.SIGTERM)
        assert await second.wait() == 0
    with PostgresStore.open_readonly(pg_dsn, "node1") as log:
        assert [e.seq for e in log.read(1)] == list(range(1, log.last_seq() + 1))
        assert log.last_seq() == cleared["seq"]
