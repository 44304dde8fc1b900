"""`cti broker-config` for an operator's own Mosquitto, and `cti serve --broker-files` keeping
its files in step (specs/security.md, "Your own broker"; USER-01)."""

from __future__ import annotations

import asyncio
import getpass
import json
import signal
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiomqtt
import pytest

from cti.app.bootstrap import Running, ServeOptions, start
from cti.cli import main
from cti.mqtt.broker import free_port, mosquitto_binary, wait_listening
from tests.mqtt.conftest import TIMEOUT, CtiClient

BERND = "Bernd-2026!"  # the example office's demo user 331
ANNA = "Anna-2026!"  # 330, an administrator


@pytest.fixture
async def own_broker(tmp_path: Path) -> AsyncIterator[tuple[subprocess.Popen[bytes], Path, int]]:
    """An operator's mosquitto: its own main config including what broker-config wrote."""
    binary = mosquitto_binary()
    if binary is None:
        pytest.fail("mosquitto is not installed: apt-get install -y mosquitto (see README)")
    out, data = tmp_path / "conf", tmp_path / "data"
    port, tls_port = free_port(), free_port()
    code = main(
        [
            "broker-config",
            *("--data-dir", str(data), "--out", str(out), "--host", "127.0.0.1"),
            *("--port", str(port), "--tls-port", str(tls_port)),
        ]
    )
    assert code == 0
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"user {getpass.getuser()}\npersistence false\ninclude_dir {out}\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        await wait_listening("127.0.0.1", port)
        await wait_listening("127.0.0.1", tls_port)
        yield proc, out, port
    finally:
        proc.kill()
        proc.wait(TIMEOUT)


@pytest.fixture
async def node(
    own_broker: tuple[subprocess.Popen[bytes], Path, int], tmp_path: Path
) -> AsyncIterator[Running]:
    _, out, port = own_broker
    options = ServeOptions(
        data_dir=tmp_path / "data",
        broker="external",
        mqtt_url=f"mqtt://127.0.0.1:{port}",
        broker_files=out,
        csta_port=0,
    )
    running = await start(options)
    try:
        yield running
    finally:
        await running.stop()


async def test_the_written_configuration_signs_users_in_and_applies_the_acls(
    own_broker: tuple[subprocess.Popen[bytes], Path, int], node: Running
) -> None:
    """The node signs in with its secret; a demo user signs in, acts for their own phone and
    is refused another's; anonymous and wrong passwords are refused."""
    _, _, port = own_broker
    assert node.mqtt.connected.is_set()
    async with CtiClient("127.0.0.1", port, user="331", password=BERND, filters=[]) as ui:
        made = await ui.ok("makeCall", calling="331", called="332")
        assert made["result"] == {"call": 1, "device": "331"}
        refused = await ui.request("makeCall", calling="332", called="333")
        assert refused["error"]["code"] == "notYourDevice"
    for user, password in ((None, None), ("331", "wrong-Pass1!")):
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client(
                "127.0.0.1", port, username=user, password=password, timeout=TIMEOUT
            ):
                pass


async def test_a_new_account_signs_in_once_the_operator_reloads(
    own_broker: tuple[subprocess.Popen[bytes], Path, int], node: Running
) -> None:
    """An account an administrator creates is written to the operator's password file by the
    node (it cannot reload a broker it does not run); after the operator's SIGHUP it signs in."""
    proc, out, port = own_broker
    before = (out / "passwords").read_text()
    async with CtiClient("127.0.0.1", port, user="330", password=ANNA, filters=[]) as admin:
        await admin.ok("createAccount", name="334", password="Lager-2026!")
    await _until(lambda: (out / "passwords").read_text() != before)
    assert "334:$7$" in (out / "passwords").read_text()
    assert "user 334\n" in (out / "acl.plain").read_text()
    proc.send_signal(signal.SIGHUP)
    # The new user must change the password first (USER-01): signed in, refused otherwise.
    async with CtiClient("127.0.0.1", port, user="334", password="Lager-2026!", filters=[]) as u:
        reply = await u.request("makeCall", calling="334", called="331")
        assert reply["error"]["code"] == "passwordChangeRequired"


async def test_the_tls_listener_verifies_with_the_generated_ca(
    own_broker: tuple[subprocess.Popen[bytes], Path, int], node: Running
) -> None:
    """USER-02: over the TLS listener (verified against the CA broker-config made), the
    secure request topic is writable and a password change is accepted."""
    _, out, _ = own_broker
    conf = (out / "cti.conf").read_text()
    tls_port = int(conf.split("listener ")[2].split()[0])
    ca = out / "tls" / "ca.crt"
    async with CtiClient(
        "localhost", tls_port, user="331", password=BERND, filters=[], tls=ca
    ) as ui:
        change = {"oldPassword": BERND, "newPassword": "Bernd-2027?"}
        reply = await ui.raw_request(
            ui.topic("changePassword", secure=True), json.dumps(change).encode()
        )
        assert reply == {"ok": True, "result": {}, "seq": reply["seq"], "published": False}
    with pytest.raises((aiomqtt.MqttError, ssl.SSLError)):  # a client without the CA
        async with aiomqtt.Client(
            "localhost",
            tls_port,
            username="331",
            password="Bernd-2027?",
            tls_params=aiomqtt.TLSParameters(),
            timeout=TIMEOUT,
        ):
            pass


async def _until(check: Callable[[], bool]) -> None:
    """Wait for a file the node writes on its own task (polled, bounded by TIMEOUT)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
