"""phone-sim tells apart what went wrong with its broker, one line each and a non-zero exit:
it cannot connect at the start ("cannot reach the node's broker", exit 3), the connection
was lost during the run (what was going on: the scenario's step or set-up; exit 3), and any
other error of the machine (a file, a pipe: exit 1). (The broker refusing the account, the
request or a subscription: tests/mqtt/test_connack_refusals.py, tests/mqtt/test_cli_errors.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socketserver
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cti.mqtt.client import ConnectionLost, MqttClient, SubscriptionRefused
from cti.mqtt.face.service import MqttFace
from phone_sim import runner
from phone_sim.cli import main as phone_sim
from phone_sim.link import mqtt as mqtt_link
from phone_sim.link.base import Interrupted
from tests.mqtt.conftest import REPO, TESTER, TESTER_PASSWORD, Mosquitto, retain_online
from tests.test_cli_errors import one_line


async def test_a_connection_lost_during_a_run_names_the_step(
    face: MqttFace, broker: Mosquitto, tmp_path: Path
) -> None:
    """The broker dies after the first step: the run stops at the next request, saying that
    the connection was lost and in which step of which scenario (it said "cannot reach the
    node's broker", as if it had never connected)."""
    scenario = tmp_path / "lost.yaml"
    scenario.write_text("name: Lost\nsteps:\n  - 330 calls 331\n  - advance 2s\n  - 330 hangs up\n")
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "phone_sim.cli", "--mqtt-url", broker.url, "--user", TESTER),
        *("run", str(scenario)),
        cwd=REPO,
        env={
            **os.environ,
            "CTI_PASSWORD": TESTER_PASSWORD,
            "COLUMNS": "80",
            "NO_COLOR": "1",
            "PYTHONUNBUFFERED": "1",
        },
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    while True:  # the first step done: the connection was there
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line, "phone-sim ended before the first step"
        if "✓ 330 calls 331" in line:
            break
    broker.kill()
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 3, (out, err)
    assert "✓ advance 2s" in out.decode()
    assert "Traceback" not in err.decode()  # before it, the link's warnings as it reconnects
    assert err.decode().splitlines()[-1] == (
        f"phone-sim: lost the connection to the node's broker at {broker.url} while step 3 "
        f"'330 hangs up' of Lost ({scenario}): not connected to the broker"
    )


async def test_a_connection_lost_while_setting_up_is_no_scenario_failure(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """The connection is lost while the scenario sets its devices up (asking the node for
    the trunk party's calls): that is the run broken off, exit 3 with what was going on, as in
    a step (it was "✗ (setting up the devices)", a failed scenario, exit 1). No node here:
    the test stands in for it, publishing its status and killing the broker once the
    set-up's request arrives, so no reply can come first."""
    scenario = tmp_path / "setup.yaml"
    scenario.write_text(
        'name: Setup\nparties:\n  "+4930555111": answers after 1 rings\nsteps:\n  - 330 calls 331\n'
    )
    asked = asyncio.Event()
    node = MqttClient(
        broker.host, broker.port, "node", on_message=lambda m: asked.set()
    )  # the node's part: its retained status, and seeing requests come
    await node.connect()
    proc: asyncio.subprocess.Process | None = None
    try:
        await retain_online(node, "node1")
        await node.subscribe([("cti/node1/users/+/requests/#", 1)], required=True)
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "phone_sim.cli", "--mqtt-url", broker.url),
            *("run", str(scenario)),
            cwd=REPO,
            env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.wait_for(asked.wait(), 60)  # the set-up's first request
        broker.kill()
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await node.disconnect()
    assert proc.returncode == 3, (out, err)
    assert "✗" not in out.decode()
    assert "Traceback" not in err.decode()  # before it, the link's warnings as it reconnects
    last = err.decode().splitlines()[-1]
    assert last.startswith(
        f"phone-sim: lost the connection to the node's broker at {broker.url} while setting "
        f"up the devices of Setup ({scenario}): connection to the broker lost"
    ), last


