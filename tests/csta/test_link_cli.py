"""`cti serve` starts the CSTA link next to the MQTT face; `cti csta call` and `cti csta
monitor` talk to it as child processes (CALL-01, CALL-03): signed in as every tool signs in
(the password in CTI_PASSWORD), saying what went wrong in one line of words."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cti.mqtt.broker import free_port
from tests.mqtt.conftest import REPO, Mosquitto, Server, broker, mosquitto, servers  # noqa: F401

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


async def _cli(*args: str, password: str | None = None) -> asyncio.subprocess.Process:
    """``cti csta ARGS`` with ``password`` in CTI_PASSWORD (none: not set, whatever ours is)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    env.pop("CTI_PASSWORD", None)
    if password is not None:
        env["CTI_PASSWORD"] = password
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
    assert call.returncode == 3  # as cti request's refused sign-in (it was 1)
    # One clear line, not the bare ACSE diagnostic ('acse-service-user', 13) (issue 18 item 9),
    # with who signed in and where the password came from (never the password).
    assert err.decode().splitlines() == [
        "cti csta: association refused: authentication failed (unknown user, wrong password, "
        "or an account that must change its password first; the switch's log says which); "
        "user cti, password given with --password"
    ]
    refused = await servers[0].wait_line(lambda text: "csta.association_refused" in text)
    assert "user=cti" in refused and "wrong" not in refused.replace("wrongPassword", "")
    # Ctrl-C on `cti serve` closes the CSTA listener with everything else
    servers[0].signal(signal.SIGINT)
    assert await servers[0].wait() == 0
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_csta_takes_the_password_from_cti_password(
    broker: Mosquitto,  # noqa: F811
    tmp_path: Path,
    servers: list[Server],  # noqa: F811
) -> None:
    """As every tool (README "Every client signs in"): the account in --user, its password in
    CTI_PASSWORD, not on the command line where `ps` shows it (USER-01)."""
    port = await _serve(broker, tmp_path, servers)
    address = f"127.0.0.1:{port}"
    # the example office's integrator account: it acts for every device
    call = await _cli(
        "call", address, "330", "331", "--user", "phone-sim", password="PhoneSim-2026!"
    )
    out, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
    assert call.returncode == 0, err.decode()
    assert out.decode().strip() == "makeCall 330 -> 331: call 1 at 330"
    # without --user, the [csta] user with its default password: CTI_PASSWORD (an account's,
    # exported for the other tools) is not sent to it, where it could only be refused
    call = await _cli("call", address, "332", "333", password="PhoneSim-2026!")
    out, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
    assert call.returncode == 0, err.decode()
    assert out.decode().strip() == "makeCall 332 -> 333: call 2 at 332"
    # named with --user, the [csta] user too takes CTI_PASSWORD: a wrong one is said so
    call = await _cli("call", address, "332", "333", "--user", "cti", password="PhoneSim-2026!")
    _, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
    assert call.returncode == 3
    assert err.decode().rstrip("\n").endswith("; user cti, password from CTI_PASSWORD"), err
    refused = await servers[0].wait_line(lambda text: "csta.association_refused" in text)
    assert "user=cti" in refused and "PhoneSim-2026!" not in refused  # never the password
    # an account without a password given: no guess (a failure the link would count)
    call = await _cli("call", address, "331", "332", "--user", "331")
    _, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
    assert call.returncode == 2
    assert err.decode().splitlines() == ["cti csta: give the password of 331 in CTI_PASSWORD"]


async def test_a_refused_step_is_said_in_words_with_its_csta_error(
    broker: Mosquitto,  # noqa: F811
    tmp_path: Path,
    servers: list[Server],  # noqa: F811
) -> None:
    """The switch's universalFailure as its CSTA error name, the step it refused: no Python
    class name (`CstaRefused: operation/...`)."""
    port = await _serve(broker, tmp_path, servers)
    address = f"127.0.0.1:{port}"
    call = await _cli("call", address, "999", "331")  # no such device
    _, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
    assert call.returncode == 1
    assert err.decode().splitlines() == [
        "cti csta: the switch refused makeCall 999 -> 331: invalidCallingDeviceID (operation)"
    ]
    monitor = await _cli("monitor", address, "330", "999")
    out, err = await asyncio.wait_for(monitor.communicate(), TIMEOUT)
    assert monitor.returncode == 1
    assert out.decode().splitlines() == ["monitoring 330"]
    assert err.decode().splitlines() == [
        "cti csta: the switch refused monitorStart 999: invalidMonitorObject (operation)"
    ]


