"""`cti serve` starts the CSTA link next to the MQTT face; `cti csta call` and `cti csta
monitor` talk to it as child processes (CALL-01, CALL-03)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cti.mqtt.broker import free_port
from tests.mqtt.conftest import REPO, Mosquitto, Server, broker, servers  # noqa: F401

TIMEOUT = 15.0


async def _serve(broker: Mosquitto, tmp_path: Path, servers: list[Server]) -> int:  # noqa: F811
    port = free_port()
    server = Server(
        "--broker", "external", "--mqtt-url", broker.url,
        "--data-dir", str(tmp_path / "data"), "--csta-port", str(port),
    )  # fmt: skip
    servers.append(server)
    await server.start()
    line = await server.wait_line(lambda text: "CSTA link" in text)
    assert f"127.0.0.1:{port}" in line, server.output
    await server.wait_line(lambda text: "Ctrl-C stops." in text)
    return port


async def _cli(*args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cti.cli", "csta", *args,
        cwd=REPO, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


async def _line(proc: asyncio.subprocess.Process, needle: str) -> str:
    assert proc.stdout is not None
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)
        assert raw, f"no line with {needle!r} before EOF"
        if needle in raw.decode():
            return raw.decode()


async def test_csta_call_and_monitor_against_cti_serve(
    broker: Mosquitto,  # noqa: F811
    tmp_path: Path,
    servers: list[Server],  # noqa: F811
) -> None:
    port = await _serve(broker, tmp_path, servers)
    address = f"127.0.0.1:{port}"
    monitor = await _cli("monitor", address, "330", "331")
    try:
        await _line(monitor, "monitoring 331")
        call = await _cli("call", address, "330", "331")
        out, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
        assert call.returncode == 0, err.decode()
        assert out.decode().strip() == "makeCall 330 -> 331: call 1 at 330"
        line = await _line(monitor, "delivered")
        assert "cause=newCall" in line and "call=1" in line and "alerting=331" in line
        line = await _line(monitor, "331")
        assert " delivered " in line and "state=alerting" in line
        monitor.send_signal(signal.SIGINT)
        await _line(monitor, "released")
        assert await asyncio.wait_for(monitor.wait(), TIMEOUT) == 0
    finally:
        if monitor.returncode is None:
            monitor.kill()
            await monitor.wait()


async def test_csta_call_with_wrong_password_fails(
    broker: Mosquitto,  # noqa: F811
    tmp_path: Path,
    servers: list[Server],  # noqa: F811
) -> None:
    port = await _serve(broker, tmp_path, servers)
    call = await _cli("call", f"127.0.0.1:{port}", "330", "331", "--password", "wrong")
    _, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
    assert call.returncode == 1
    # One clear line, not the bare ACSE diagnostic ('acse-service-user', 13) (issue 18 item 9).
    assert err.decode().splitlines() == [
        "cti csta: association refused: authentication failed (unknown user, wrong password, "
        "or an account that must change its password first; the switch's log says which)"
    ]
    # Ctrl-C on `cti serve` closes the CSTA listener with everything else
    servers[0].signal(signal.SIGINT)
    assert await servers[0].wait() == 0
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


def _site(tmp_path: Path, csta: str) -> Path:
    text = (Path(REPO) / "cti" / "sites" / "example.toml").read_text("utf-8")
    head, sep, _ = text.partition("[csta]")
    assert sep, "the example site has a [csta] table"
    path = tmp_path / "site.toml"
    path.write_text(head + "[csta]\n" + csta, "utf-8")
    return path


async def test_site_port_zero_disables_the_link(
    broker: Mosquitto,  # noqa: F811
    tmp_path: Path,
    servers: list[Server],  # noqa: F811
) -> None:
    site = _site(tmp_path, 'password = "pw"\nport = 0\n')
    server = Server(
        "--broker", "external", "--mqtt-url", broker.url, "--site", str(site),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    servers.append(server)
    await server.start()
    line = await server.wait_line(lambda text: "CSTA link" in text)
    assert "disabled ([csta] port = 0)" in line, server.output


async def test_default_password_on_a_public_host_refuses_to_start(
    broker: Mosquitto,  # noqa: F811
    tmp_path: Path,
    servers: list[Server],  # noqa: F811
) -> None:
    site = _site(tmp_path, 'host = "0.0.0.0"\n')
    server = Server(
        "--broker", "external", "--mqtt-url", broker.url, "--site", str(site),
        "--data-dir", str(tmp_path / "data"), "--csta-port", str(free_port()),
    )  # fmt: skip
    servers.append(server)
    await server.start()
    line = await server.wait_line(lambda text: "CSTA link refused" in text)
    assert "not loopback" in line and "default" in line, server.output
    assert await server.wait() == 1