async def test_load_on_a_node_that_publishes_no_status_says_so(
    broker: Mosquitto, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`load --node branch` where no node branch publishes its retained status (a wrong
    --node, or a node not running): one line naming the node and asking, as `run` and a
    refused subscription ask, exit 1 (a load run that completed no call), nothing run. It
    was a report of 0 calls and "skipped (no idle party)" with no word why. node1's status
    is there: only branch is named."""
    # Long enough for node1's status to come (else node1 too is silent), short for branch's.
    monkeypatch.setattr(mqtt_link, "STATUS_WAIT", 2)
    node1 = MqttClient(broker.host, broker.port, "node1")
    await node1.connect()
    await retain_online(node1, "node1")
    await node1.disconnect()
    argv = ["--mqtt-url", broker.url, "--node", "node1", "--node", "branch"]
    argv += ["load", "--calls-per-second", "5", "--duration", "1"]
    assert await asyncio.to_thread(phone_sim, argv) == 1
    out, err = capsys.readouterr()
    assert out == ""  # no report: nothing ran
    assert one_line(err) == (
        f"phone-sim: node branch publishes no status (cti/branch/status) on the broker at "
        f"{broker.url}: is --node branch right? is it running?"
    )


async def test_load_takes_its_nodes_from_both_sides_of_the_subcommand(
    broker: Mosquitto, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--node before and after `load` drives every node given, in the order given, with
    --mqtt-url after the subcommand as well: node1 publishes its status, branch (before) and
    east (after) do not, so each of those two has its line, in that order (the --node after
    the subcommand replaced those before it; after the subcommand, the options were refused
    as unrecognized)."""
    monkeypatch.setattr(mqtt_link, "STATUS_WAIT", 2)
    node1 = MqttClient(broker.host, broker.port, "node1")
    await node1.connect()
    await retain_online(node1, "node1")
    await node1.disconnect()
    argv = ["--node", "node1", "--node", "branch", "load", "--calls-per-second", "5"]
    argv += ["--node", "east", "--mqtt-url", broker.url, "--duration", "1"]
    assert await asyncio.to_thread(phone_sim, argv) == 1
    out, err = capsys.readouterr()
    assert out == ""  # no report: nothing ran
    assert err.splitlines() == [
        f"phone-sim: node {node} publishes no status (cti/{node}/status) on the broker at "
        f"{broker.url}: is --node {node} right? is it running?"
        for node in ("branch", "east")
    ]


@pytest.mark.parametrize("command", [["console", "330"], ["phones", "330"]])
async def test_console_and_phones_on_a_node_that_publishes_no_status_say_so(
    broker: Mosquitto,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """The same line for `console` and `phones` on a --node nobody serves (they said "330 is
    not configured on branch", which reads as the node's word), exit 1 as `load` and as `cti
    request` when no reply comes (it was 2, a usage error's). The options after the
    subcommand, as before it."""
    monkeypatch.setattr(mqtt_link, "STATUS_WAIT", 0.5)
    argv = [*command, "--mqtt-url", broker.url, "--node", "branch"]
    assert await asyncio.to_thread(phone_sim, argv) == 1
    _, err = capsys.readouterr()
    assert one_line(err) == (
        f"phone-sim: node branch publishes no status (cti/branch/status) on the broker at "
        f"{broker.url}: is --node branch right? is it running?"
    )


async def test_load_on_a_stopped_node_says_it_is_offline(
    broker: Mosquitto, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A node whose retained status is its own last word, offline (stopped, or its will
    after a kill): one line saying so, nothing run (its flows timed out one by one, errors
    in a report)."""
    monkeypatch.setattr(mqtt_link, "STATUS_WAIT", 5)
    node = MqttClient(broker.host, broker.port, "node1")
    await node.connect()
    await retain_online(node, "node1", "offline")
    await node.disconnect()
    argv = ["--mqtt-url", broker.url, "load", "--calls-per-second", "5", "--duration", "1"]
    assert await asyncio.to_thread(phone_sim, argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert one_line(err) == (
        f"phone-sim: node node1 is offline (its status, cti/node1/status, on the broker at "
        f"{broker.url}): is it running?"
    )


class _NotMqtt(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(1024)
        self.request.sendall(b"\x40\x02\x00\x01")  # well-formed MQTT, but no CONNACK
        self.request.recv(1024)  # until the client closes


@pytest.fixture
def not_mqtt() -> Iterator[str]:
    """A loopback server that answers a CONNECT with something else than a CONNACK."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _NotMqtt)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"mqtt://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_no_mqtt_at_the_address_is_no_broker_to_reach(
    not_mqtt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """No MQTT broker at the address (a ProtocolError at the start): "cannot reach", not a
    traceback."""
    assert phone_sim(["--mqtt-url", not_mqtt, "console", "330"]) == 3
    assert one_line(capsys.readouterr().err) == (
        f"phone-sim: cannot reach the node's broker at {not_mqtt}: expected CONNACK, got PUBACK"
    )


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (
            PermissionError(errno.EACCES, "Permission denied", "/srv/report.txt"),
            1,
            "phone-sim: /srv/report.txt: Permission denied",
        ),
        (
            OSError(errno.ENOSPC, "No space left on device"),
            1,
            "phone-sim: [Errno 28] No space left on device",
        ),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), 1, "phone-sim: [Errno 32] Broken pipe"),
        (
            ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
            3,
            "phone-sim: lost the connection to the node's broker at mqtt://127.0.0.1:1883 "
            "while running the scenarios on node node1: [Errno 104] Connection reset by peer",
        ),
        (
            TimeoutError(),
            1,  # no reply, as `cti request`'s
            "phone-sim: no reply from node node1 while running the scenarios on node node1: "
            "is it running?",
        ),
        (
            Interrupted("connecting for T after 1 scenario(s)", SubscriptionRefused(["cti/x"])),
            1,  # refused, as `cti request`'s subscription (it was 3)
            "phone-sim: the broker at mqtt://127.0.0.1:1883 refused the subscription to cti/x "
            "while connecting for T after 1 scenario(s)",
        ),
        (
            Interrupted("step 1 '330 calls 331' of T", ConnectionLost("lost", refused=0x87)),
            1,  # the request refused, as `cti request`'s (it was 2)
            "phone-sim: the broker refused a request to node node1: is --node node1 right? "
            "(while step 1 '330 calls 331' of T: lost)",
        ),
    ],
    ids=["file", "disk", "pipe", "reset", "timeout", "subscription", "publish"],
)
def test_other_errors_are_not_called_an_unreachable_broker(
    error: Exception,
    code: int,
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An error of the machine that reaches main() is said as it is, exit 1; a connection
    error or timeout after the start is one of the run, with what the command was doing:
    exit 3 the connection lost, 1 no reply (as `cti request`; it was 3)."""

    async def fails(*args: Any) -> int:
        raise error

    monkeypatch.setattr(runner, "run_files", fails)
    assert phone_sim(["--mqtt-url", "mqtt://127.0.0.1:1883", "run", "x.yaml"]) == code
    assert one_line(capsys.readouterr().err) == line


async def test_a_refused_reconnect_ends_the_reconnecting(broker: Mosquitto) -> None:
    """The broker drops the link's session on a reload because its password changed: the
    reconnect is refused for the account (told by the CONNACK's reason code), so the link
    stops trying and its next request raises that refusal, which phone-sim says as such."""
    import signal

    from cti.mqtt.client import ConnectionRefused, Endpoint
    from cti.mqtt.passwords import mosquitto_hash
    from phone_sim.cli import interrupted
    from phone_sim.link import Interrupted
    from phone_sim.link.mqtt import MqttLink

    await broker.signed_in_only({"sim": "Old-2026!"}, online="node1")
    link = MqttLink(Endpoint(broker.host, broker.port, "sim", "Old-2026!"), "node1")
    await link.start()
    try:
        broker.passwords.write_text(f"sim:{mosquitto_hash('New-2026!')}\n")
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGHUP)  # re-checks connected clients: ours goes
        keeper = link._keeper
        assert keeper is not None
        await asyncio.wait_for(asyncio.shield(keeper), 30)  # it stopped reconnecting
        with pytest.raises(ConnectionRefused) as info:
            await link.request("getPresence", {"user": "330"})
        assert info.value.credentials
        line = interrupted(
            Interrupted("step 2 '330 answers' of X", info.value), "node1", "U", "sim"
        )
        assert line == (
            f"the broker at U refused sim on reconnecting while step 2 '330 answers' of X: "
            f"{info.value}"
        )
    finally:
        await link.close()


def test_a_subscription_refused_after_the_first_scenario_is_a_broken_off_run() -> None:
    """A link started for a later scenario whose subscription the broker now refuses (a NATS
    cluster electing leaders; the same node's topics were granted for the scenarios before)
    is said as the run broken off, with what was going on, not as a wrong --node."""
    from cti.mqtt.client import SubscriptionRefused
    from phone_sim.cli import interrupted
    from phone_sim.link import Interrupted

    refused = SubscriptionRefused(["cti/node1/users/phone-sim/inbox/run-1a2b"])
    line = interrupted(
        Interrupted("connecting for Transfer after 2 scenario(s)", refused), "node1", "U", "sim"
    )
    assert line == (
        "the broker at U refused the subscription to cti/node1/users/phone-sim/inbox/run-1a2b"
        " while connecting for Transfer after 2 scenario(s)"
    )
