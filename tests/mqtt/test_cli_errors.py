"""`cti request` against a broker that refuses: one line saying what was refused, at once
(tests/test_cli_errors.py has the cases that need no broker)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from cti.app.config import EXAMPLE_SITE
from cti.mqtt.broker import free_port
from cti.mqtt.client import MqttClient
from tests.mqtt.conftest import REPO, Mosquitto, site_with_tester


async def cti(*argv: str, password: str = "x") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cti.cli",
        *argv,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "CTI_PASSWORD": password},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_request_to_another_node_is_refused_in_one_line(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """The broker's ACL opens node1's request topics only: a publish to another node's is
    refused (MQTT 5 PUBACK 0x87), which ends the connection. The tool says so at once (not
    "no reply within 10 s") and names the topic; the node comes from --node or --site."""
    acl = tmp_path / "acl"
    acl.write_text("user 330\ntopic readwrite cti/node1/#\n")
    mosquitto.stop()
    mosquitto.configure(extra=f"acl_file {acl}\n")
    await mosquitto.start()
    url = ["--mqtt-url", mosquitto.url, "--user", "330"]
    code, out, err = await cti("request", *url, "--node", "branch", "snapshotDevice")
    assert (code, out) == (1, ""), err
    assert err == (
        "cti request: the broker refused the request to "
        "cti/branch/users/330/requests/snapshotDevice: is node branch right?\n"
    )
    site = tmp_path / "branch.toml"
    example = (REPO / "cti" / "sites" / EXAMPLE_SITE).read_text("utf-8")
    assert 'node = "node1"' in example
    site.write_text(example.replace('node = "node1"', 'node = "branch"'), "utf-8")
    code, _, err = await cti("request", *url, "--site", str(site), "snapshotDevice")
    assert code == 1 and "is node branch right?" in err, err


async def test_a_refused_sign_in_is_said_in_words(mosquitto: Mosquitto) -> None:
    mosquitto.stop()
    mosquitto.configure(allow_anonymous=False)  # no password file: nobody signs in
    await mosquitto.start()
    code, _, err = await cti(
        "request", "--mqtt-url", mosquitto.url, "--user", "330", "snapshotDevice"
    )
    assert code == 3
    assert err.startswith("cti request: the broker refused 330: broker refused the connection")
    assert err.count("\n") == 1 and "wrong user name or password?" in err, err


async def test_serve_names_the_broker_files_it_cannot_write(tmp_path: Path) -> None:
    """--broker-files where no directory can be: which option's directory, one line, exit 1
    (not a bare "[Errno 20] Not a directory: PATH")."""
    (tmp_path / "etc").write_text("a file\n")
    files = tmp_path / "etc" / "mosquitto"
    code, _, err = await cti(
        *("serve", "--site", str(site_with_tester(tmp_path)), "--data-dir", str(tmp_path / "d")),
        *("--mqtt-url", f"mqtt://127.0.0.1:{free_port()}", "--broker-files", str(files)),
        *("--csta-port", "0", "--http-port", "0", "--web-port", "0"),
    )
    assert code == 1
    assert err == f"cti serve: cannot write the broker files in {files}: Not a directory\n"


async def test_phone_sim_on_another_node_is_told_so(mosquitto: Mosquitto) -> None:
    """phone-sim's first request to a node whose topics the broker does not open to it is
    refused (the connection ends): not "cannot reach the node's broker" but the node named,
    exit 2 (an argument is wrong). A retained status of node "branch" lets it start at once."""
    acl = mosquitto.conf.parent / "acl"
    acl.write_text(
        "topic write cti/branch/status\n"  # anonymous: the status below
        "user phone-sim\ntopic readwrite cti/node1/#\ntopic read cti/branch/status\n"
    )
    mosquitto.stop()
    mosquitto.configure(extra=f"acl_file {acl}\n")
    await mosquitto.start()
    status = MqttClient(mosquitto.host, mosquitto.port, "status")
    await status.connect()
    acked = asyncio.Event()
    status.publish("cti/branch/status", b'{"state":"online"}', retain=True, on_ack=acked.set)
    await asyncio.wait_for(acked.wait(), 10)
    await status.disconnect()
    scenario = str(REPO / "phone_sim" / "scenarios" / "call-07-transfer.yaml")
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "phone_sim.cli", "--mqtt-url", mosquitto.url, "--node", "branch"),
        *("run", scenario),
        cwd=REPO,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "CTI_PASSWORD": "x"},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, err
    last = err.decode().splitlines()[-1]
    assert last.startswith(
        "phone-sim: the broker refused a request to node branch: is --node branch right?"
    ), last
