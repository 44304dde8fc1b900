"""Section vm: voicemail message recording (VM-01), the whole path of `leaveVoicemailMessage`
in the node's process: base64 decoded, the WAV checked, stored content-addressed and fsynced
(file and directory), then `recordMessage` committed to the SQLite log (group commit).

100 callers, each deflected to the voicemail of another phone, leave a 3-second message (a
48 kB WAV, 8 kHz 16-bit mono) at once, two rounds: messages/s and the latency of one. A row
for the fsynced store alone says how much of it is the disk.

    python -m bench vm
"""

from __future__ import annotations

import asyncio
import base64
import math
import statistics
import struct
import tempfile
import time
from pathlib import Path

from bench.office import big_site, pair
from cti.accounts.commands import AccountSeed, SeedAccounts
from cti.accounts.model import Licence, Role
from cti.api.execute import execute
from cti.api.requests import parse_action
from cti.api.voicemail import AUDIO
from cti.app.clock import SystemClock
from cti.app.engine import Engine
from cti.app.node import Node
from cti.calls import commands as c
from cti.store import SqliteStore
from cti.voicemail.audio_db import AudioStore
from cti.voicemail.wav import make_wav

Row = tuple[str, float, str, str | None]
PAIRS = 100
ROUNDS = 2


def speech(seconds: float, salt: int) -> bytes:
    """A distinct tone per message (each is stored as a file of its own)."""
    frames = int(seconds * 8000)
    hz = 300 + salt
    return make_wav(
        b"".join(
            struct.pack("<h", int(6000 * math.sin(2 * math.pi * hz * i / 8000)))
            for i in range(frames)
        )
    )


async def _run(data: Path) -> list[Row]:
    site = big_site(2 * PAIRS)
    store = SqliteStore(data / "bench.db")
    node = Node(site, store, SystemClock())
    audio = AudioStore(data / "audio")
    node.read_models[AUDIO] = audio
    engine = Engine(node)
    await engine.start()
    users = tuple(
        AccountSeed(
            name=number,
            display_name=number,
            role=Role.USER,
            devices=(number,),
            licences=frozenset({Licence.VOICEMAIL}),
            password=None,
            broker_password=None,
            must_change=False,
        )
        for number in site.devices
        if number != "351"
    )
    await engine.execute(SeedAccounts(accounts=users))
    bodies = [base64.b64encode(speech(3.0, k)).decode() for k in range(PAIRS * ROUNDS)]
    latencies: list[float] = []

    async def leave(k: int, body: str) -> None:
        a, b = pair(k)
        made = await engine.execute(c.MakeCall(calling=a, called=b))
        call = made.result["call"]  # type: ignore[union-attr]
        await engine.execute(c.DeflectCall(call=call, device=b, to="351"))
        started = time.perf_counter()
        action = parse_action("leaveVoicemailMessage", {"call": call, "device": a, "audio": body})
        reply = await execute(engine, action)
        latencies.append(time.perf_counter() - started)
        assert reply["ok"], reply
        await engine.execute(c.ClearCall(call=call))

    rows: list[Row] = []
    try:
        started = time.perf_counter()
        for r in range(ROUNDS):
            await asyncio.gather(*(leave(k, bodies[r * PAIRS + k]) for k in range(PAIRS)))
        elapsed = time.perf_counter() - started
        count = PAIRS * ROUNDS
        rows.append(
            ("messages recorded (3 s, 48 kB WAV; 100 at once)", count / elapsed, "msg/s", None)
        )
        rows.append(("one message, p50", statistics.median(latencies) * 1000, "ms", None))
        rows.append(
            ("one message, p99", statistics.quantiles(latencies, n=100)[98] * 1000, "ms", None)
        )
        raw = [speech(3.0, 1000 + k) for k in range(50)]
        started = time.perf_counter()
        for wav in raw:
            audio.put(wav)
        rows.append(
            (
                "fsynced store alone, one file",
                (time.perf_counter() - started) / 50 * 1000,
                "ms",
                None,
            )
        )
    finally:
        await engine.stop()
        store.close()
    return rows


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as d:
        return asyncio.run(_run(Path(d)))
