"""`cti devices forget` on a running node: the node holds its log, so the tool asks it over
MQTT, signed in as an administrator (or an integrator), as `cti users` does. `cti serve`
warned of the removed phones at its start; after forgetting, its next start does not
(specs/operations.md, "Devices removed from the site")."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from cti.mqtt.broker import free_port
from tests.app.test_unconfigured_devices import LOAD_SITE, _example_log
from tests.mqtt.conftest import Server
from tests.mqtt.test_cli_errors import cti

BROKER_LINE = re.compile(r"MQTT broker\s+mqtt://127\.0\.0\.1:(\d+)\b")
WARNING = "node.log_has_unconfigured_devices"


async def _serve(data: Path, servers: list[Server]) -> tuple[Server, list[str], str]:
    """The load site on ``data`` (its log from the example office): the server, the lines it
    printed up to its banner, and its broker's URL."""
    lines: list[str] = []
    server = Server(
        *("--broker", "embedded", "--broker-port", str(free_port()), "--tls-port", "0"),
        *("--csta-port", "0", "--data-dir", str(data), "--site", str(LOAD_SITE)),
    )
    servers.append(server)
    await server.start()

    def seen(text: str) -> bool:
        lines.append(text)
        return BROKER_LINE.search(text) is not None

    line = await server.wait_line(seen)
    port = BROKER_LINE.search(line).group(1)  # type: ignore[union-attr]
    return server, lines, f"mqtt://127.0.0.1:{port}"


async def test_on_a_running_node_over_mqtt(tmp_path: Path, servers: list[Server]) -> None:
    data = tmp_path / "data"
    _example_log(data)  # 331 with DND, 330 with a redial list and a failed call
    server, lines, url = await _serve(data, servers)
    hint = f"cti devices --site {LOAD_SITE} --data-dir {data} forget --unconfigured"
    assert any(WARNING in line and hint in line for line in lines), lines
    base = ["devices", "--site", str(LOAD_SITE), "--data-dir", str(data), "--mqtt-url", url]
    password = "PhoneSim-2026!"  # the load site's integrator

    code, out, err = await cti(*base, "forget", "--unconfigured")
    assert (code, out) == (2, ""), err
    assert err.strip() == (
        "cti devices: node node1 is running: sign in as an administrator (--user, CTI_PASSWORD)"
    )
    user = [*base, "--user", "phone-sim"]
    # The node cannot be asked: one line each, exit 3 as `cti users` and `cti request`.
    nowhere = f"mqtt://127.0.0.1:{free_port()}"
    code, out, err = await cti(
        *user, "forget", "--unconfigured", "--mqtt-url", nowhere, password=password
    )
    assert (code, out) == (3, ""), err
    assert err.startswith(f"cti devices: node node1 runs, but not reachable at {nowhere}: ")
    assert len(err.splitlines()) == 1, err
    code, out, err = await cti(*user, "forget", "--unconfigured", password="Wrong-2026!")
    assert (code, out) == (3, ""), err
    assert err.startswith("cti devices: the broker refused phone-sim: ")
    assert len(err.splitlines()) == 1, err
    code, out, err = await cti(*user, "forget", "--unconfigured", password=password)
    assert (code, out) == (
        1,
        "refused: invalidDeviceState: 330 is in call 1: clear it first (clearCall)\n",
    ), err
    request = ["request", "--mqtt-url", url, "--user", "phone-sim", "--node", "node1"]
    code, out, err = await cti(*request, "clearCall", "call=1", password=password)
    assert code == 0, (out, err)
    code, out, err = await cti(*user, "forget", "--unconfigured", password=password)
    assert (code, out) == (0, "forgotten: 330 331\n"), err
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0

    server, lines, _ = await _serve(data, servers)
    assert not [line for line in lines if WARNING in line]
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0
