"""`cti users` on a stopped node (its log, directly) and on a running one (over MQTT as an
administrator); what `cti serve` prints for the example office's demo users. USER-01, USER-05."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from cti.accounts.model import Account
from cti.app.clock import SystemClock
from cti.app.config import load_config
from cti.app.node import Node
from cti.cli import main
from cti.mqtt.broker import free_port
from cti.mqtt.passwords import mosquitto_verify
from cti.store import SqliteStore
from tests.mqtt.conftest import REPO, CtiClient, Server

BROKER_LINE = re.compile(r"MQTT broker\s+mqtt://127\.0\.0\.1:(\d+)\b")
NEW = "Lager-2026!"


def accounts(data: Path) -> dict[str, Account]:
    with SqliteStore(data / "node1.db") as store:
        node = Node(load_config().site, store, SystemClock())
        return dict(node.state.accounts.accounts)


def test_on_a_stopped_node(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site's accounts are seeded as `cti serve` would (--init: the node has never run);
    add, reset, licences and remove change the log; a password that breaks the policy is
    refused and changes nothing."""
    data = tmp_path / "data"
    args = ["users", "--data-dir", str(data)]
    assert main([*args, "--init", "list"]) == 0
    listed = capsys.readouterr().out
    assert "phone-sim" in listed and "Anna Berger" in listed and "integrator" in listed

    monkeypatch.setenv("CTI_NEW_PASSWORD", NEW)
    assert main([*args, "add", "334", "--licences", "voicemail"]) == 0
    added = accounts(data)["334"]
    assert mosquitto_verify(NEW, added.broker_password)
    assert added.must_change

    monkeypatch.setenv("CTI_NEW_PASSWORD", "short")
    assert main([*args, "set-password", "334"]) == 1
    assert "passwordPolicy" in capsys.readouterr().out
    assert accounts(data)["334"] == added

    assert main([*args, "reset", "334"]) == 0
    printed = capsys.readouterr().out.split()[-1]
    reset = accounts(data)["334"]
    assert mosquitto_verify(printed, reset.broker_password)
    assert not mosquitto_verify(NEW, reset.broker_password)

    assert main([*args, "licences", "334", "conference", "mobility"]) == 0
    assert {str(x) for x in accounts(data)["334"].licences} == {
        "conference",
        "mobility",
    }
    # None given: none (USER-05): the last licences taken away, not refused by argparse.
    assert main([*args, "licences", "334"]) == 0
    assert accounts(data)["334"].licences == frozenset()
    with pytest.raises(SystemExit) as usage:
        main([*args, "licences", "334", "fax"])
    assert usage.value.code == 2
    assert "no licence 'fax' (licences: voicemail, conference, mobility)" in (
        capsys.readouterr().err
    )
    assert main([*args, "remove", "334"]) == 0
    assert "334" not in accounts(data)
    assert main([*args, "remove", "334"]) == 1
    assert "unknownUser" in capsys.readouterr().out


async def test_on_a_running_node_and_the_demo_users_banner(
    tmp_path: Path, servers: list[Server]
) -> None:
    """The running node holds its log: `cti users` asks it over MQTT, signed in as an
    administrator; a user who is no administrator is refused. `cti serve` on the example
    office prints the demo users with the passwords that sign them in."""
    data = tmp_path / "data"
    server = Server(
        *("--broker", "embedded", "--broker-port", str(free_port()), "--tls-port", "0"),
        *("--csta-port", "0", "--data-dir", str(data)),
    )
    servers.append(server)
    await server.start()
    line = await server.wait_line(lambda text: BROKER_LINE.search(text) is not None)
    port = BROKER_LINE.search(line).group(1)  # type: ignore[union-attr]
    demo = await server.wait_line(lambda text: "demo users" in text)
    assert "330 Anna-2026! (admin)" in demo and "phone-sim PhoneSim-2026! (integrator)" in demo
    url = ["--mqtt-url", f"mqtt://127.0.0.1:{port}"]

    base = ["users", "--data-dir", str(data), *url]
    code, out = await _cli([*base, "--user", "330", "list"], {"CTI_PASSWORD": "Anna-2026!"})
    assert code == 0 and "Bernd Vogel" in out
    env = {"CTI_PASSWORD": "Anna-2026!", "CTI_NEW_PASSWORD": NEW}
    code, out = await _cli([*base, "--user", "330", "add", "334"], env)
    assert (code, out.strip()) == (0, "done")
    code, out = await _cli(
        [*base, "--user", "331", "remove", "334"], {"CTI_PASSWORD": "Bernd-2026!"}
    )
    assert code == 1 and "notPermitted" in out
    code, out = await _cli([*base, "list"], {})
    assert code == 2 and "sign in as an administrator" in out
    # The new account signs in (the node reloaded its broker) and must change its password.
    async with CtiClient("127.0.0.1", int(port), user="334", password=NEW, filters=[]) as u:
        reply = await u.request("snapshotDevice", device="334")
        assert reply["error"]["code"] == "passwordChangeRequired"
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


async def test_the_banner_of_another_site_names_the_accounts_it_seeds(
    tmp_path: Path, servers: list[Server]
) -> None:
    """The load site seeds only its integrator phone-sim, with the example office's public
    demo password: the banner shows it as the example office's does (demo users, and the
    watch, call and phone-sim lines sign in as phone-sim: 400 has no account). It showed
    `'<password>'`, `--user 400` and `--user <integrator>`. A site's own integrator with a
    password of its own is named, its password never shown."""
    load = (REPO / "cti" / "sites" / "load.toml").read_text("utf-8")
    own = tmp_path / "own.toml"
    assert 'name = "phone-sim"' in load and 'password = "PhoneSim-2026!"' in load
    own.write_text(
        load.replace('name = "phone-sim"', 'name = "bridge"').replace(
            "PhoneSim-2026!", "Bridge-Own-2026?"
        ),
        "utf-8",
    )
    for site, password, user in [
        (REPO / "cti" / "sites" / "load.toml", "'PhoneSim-2026!'", ""),
        (own, "'<password>'", " --user bridge"),
    ]:
        data = tmp_path / site.stem
        server = Server(
            *("--broker", "embedded", "--broker-port", str(free_port()), "--tls-port", "0"),
            *("--csta-port", "0", "--data-dir", str(data), "--site", str(site)),
        )
        servers.append(server)
        await server.start()
        await server.wait_line(lambda text: text.startswith("Ctrl-C stops."))
        banner = server.output
        who = "phone-sim" if not user else "bridge"
        assert "<integrator>" not in banner and "--user 400" not in banner, banner
        assert f"-u {who} -P {password} -v -t" in banner
        assert (
            f"CTI_PASSWORD={password} " in banner and f"--user {who} makeCall calling=400" in banner
        )
        assert re.search(
            rf"CTI_PASSWORD={re.escape(password)} \S*phone-sim --mqtt-url \S+{user} console 400",
            banner,
        ), banner
        if user:
            assert "demo users" not in banner and "Bridge-Own-2026?" not in banner
            assert "public demo passwords" not in banner
        else:
            assert "demo users   phone-sim PhoneSim-2026! (integrator)" in banner
            # not the example office: the operator is told those passwords are public
            assert (
                "note         the example office's public demo passwords sign in phone-sim: "
                "fine for a test site, else change them" in banner
            ), banner
        server.signal(signal.SIGTERM)
        assert await server.wait() == 0


async def _cli(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """`cti ...` as a child process, as an operator runs it: exit code and stdout+stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cti.cli",
        *argv,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode()