async def test_a_link_that_closes_is_said_in_words() -> None:
    """A listener that closes each connection at once (no AARE): where, and what happened;
    exit 3, no link to be had there (as `cti request`'s no broker; it was 1)."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    listener = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        call = await _cli("call", f"127.0.0.1:{port}", "330", "331")
        _, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
    assert call.returncode == 3
    assert err.decode().splitlines() == [
        f"cti csta: the CSTA link at 127.0.0.1:{port}: connection closed by the switch"
    ]


async def test_a_link_lost_after_the_association_exits_1() -> None:
    """A switch that accepts the association, then closes the link on the makeCall: the
    request's connection lost, exit 1 as `cti request`'s no reply (before the association,
    3: no link there)."""
    from cti.csta import codec
    from cti.csta.codec.framing import encode_frame

    async def accept_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        for answer in (encode_frame(codec.encode_acse(codec.aare(True))), None):
            head = await reader.readexactly(3)  # a siemens frame: the AARQ, then the makeCall
            await reader.readexactly((head[1] & 0x7F) << 8 | head[2])
            if answer is not None:
                writer.write(answer)
                await writer.drain()
        writer.close()

    listener = await asyncio.start_server(accept_then_hang_up, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        call = await _cli("call", f"127.0.0.1:{port}", "330", "331")
        _, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
    assert call.returncode == 1, err.decode()
    assert err.decode().splitlines() == [
        f"cti csta: the CSTA link at 127.0.0.1:{port}: connection closed by the switch"
    ]


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
    assert await server.wait() == 2  # the site file's to fix: a supervisor does not retry it


async def _serve_embedded(tmp_path: Path, servers: list[Server]) -> tuple[int, str, Path]:  # noqa: F811
    """`cti serve` with its own broker, as an administrator runs it: the CSTA port, the MQTT
    URL (for `cti users` and `cti request`) and the data directory."""
    port = free_port()
    data = tmp_path / "data"
    server = Server(
        *("--broker", "embedded", "--broker-port", str(free_port()), "--tls-port", "0"),
        *("--csta-port", str(port), "--data-dir", str(data)),
    )
    servers.append(server)
    await server.start()
    broker_line = re.compile(r"MQTT broker\s+(mqtt://127\.0\.0\.1:\d+)\b")
    line = await server.wait_line(lambda text: broker_line.search(text) is not None)
    mqtt = broker_line.search(line).group(1)  # type: ignore[union-attr]
    await server.wait_line(lambda text: "Ctrl-C stops." in text)
    return port, mqtt, data


async def _admin(*args: str) -> None:
    """``cti ARGS`` as administrator 330 (its password in CTI_PASSWORD); it must succeed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cti.cli", *args,
        cwd=REPO, env={**os.environ, "CTI_PASSWORD": "Anna-2026!", "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == 0, out.decode()


async def _devices_of_331(mqtt: str, *devices: str) -> None:
    """An administrator gives account 331 these devices instead of its own (updateAccount)."""
    listed = ",".join(f'"{device}"' for device in devices)
    await _admin(
        "request", "--mqtt-url", mqtt, "--user", "330",
        "updateAccount", "name=331", f"devices:=[{listed}]",
    )  # fmt: skip


async def _finish(proc: asyncio.subprocess.Process) -> tuple[int, list[str], list[str]]:
    """The exit code, and the stdout and stderr lines still to come, once ``proc`` ends."""
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode is not None
    return proc.returncode, out.decode().splitlines(), err.decode().splitlines()


def _report(line: str) -> str:
    """A report line without its time (the event's, as the switch logged it)."""
    stamp, _, rest = line.rstrip("\n").partition("  ")
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", stamp), line
    return rest


async def test_csta_monitor_ends_when_the_switch_ends_its_last_monitor(
    tmp_path: Path,
    servers: list[Server],  # noqa: F811
) -> None:
    """USER-01, specs/csta.md "Monitors and the account's rights": an administrator takes
    devices away from account 331 while `cti csta monitor` runs as 331. A monitor ended by
    the switch's monitorStop is one line, and the command goes on with the others; once the
    switch has ended the last, nothing is left to report: one line saying so on stderr, exit 1
    (it used to wait for ever)."""
    port, mqtt, _ = await _serve_embedded(tmp_path, servers)
    await _devices_of_331(mqtt, "331", "334")
    monitor = await _cli(
        "monitor", f"127.0.0.1:{port}", "331", "334", "--user", "331", password="Bernd-2026!"
    )
    try:
        await _line(monitor, "monitoring 334")
        await _devices_of_331(mqtt, "334")  # 331 is no longer its own: its monitor ends
        line = await _line(monitor, "monitorStop")
        assert _report(line) == "331     monitorStop         ended by the switch"
        # the monitor of 334 goes on: a call to 334 is reported
        call = await _cli("call", f"127.0.0.1:{port}", "330", "334")
        _, err = await asyncio.wait_for(call.communicate(), TIMEOUT)
        assert call.returncode == 0, err.decode()
        line = await _line(monitor, " delivered ")
        assert _report(line).startswith("334     delivered "), line
        assert monitor.returncode is None
        await _devices_of_331(mqtt, "331")  # 334 taken away too: nothing left to monitor
        code, out, err = await _finish(monitor)
        assert [_report(line) for line in out if "monitorStop" in line] == [
            "334     monitorStop         ended by the switch"
        ]
        assert "monitorStop" in out[-1], out  # no report after the last monitorStop
        assert err == [
            "cti csta: the switch ended every monitor (331, 334) with monitorStop: the account "
            "may no longer monitor them"
        ]
        assert code == 1
    finally:
        if monitor.returncode is None:
            monitor.kill()
            await monitor.wait()


async def test_removing_the_account_ends_its_csta_monitor(
    tmp_path: Path,
    servers: list[Server],  # noqa: F811
) -> None:
    """USER-01, specs/security.md "CSTA": an administrator removes account 331 over MQTT
    (`cti users remove`, as on any running node) while `cti csta monitor` runs as 331: the
    switch aborts the association, as the broker's reload ends 331's MQTT sessions. The
    command says so in one line on stderr, with the ABRT's reason in words, and exits 1."""
    port, mqtt, data = await _serve_embedded(tmp_path, servers)
    monitor = await _cli(
        "monitor", f"127.0.0.1:{port}", "331", "--user", "331", password="Bernd-2026!"
    )
    try:
        await _line(monitor, "monitoring 331")
        await _admin(
            "users", "--data-dir", str(data), "--mqtt-url", mqtt, "--user", "330", "remove", "331"
        )
        code, out, err = await _finish(monitor)
        assert out == []
        assert err == [
            f"cti csta: the CSTA link at 127.0.0.1:{port}: aborted by the switch: authentication "
            "failure (the account was removed, or its password changed or reset)"
        ]
        assert code == 1
        ended = await servers[0].wait_line(lambda text: "csta.association_ended" in text)
        assert "principal=331" in ended and "reason=accountRemoved" in ended
    finally:
        if monitor.returncode is None:
            monitor.kill()
            await monitor.wait()


async def test_a_link_lost_while_monitoring_is_said_in_words(
    mosquitto: Mosquitto,  # noqa: F811
    tmp_path: Path,
    servers: list[Server],  # noqa: F811
) -> None:
    """The node dies (SIGKILL: no ABRT, the kernel closes its end of the connection) while
    `cti csta monitor` runs: one line on stderr, exit 1 (the link lost after the
    association), no traceback and no wait."""
    port = await _serve(mosquitto, tmp_path, servers)
    monitor = await _cli("monitor", f"127.0.0.1:{port}", "330")
    try:
        await _line(monitor, "monitoring 330")
        await servers[0].kill()
        code, out, err = await _finish(monitor)
        assert out == []
        assert err == [
            f"cti csta: the CSTA link at 127.0.0.1:{port}: connection closed by the switch"
        ]
        assert code == 1
    finally:
        if monitor.returncode is None:
            monitor.kill()
            await monitor.wait()
