"""The embedded broker lives exactly as long as its node (issue 18: operation).

- A busy port is one clear line and exit status 1, never a silent move to another port
  (UIs are configured for the documented one); ``--broker-port 0`` asks for any free port.
- ``kill -9`` of ``cti serve`` takes the mosquitto child with it (PR_SET_PDEATHSIG), and the
  restarted node gets the same port.
- A mosquitto that a killed node left running anyway is found through the pid file in the
  broker's run directory and stopped; a child that dies while the node runs is started again.
- A restart right after a stop, with connections still in TIME_WAIT, gets the same port.

Waiting is for conditions (a process gone, a port listening), bounded; nothing sleeps for time.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

from cti.app.config import load_site
from cti.mqtt.broker import EmbeddedBroker, free_port, wait_listening
from cti.mqtt.broker_files import BrokerFiles
from tests.mqtt.conftest import Mosquitto, Server, site_with_tester

TIMEOUT = 10.0


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (polled: other processes' states have no event to wait on)."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"not within {TIMEOUT} s: {what}"
        await asyncio.sleep(0.02)


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its parent counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.split(") ", 1)[1].startswith("Z")


def serve(data: Path, site: Path, port: int, *, tls_port: int = 0) -> Server:
    return Server(
        *("--broker", "embedded", "--broker-port", str(port), "--tls-port", str(tls_port)),
        *("--data-dir", str(data), "--site", str(site)),
    )


async def test_a_busy_broker_port_is_one_line_and_exit_1(
    broker: Mosquitto, tmp_path: Path, servers: list[Server]
) -> None:
    server = serve(tmp_path / "data", site_with_tester(tmp_path), broker.port)
    servers.append(server)
    await server.start()
    assert await server.wait() == 1
    assert [line for line in server.lines if line.strip()] == [
        f"cti serve: broker port {broker.port} on 127.0.0.1 is in use (another broker or "
        "node?); stop it or choose another port (0: any free port)"
    ]


async def test_a_busy_tls_port_is_one_line_and_exit_1(
    broker: Mosquitto, tmp_path: Path, servers: list[Server]
) -> None:
    server = serve(tmp_path / "data", site_with_tester(tmp_path), 0, tls_port=broker.port)
    servers.append(server)
    await server.start()
    assert await server.wait() == 1
    [line] = [line for line in server.lines if line.strip()]
    assert line.startswith(f"cti serve: TLS port {broker.port} on 127.0.0.1 is in use")
    assert line.endswith("stop it or choose another port (0: no TLS listener)")  # not "any"


async def test_kill_9_of_the_node_ends_its_broker_and_a_restart_gets_the_same_port(
    tmp_path: Path, servers: list[Server]
) -> None:
    data, site, port = tmp_path / "data", site_with_tester(tmp_path), free_port()
    first = serve(data, site, port)
    servers.append(first)
    await first.start()
    await first.wait_line(lambda text: "Ctrl-C stops." in text)
    child = int((data / "broker" / "mosquitto.pid").read_text())
    assert not gone(child)
    first.signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    await until(lambda: gone(child), "the broker child exits with its node")

    second = serve(data, site, port)
    servers.append(second)
    await second.start()
    line = await second.wait_line(lambda text: "MQTT broker" in text)
    assert f"mqtt://127.0.0.1:{port} " in line
    await second.wait_line(lambda text: "Ctrl-C stops." in text)
    second.signal(signal.SIGTERM)
    assert await second.wait() == 0


def broker_files(directory: Path) -> BrokerFiles:
    files = BrokerFiles(directory, load_site(), "node-secret")
    files.write([])
    return files


async def test_a_broker_left_running_is_stopped_and_its_port_reused(tmp_path: Path) -> None:
    """A mosquitto on the run directory's config that no node owns (as after a kill -9 where
    the parent-death signal could not act) is stopped before the new broker starts."""
    port = free_port()
    left = EmbeddedBroker(port, files=broker_files(tmp_path))
    await left.start()
    stale = left.pid
    assert stale is not None
    left._stopping = True  # forget it without stopping it: as a killed node would
    assert left._watcher is not None
    left._watcher.cancel()

    again = EmbeddedBroker(port, files=broker_files(tmp_path))
    await again.start()
    try:
        assert again.port == port and again.pid != stale
        assert gone(stale)
        assert int((tmp_path / "mosquitto.pid").read_text()) == again.pid
    finally:
        await again.stop()
    assert not (tmp_path / "mosquitto.pid").exists()


async def test_a_broker_child_that_dies_is_started_again_on_its_port(tmp_path: Path) -> None:
    embedded = EmbeddedBroker(free_port(), files=broker_files(tmp_path))
    await embedded.start()
    try:
        first = embedded.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await until(lambda: embedded.pid not in (None, first), "a new child")
        await wait_listening(embedded.host, embedded.port, TIMEOUT)
        assert int((tmp_path / "mosquitto.pid").read_text()) == embedded.pid
    finally:
        await embedded.stop()
    assert embedded.pid is None


async def test_a_restart_right_after_a_stop_gets_the_same_port(tmp_path: Path) -> None:
    """The stopping broker closes its clients' connections first, so they stay in TIME_WAIT
    on its port; mosquitto binds with SO_REUSEADDR, and so must our check of the port."""
    port = free_port()
    first = EmbeddedBroker(port)
    await first.start()
    reader, writer = await asyncio.open_connection(first.host, port)
    try:
        await first.stop()
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""  # closed by the broker
    finally:
        writer.close()
    second = EmbeddedBroker(port)
    await second.start()
    try:
        assert second.port == port
    finally:
        await second.stop()
