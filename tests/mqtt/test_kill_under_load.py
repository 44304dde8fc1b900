"""`cti serve` SIGKILLed in the middle of load: nothing acknowledged is lost, the restarted
node's state equals a replay of its log, and seq continues (the fault suite's first case)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from cti.app.node import decode, replay
from cti.calls import events as ev
from cti.calls.records_db import CallRecordsDb
from cti.calls.services import queries
from cti.store import SqliteStore
from tests.app.test_followers import rebuild
from tests.mqtt.conftest import TESTER, TESTER_PASSWORD, CtiClient, Mosquitto, Server

STATUS = "cti/node1/status"
PHONES = 60


def load_site_file(path: Path) -> None:
    phones = "".join(
        f'\n[[devices]]\nnumber = "{1000 + i}"\nname = "Load {i}"\n' for i in range(PHONES)
    )
    path.write_text(
        'node = "node1"\nvoicemail = "351"\n\n[location]\ncountry_code = "49"\n'
        'area_code = "89"\nbase_number = "7007"\ninternal_number_length = 4\n'
        + phones
        + f'\n[[users]]\nname = "{TESTER}"\nrole = "integrator"\npassword = "{TESTER_PASSWORD}"\n'
        "must_change = false\n"
    )


async def test_sigkill_under_load_loses_no_acknowledged_command(
    broker: Mosquitto, tmp_path: Path, servers: list[Server]
) -> None:
    site_file, data = tmp_path / "site.toml", tmp_path / "data"
    load_site_file(site_file)
    args = [
        "--site",
        str(site_file),
        "--broker",
        "external",
        "--mqtt-url",
        broker.url,
        "--data-dir",
        str(data),
    ]
    acked: list[tuple[str, dict[str, object], int]] = []
    enough = asyncio.Event()
    async with CtiClient(broker.host, broker.port, name="load") as ui:
        first = Server(*args)
        servers.append(first)
        await first.start()
        await ui.wait_for(STATUS, lambda d: d["state"] == "online")

        async def worker(i: int) -> None:
            a, b = str(1000 + 2 * i), str(1001 + 2 * i)
            while True:
                made = await ui.ok("makeCall", calling=a, called=b)
                acked.append(("makeCall", made["result"], made["seq"]))
                call = made["result"]["call"]
                for service, device in (("answerCall", b), ("clearConnection", a)):
                    reply = await ui.ok(service, call=call, device=device)
                    acked.append((service, {"call": call}, reply["seq"]))
                if len(acked) >= 300:
                    enough.set()

        workers = [asyncio.create_task(worker(i)) for i in range(PHONES // 2)]
        await asyncio.wait_for(enough.wait(), 60)
        first.signal(signal.SIGKILL)  # requests are in flight: some will never be answered
        assert await first.wait() == -signal.SIGKILL
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

        # Every acknowledged command's events are in the log, where its reply said.
        with SqliteStore.open_readonly(data / "node1.db") as log:
            last = log.last_seq()
            for service, result, seq in acked:
                assert seq <= last, (service, seq, last)
                [record] = log.read(seq, 1)
                event = decode(record).event
                assert isinstance(event, ev.CallEvent) and event.call == result["call"], service
            state = replay(log, use_snapshot=False).calls
        assert len(acked) >= 300

    # Restarted: online, the same state as a replay of the log, and seq goes on. (A fresh
    # client: the load client's thousands of collected messages would slow its waits.)
    async with CtiClient(broker.host, broker.port, name="check") as ui:
        second = Server(*args)
        servers.append(second)
        await second.start()
        await ui.wait_for(STATUS, lambda d: d["state"] == "online" and d["seq"] <= last)
        for number in (str(1000 + i) for i in range(PHONES)):
            reply = await ui.ok("snapshotDevice", device=number)
            assert reply["result"] == queries.snapshot_device(state, number), number
        dnd = await ui.ok("setDoNotDisturb", device="1000", on=not state.device("1000").dnd)
        assert dnd["seq"] == last + 1, (dnd, last)
        second.signal(signal.SIGTERM)
        assert await second.wait() == 0

    # The call records read model, killed with the node mid-stream, resumed after the restart:
    # it holds exactly what a rebuild of the log up to its position gives.
    with SqliteStore.open_readonly(data / "node1.db") as log:
        records = CallRecordsDb(data / "node1.calls.db", log.epoch)
        position = records.position()
        assert position > 0
        assert records.records() == rebuild(log, upto=position)
        records.close()
