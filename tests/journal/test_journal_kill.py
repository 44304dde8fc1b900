"""The journal survives kill -9 mid-call (issue 14): `cti serve` SIGKILLed while calls are
going on and users write notes; the journal file then holds exactly the rebuild of the log up
to its position (the calls still going on as tracks); restarted, the node goes on, the calls
that were going on end, and the journal equals a rebuild of the whole log, with the entries of
the calls that spanned the kill decided from their own events."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from cti.app.committed import decode
from cti.app.node import replay
from cti.journal.journal_db import JournalDb
from cti.site import Site
from cti.store import SqliteStore
from tests.journal.helpers import line
from tests.mqtt.conftest import CtiClient, Mosquitto, Server, broker, servers
from tests.mqtt.test_kill_under_load import PHONES, STATUS, load_site_file

__all__ = ["broker", "servers"]  # the tests/mqtt fixtures


def rebuilt(log: SqliteStore, site: Site, path: Path, upto: int) -> JournalDb:
    """A journal made from scratch from the log up to ``upto``, in one pass."""
    db = JournalDb(path, log.epoch, site)
    position = 0
    while position < upto:
        page = [decode(r) for r in log.read(position + 1, 500) if r.seq <= upto]
        if not page:
            break
        db.apply(page)
        position = page[-1].seq
    return db


async def test_sigkill_mid_call_then_restart_equals_a_rebuild(
    broker: Mosquitto, tmp_path: Path, servers: list[Server]
) -> None:
    from cti.app.config import load_config

    site_file, data = tmp_path / "site.toml", tmp_path / "data"
    load_site_file(site_file)
    site = load_config(site_file).site
    args = ["--site", str(site_file), "--broker", "external", "--mqtt-url", broker.url]
    args += ["--data-dir", str(data)]
    done = 0
    enough = asyncio.Event()
    async with CtiClient(broker.host, broker.port, name="load") as ui:
        first = Server(*args)
        servers.append(first)
        await first.start()
        await ui.wait_for(STATUS, lambda d: d["state"] == "online")
        # Going on across the kill: a call being talked in, one ringing.
        talking = (await ui.ok("makeCall", calling="1000", called="1001"))["result"]["call"]
        await ui.ok("answerCall", call=talking, device="1001")
        ringing = (await ui.ok("makeCall", calling="1002", called="1003"))["result"]["call"]

        async def worker(i: int) -> None:
            nonlocal done
            a, b = str(1004 + 2 * i), str(1005 + 2 * i)
            n = 0
            while True:
                call = (await ui.ok("makeCall", calling=a, called=b))["result"]["call"]
                if n % 2:
                    await ui.ok("answerCall", call=call, device=b)
                await ui.ok("clearConnection", call=call, device=a)
                if not n % 2:  # a missed call: its user notes it (the entry is there)
                    await ui.ok("setJournalNote", user=b, entry=call, note=f"n{n}")
                n += 1
                done += 1
                if done >= 150:
                    enough.set()

        workers = [asyncio.create_task(worker(i)) for i in range((PHONES - 4) // 2)]
        await asyncio.wait_for(enough.wait(), 90)
        first.signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    # Killed: the journal is exactly the rebuild of the log up to its position.
    with SqliteStore.open_readonly(data / "node1.db") as log:
        journal = JournalDb(data / "node1.journal.db", log.epoch, site)
        position = journal.position()
        assert 0 < position <= log.last_seq()
        again = rebuilt(log, site, tmp_path / "upto.db", position)
        killed = journal.dump()
        assert killed == again.dump()
        assert {talking, ringing} <= set(killed[1]), "the calls going on are tracks"
        assert [i for i in killed[0] if i.note is not None], "notes were made"
        journal.close()
        again.close()

    # Restarted: the calls going on end, the journal catches up and equals a full rebuild.
    async with CtiClient(broker.host, broker.port, name="check") as ui:
        second = Server(*args)
        servers.append(second)
        await second.start()
        await ui.wait_for(STATUS, lambda d: d["state"] == "online")
        await ui.ok("clearCall", call=talking)
        await ui.ok("clearCall", call=ringing)
        seen = await ui.ok("getJournal", user="1000", limit=1)  # waits for the follower
        assert seen["result"]["entries"][0]["entry"] == talking
        second.signal(signal.SIGTERM)
        assert await second.wait() == 0
    with SqliteStore.open_readonly(data / "node1.db") as log:
        journal = JournalDb(data / "node1.journal.db", log.epoch, site)
        assert journal.position() == log.last_seq()
        full = rebuilt(log, site, tmp_path / "full.db", log.last_seq())
        assert journal.dump() == full.dump()
        items, tracks = journal.dump()
        # Tracks are exactly the calls still going on (workers' calls cut off by the kill).
        assert set(tracks) == set(replay(log, use_snapshot=False).calls.calls)
        assert talking not in tracks and ringing not in tracks
        spanned = sorted(line(i.entry) for i in items if i.entry.call in (talking, ringing))
        assert spanned == [
            f"1000 {talking} outgoing 1001 answered by=1001",
            f"1001 {talking} incoming 1000 answered",
            f"1002 {ringing} outgoing 1003 notAnswered",
            f"1003 {ringing} incoming 1002 missed",
        ]
        journal.close()
        full.close()
