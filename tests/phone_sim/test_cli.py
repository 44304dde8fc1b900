"""`phone-sim run` and `phone-sim load` as a tester uses them: separate processes talking to
a `cti serve` process through a real Mosquitto."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.mqtt.conftest import REPO, CtiClient, Mosquitto, Server

SCENARIOS = REPO / "phone_sim" / "scenarios"


async def phone_sim(url: str, *args: str) -> tuple[int, str]:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "phone_sim.cli",
        "--mqtt-url",
        url,
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_run_and_load_against_cti_serve(
    broker: Mosquitto, servers: list[Server], tmp_path: Path
) -> None:
    server = Server("--mqtt-url", broker.url, "--data-dir", str(tmp_path / "data"))
    servers.append(server)
    await server.start()
    async with CtiClient(broker.host, broker.port, filters=["cti/node1/status"]) as ui:
        # The first start hashes the ten demo accounts' passwords (argon2id and the broker's
        # PBKDF2, slow on purpose): seconds on a busy machine, so more than the usual wait.
        await ui.wait_for("cti/node1/status", lambda d: d["state"] == "online", timeout=30)

    code, out = await phone_sim(broker.url, "run", str(SCENARIOS / "call-07-transfer.yaml"))
    assert code == 0, out
    assert "✓ 330 transfers" in out and "1 scenario(s): passed" in out

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - 330 calls 331\n  - expect 331 talking-internal\n")
    code, out = await phone_sim(broker.url, "run", str(bad))
    assert code == 1, out
    assert "✗ expect 331 talking-internal" in out and "found incoming-internal" in out

    bad.write_text("name: bad\nsteps:\n  - 330 sings\n")
    code, out = await phone_sim(broker.url, "run", str(bad))
    assert code == 2 and "unknown action" in out, out

    code, out = await phone_sim(
        broker.url, "load", "--devices", "12", "--calls-per-second", "10", "--duration", "1"
    )
    assert code == 0, out
    assert "calls completed" in out and "latency p99" in out


async def test_unreachable_broker_is_a_clear_error() -> None:
    code, out = await phone_sim(
        "mqtt://127.0.0.1:1", "run", str(SCENARIOS / "call-04-hold-retrieve.yaml")
    )
    assert code == 3 and "cannot reach the node's broker" in out, out


async def test_only_load_drives_several_nodes() -> None:
    """Several --node are for `load` (tests/mqtt/test_many_sites.py runs it on two nodes);
    the other commands act on one node and say so, reaching no broker."""
    code, out = await phone_sim(
        "mqtt://127.0.0.1:1", "--node", "node1", "--node", "branch", "console", "330"
    )
    assert code == 2 and "phone-sim console drives one node: give one --node" in out, out
