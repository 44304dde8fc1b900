"""kill -9 of the node right after acknowledged sends loses nothing (specs/chat.md, "Persist,
then publish, then reply"): `cti serve` as a child process on an external Mosquitto, fifty
sends in flight, SIGKILL as soon as twenty are acknowledged; every acknowledged message is in
the chat store with the seq its reply gave. Restarted, the node knows 331 is online again from
the retained session marker alone (rule 2: nothing stored), and numbering goes on."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from cti.chat.chat_db import ChatDb
from tests.mqtt.conftest import REPO, CtiClient, Mosquitto, Server

BASE = "cti/node1"
STATUS = f"{BASE}/status"


async def test_sigkill_after_acknowledged_sends_loses_no_message(
    mosquitto: Mosquitto, tmp_path: Path, servers: list[Server]
) -> None:
    data = tmp_path / "data"
    site = REPO / "cti" / "sites" / "example.toml"
    args = ["--site", str(site), "--broker", "external", "--mqtt-url", mosquitto.url]
    args += ["--data-dir", str(data), "--csta-port", "0"]
    marker = f"{BASE}/users/331/sessions/bernd-phone"
    filters = [STATUS, f"{BASE}/online/331"]
    acked: list[tuple[str, int]] = []
    enough = asyncio.Event()
    async with CtiClient(mosquitto.host, mosquitto.port, user="330", filters=filters) as anna:
        first = Server(*args)
        servers.append(first)
        await first.start()
        await anna.wait_for(STATUS, lambda d: d["state"] == "online", timeout=60)
        # Bernd's client announces its session (retained, as cti.client does).
        await anna.publish(marker, b'{"client":"bernd-phone"}', retain=True)
        await anna.wait_for(f"{BASE}/online/331", lambda d: d["online"])

        async def send(i: int) -> None:
            reply: dict[str, Any] = await anna.request(
                "sendChatMessage", to="331", text=f"Nachricht {i}", clientId=f"k{i}"
            )
            if reply.get("ok"):
                acked.append((f"k{i}", reply["result"]["seq"]))
                if len(acked) >= 20:
                    enough.set()

        sends = [asyncio.create_task(send(i)) for i in range(50)]
        await asyncio.wait_for(enough.wait(), 30)
        first.signal(signal.SIGKILL)  # sends are still in flight: some are never answered
        assert await first.wait() == -signal.SIGKILL
        for task in sends:
            task.cancel()
        await asyncio.gather(*sends, return_exceptions=True)

    db = ChatDb.sqlite(data / "node1.chat.db", "node1")
    try:
        for cid, seq in acked:
            message = db.by_client_id("330", cid)
            assert message is not None, f"acknowledged {cid} lost"
            assert message.seq == seq
        stored = db.stored()
        assert stored >= len(acked) >= 20
    finally:
        db.close()

    async with CtiClient(mosquitto.host, mosquitto.port, user="330", filters=filters) as anna:
        second = Server(*args)
        servers.append(second)
        await second.start()
        await anna.wait_for(STATUS, lambda d: d["state"] == "online", timeout=60)
        # Online again from the retained marker alone; numbering goes on after the stored.
        reply = await anna.ok("sendChatMessage", to="331", text="wieder da", clientId="after")
        assert reply["result"]["seq"] == stored + 1
        page = await anna.ok("getChatMessages", partner="331", limit=100)
        got = {m["clientId"]: m["seq"] for m in page["result"]["messages"]}
        assert all(got[cid] == seq for cid, seq in acked)
        second.signal(signal.SIGTERM)
        assert await second.wait() == 0
