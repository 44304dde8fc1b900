"""A mistake on the command line of `cti` and `phone-sim` (a path that is no directory, a
port out of range, a missing file, a link that is not there) is one line naming it and a
non-zero exit code, never a traceback; the line is not wrapped at the terminal's width.
The cases that need a broker are in tests/mqtt/test_cli_errors.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cti.cli import main
from cti.mqtt.broker import free_port
from phone_sim.cli import main as phone_sim

REPO = Path(__file__).resolve().parent.parent


def one_line(err: str) -> str:
    """The single line of ``err``, which must be just that."""
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, err
    return err.rstrip("\n")


def usage_error(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    run: Callable[[list[str]], int] = main,
) -> str:
    """argparse's refusal: exit 2, its usage, then one line naming the argument."""
    with pytest.raises(SystemExit) as exc:
        run(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.splitlines()[-1]


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--data-dir", "{file}"],
        ["users", "--data-dir", "{file}", "list"],
        ["devices", "--data-dir", "{file}", "forget", "330"],
        ["broker-config", "--data-dir", "{file}", "--out", "{out}"],
    ],
    ids=["demo", "users", "devices", "broker-config"],
)
def test_a_data_dir_that_is_a_file_is_one_line(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("not a directory\n")
    argv = [a.format(file=file, out=tmp_path / "out") for a in argv]
    assert main(argv) == 1
    assert one_line(capsys.readouterr().err) == f"cti {argv[0]}: {file}: not a directory"


def test_broker_config_checks_ports_and_certificate_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What it writes into cti.conf must be something Mosquitto can use: a wrong port or a
    missing certificate would only fail at the broker's restart."""
    base = ["broker-config", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    line = usage_error([*base, "--port", "0"], capsys)
    assert line.endswith("argument --port: the plain listener needs a port, not 0")
    line = usage_error([*base, "--tls-port", "70000"], capsys)
    assert line.endswith("argument --tls-port: 70000 is not a port number (0-65535)")
    missing = tmp_path / "server.pem"
    assert main([*base, "--tls-cert", str(missing), "--tls-key", str(missing)]) == 2
    err = one_line(capsys.readouterr().err)
    assert err == f"cti broker-config: --tls-cert {missing}: no such file"
    assert not (tmp_path / "out").exists()  # nothing written


def test_trace_to_a_missing_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--data-dir", str(tmp_path)]) == 0
    from cti.app.committed import decode
    from cti.calls.records_db import CallRecordsDb
    from cti.store import SqliteStore

    with SqliteStore(tmp_path / "node1.db") as log:
        records = CallRecordsDb(tmp_path / "node1.calls.db", log.epoch)
        records.apply([decode(r) for r in log.read(1)])
        records.close()
    capsys.readouterr()
    out = tmp_path / "nowhere" / "call.svg"
    assert main(["trace", "1", "--data-dir", str(tmp_path), "--out", str(out)]) == 1
    assert one_line(capsys.readouterr().err) == f"cti trace: {out}: No such file or directory"


def test_replay_names_a_missing_log_or_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An --archive that is not there is an error, not a replay as if none was given."""
    assert main(["replay", "--data-dir", str(tmp_path)]) == 1
    assert one_line(capsys.readouterr().err).startswith("cti replay: no event log at")
    assert main(["demo", "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    archive = tmp_path / "archive"
    assert main(["replay", "--data-dir", str(tmp_path), "--archive", str(archive)]) == 1
    assert one_line(capsys.readouterr().err) == f"cti replay: no archive directory {archive}"


def test_replay_into_a_pipe_prints_its_summary_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No progress bar where nobody watches one: it left an empty line before the summary
    (cti replay, and cti users / broker-config on a node's log)."""
    assert main(["demo", "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["replay", "--data-dir", str(tmp_path)]) == 0
    assert one_line(capsys.readouterr().err).startswith("replayed ")


def test_csta_address_log_level_and_an_absent_link(capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_error(["csta", "call", "127.0.0.1:8800", "330", "331", "--log-level", "x"], capsys)
    assert line.endswith(
        "argument --log-level: 'x' is not one of debug, info, warning, error, critical"
    )
    assert main(["csta", "call", "127.0.0.1:70000", "330", "331"]) == 2
    assert "port 1-65535" in one_line(capsys.readouterr().err)
    port = free_port()  # nothing listens there
    assert main(["csta", "monitor", f"127.0.0.1:{port}", "330"]) == 3  # as no broker
    err = one_line(capsys.readouterr().err)
    # In words, not asyncio's "[Errno 111] Connect call failed ('127.0.0.1', PORT)".
    assert err == f"cti csta: cannot reach the CSTA link at 127.0.0.1:{port}: Connection refused"


def test_csta_says_a_silent_link_in_words(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A listener that takes the connection and never answers the AARQ: a timeout in words
    (it is an OSError too, once told as `cannot reach ...: TimeoutError`)."""
    import socket

    import cti.tools.csta

    monkeypatch.setattr(cti.tools.csta, "TIMEOUT", 0.2)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts; nobody reads
        port = silent.getsockname()[1]
        assert main(["csta", "call", f"127.0.0.1:{port}", "330", "331"]) == 3
    assert one_line(capsys.readouterr().err) == (
        f"cti csta: the CSTA link at 127.0.0.1:{port} did not answer within 0.2 s"
    )


def test_request_with_a_missing_ca_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not "no broker at ...": the file is what is missing (cti users, phone-sim alike)."""
    ca = tmp_path / "ca.crt"
    argv = ["--mqtt-url", "mqtts://127.0.0.1:8883", "--user", "330", "--ca-file", str(ca)]
    assert main(["request", *argv, "snapshotDevice", "device=330"]) == 2
    assert one_line(capsys.readouterr().err) == f"cti request: --ca-file {ca}: no such file"


def test_users_and_request_exit_alike_without_a_broker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No broker where the running node's should be: exit 3 from both (`cti users` exited 2,
    a usage error's code; specs/mqtt.md). Without --user it is one, 2 from both."""
    from cti.store import SqliteStore

    url = ["--mqtt-url", f"mqtt://127.0.0.1:{free_port()}"]
    with SqliteStore(tmp_path / "node1.db"):  # the node "runs": it holds its log
        assert main(["users", "--data-dir", str(tmp_path), *url, "--user", "330", "list"]) == 3
        err = one_line(capsys.readouterr().err)
        assert (
            err == f"cti users: node node1 runs, but not reachable at {url[1]}: Connection refused"
        )
        assert main(["users", "--data-dir", str(tmp_path), *url, "list"]) == 2
        assert one_line(capsys.readouterr().err) == (
            "cti users: node node1 is running: sign in as an administrator (--user, CTI_PASSWORD)"
        )
    assert main(["request", *url, "--user", "330", "listAccounts"]) == 3
    assert one_line(capsys.readouterr().err) == (
        f"cti request: no broker at {url[1]}: Connection refused"
    )
    assert main(["request", *url, "listAccounts"]) == 2
    capsys.readouterr()


def test_serve_checks_the_certificate_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A configuration to fix (exit 2, which systemd does not retry), before anything starts;
    not mosquitto's "OpenSSL Error[2]" after the node has started."""
    cert = tmp_path / "server.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    key = tmp_path / "server.key"
    argv = ["serve", "--data-dir", str(tmp_path / "data"), "--broker", "embedded"]
    argv += ["--tls-cert", str(cert), "--tls-key", str(key), "--tls-ca", str(cert)]
    assert main(argv) == 2
    assert one_line(capsys.readouterr().err) == f"cti serve: --tls-key {key}: no such file"
    assert not (tmp_path / "data").exists()


def test_serve_prints_a_start_up_error_unwrapped(tmp_path: Path) -> None:
    """A journal or a pipe gets the StartupError whole, on one line, at any width."""
    site = tmp_path / ("a-rather-long-directory-name-for-the-site-files" * 2) / "office.toml"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "cti.cli", "serve", "--site", str(site)),
            *("--data-dir", str(tmp_path / "data"), "--http-port", "0", "--web-port", "0"),
        ],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # A site file that is not there is a configuration error: exit 2, which a supervisor
    # does not retry (deploy/cti.service: RestartPreventExitStatus=2).
    assert proc.returncode == 2
    assert one_line(proc.stderr) == f"cti serve: {site}: no such file or directory"


def test_phone_sim_refuses_bad_values_before_reaching_a_broker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--mqtt-url", f"mqtt://127.0.0.1:{free_port()}"]  # never reached
    ca = tmp_path / "ca.crt"
    tls = ["--mqtt-url", "mqtts://127.0.0.1:8883", "--ca-file", str(ca)]
    assert phone_sim([*tls, "console", "330"]) == 2
    assert one_line(capsys.readouterr().err) == f"phone-sim: --ca-file {ca}: no such file"
    line = usage_error([*url, "--log-level", "loud", "console", "330"], capsys, phone_sim)
    assert line.endswith("'loud' is not one of debug, info, warning, error, critical")
    for option, value, why in [
        ("--devices", "1", "1: give 2 or more"),
        ("--calls-per-second", "-5", "-5: give more than 0"),
        ("--duration", "0", "0: give more than 0"),
        ("--duration", "inf", "inf: give a finite number"),
        ("--calls-per-second", "1e400", "1e400: give a finite number"),
    ]:
        line = usage_error([*url, "load", option, value], capsys, phone_sim)
        assert line.endswith(f"argument {option}: {why}"), line
    missing = tmp_path / "missing.yaml"
    assert phone_sim([*url, "run", str(missing)]) == 2
    assert one_line(capsys.readouterr().err) == f"phone-sim: {missing}: No such file or directory"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps: [\n")
    assert phone_sim([*url, "run", str(bad)]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith(f"phone-sim: {bad}: not valid YAML: ") and "(line 3, column 1)" in err
    assert phone_sim([*url, "load", "--calls-per-second", "1e300", "--duration", "1e300"]) == 2
    assert one_line(capsys.readouterr().err) == (
        "phone-sim: --calls-per-second times --duration is too large"
    )
    for content, why in [
        (b"name: x\nsteps: [\xff]\n", "not UTF-8 text (byte 16)"),
        (b"name: x\nrequirements: 7\nsteps: ['330 calls 331']\n", "requirements: a list"),
        (b"name: x\nparties: 5\nsteps: ['330 calls 331']\n", "parties: a table of"),
    ]:
        bad.write_bytes(content)  # a ValueError, a TypeError, an AttributeError before
        assert phone_sim([*url, "run", str(bad)]) == 2
        assert one_line(capsys.readouterr().err).startswith(f"phone-sim: {bad}: {why}")


def test_request_fields_take_json_and_a_bad_one_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`key:=JSON` for the lists and objects of a request (specs/mqtt.md, "Running");
    JSON that does not parse is a usage error before any broker is asked."""
    from cti.tools.request import parse_fields

    fields = parse_fields(["user=331", "groups:=[2,1]", "n=0331", "on=true", "text=[x]"])
    assert fields == {"user": 331, "groups": [2, 1], "n": "0331", "on": True, "text": "[x]"}
    url = ["--mqtt-url", f"mqtt://127.0.0.1:{free_port()}", "--user", "331"]  # never reached
    assert main(["request", *url, "orderFavouriteGroups", "groups:=[2,"]) == 2
    assert one_line(capsys.readouterr().err) == (
        "cti request: groups:= is not JSON: Expecting value (column 4 of '[2,')"
    )


@pytest.mark.parametrize("argv", [["calls", "show"], ["trace"]], ids=["calls", "trace"])
def test_a_call_id_too_large_for_the_records_is_a_usage_error(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not an OverflowError from SQLite (a traceback) once the records are open."""
    assert main(["demo", "--data-dir", str(tmp_path)]) == 0
    from cti.calls.records_db import CallRecordsDb

    CallRecordsDb(tmp_path / "node1.calls.db", "epoch").close()
    capsys.readouterr()
    huge = str(2**70)
    line = usage_error([argv[0], "--data-dir", str(tmp_path), *argv[1:], huge], capsys)
    assert line.endswith(f"argument call: {huge} is not a call id (1 or more)"), line
    assert main([argv[0], "--data-dir", str(tmp_path), *argv[1:], "99"]) == 1
    assert one_line(capsys.readouterr().err) == f"cti {argv[0]}: no call 99 in the records"


def test_users_on_a_stopped_node_uses_its_conference_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cti users` decides commands on the node's log as `cti serve` would: with the key of
    the data directory, not the process's random one (whose warning told an administrator
    that the site's PINs change with every restart)."""
    assert main(["users", "--data-dir", str(tmp_path), "--init", "remove", "nobody"]) == 1
    captured = capsys.readouterr()
    assert "conference_key_ephemeral" not in captured.out + captured.err
    assert "unknownUser" in captured.out + captured.err
    assert (tmp_path / "node1.conference-key").stat().st_mode & 0o777 == 0o600


def test_an_os_error_naming_no_path_is_a_fault_not_a_one_line_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """main() turns an OSError about a path the user named into one line; one that names
    no path (a connection reset, a bad file descriptor: a bug or a fault) keeps its
    traceback instead of passing for a user's mistake."""
    import errno

    from cti import cli

    def fails(error: OSError) -> None:
        def run(args: object) -> int:
            raise error

        monkeypatch.setattr(cli, "_run", run)

    fails(OSError(errno.EACCES, "Permission denied", str(tmp_path / "x")))
    assert main(["demo", "--memory"]) == 1
    assert one_line(capsys.readouterr().err) == f"cti demo: {tmp_path / 'x'}: Permission denied"
    fails(OSError(errno.EBADF, "Bad file descriptor"))
    with pytest.raises(OSError, match="Bad file descriptor"):
        main(["demo", "--memory"])


def test_demo_and_archive_on_a_data_directory_use_its_conference_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cti demo --data-dir` and `cti archive` build the node as `cti serve` would, with the
    data directory's conference key: no warning that PINs change with every restart."""
    assert main(["demo", "--data-dir", str(tmp_path)]) == 0
    assert main(["archive", "--data-dir", str(tmp_path), "--keep", "10"]) == 0
    captured = capsys.readouterr()
    assert "conference_key_ephemeral" not in captured.out + captured.err
    assert (tmp_path / "node1.conference-key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("action", [["list"], ["add", "334"], ["remove", "331"]])
@pytest.mark.parametrize("exists", [False, True], ids=["no-directory", "no-log"])
def test_users_on_a_mistyped_data_dir_refuses_and_makes_nothing(
    action: list[str],
    exists: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """USER-01: `cti users` administers an existing node. A --data-dir with no log of the
    node (a typo, another directory) is one line and exit 1, before any password is asked,
    and leaves no directory, log or key behind: it made an empty node's log there, seeded
    with the site's accounts, and changed that instead (specs/security.md)."""
    monkeypatch.delenv("CTI_NEW_PASSWORD", raising=False)
    typo = tmp_path / "dta"
    if exists:
        typo.mkdir()
    assert main(["users", "--data-dir", str(typo), *action]) == 1
    assert one_line(capsys.readouterr().err) == (
        f"cti users: no event log at {typo / 'node1.db'}: not the node's --data-dir? "
        "(--init makes the log of a node that has never run)"
    )
    assert sorted(tmp_path.rglob("*")) == ([typo] if exists else [])


def test_users_init_makes_the_log_of_a_node_that_has_never_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--init: the log (with the site's accounts, as `cti serve` seeds them) and the data
    directory are made; from then on the node has a log and --init is not needed."""
    data = tmp_path / "new" / "data"
    monkeypatch.setenv("CTI_NEW_PASSWORD", "Lager-2026!")
    assert main(["users", "--data-dir", str(data), "--init", "add", "334"]) == 0
    assert (data / "node1.db").exists()
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "40")  # into a pipe: the table whole, all the same
    assert main(["users", "list", "--data-dir", str(data)]) == 0  # either side of it
    listed = capsys.readouterr().out
    assert "334" in listed
    rows = {cells[0]: cells for line in listed.splitlines() if (cells := table_row(line))}
    assert rows["330"] == ["330", "Anna Berger", "admin", "330", "conference voicemail", "ok"]


def table_row(line: str) -> list[str]:
    """The cells of a row of a rich table ([] for a line of its frame or header)."""
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_archive_of_a_mistyped_data_dir_makes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """cti archive changes an existing log only: no directory, key or archive is made."""
    typo = tmp_path / "dta"
    assert main(["archive", "--data-dir", str(typo), "--keep", "10"]) == 1
    assert one_line(capsys.readouterr().err) == f"cti archive: no event log at {typo / 'node1.db'}"
    assert not typo.exists()


def test_broker_config_says_where_its_accounts_come_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """broker-config is a first step (a node that has never run takes the site's accounts),
    so a --data-dir without a log is no error; it says so, and a typo shows there."""
    monkeypatch.setenv("COLUMNS", "200")
    data, out = tmp_path / "data", tmp_path / "out"
    argv = ["broker-config", "--data-dir", str(data), "--out", str(out), "--tls-port", "0"]
    assert main(argv) == 0
    text = " ".join(capsys.readouterr().out.split())
    log = data / "node1.db"
    assert f"no log at {log} yet (a node that has never run): the site file's accounts" in text
    assert main(["demo", "--data-dir", str(data)]) == 0
    capsys.readouterr()
    assert main(argv) == 0
    assert f"accounts from the node's log at {log}" in " ".join(capsys.readouterr().out.split())


def test_demo_keeps_off_a_nodes_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`cti demo --data-dir` naming a stopped node's directory: one line, and the scripted
    day is not appended to the node's log (a log the demo made goes on, test_cli.py)."""
    from cti.app.clock import ManualClock
    from cti.app.config import load_site
    from cti.app.node import Node
    from cti.calls import commands as c
    from cti.store import SqliteStore

    with SqliteStore(tmp_path / "node1.db") as log:
        Node(load_site(), log, ManualClock()).execute(c.SetDoNotDisturb(device="330", on=True))
        before = log.last_seq()
    assert main(["demo", "--data-dir", str(tmp_path)]) == 1
    assert one_line(capsys.readouterr().err) == (
        f"cti demo: {tmp_path / 'node1.db'} is a node's event log, not one the demo made: "
        "give the demo a --data-dir of its own (default ./data/demo)"
    )
    with SqliteStore(tmp_path / "node1.db") as log:
        assert log.last_seq() == before


def test_users_help_says_where_a_new_password_comes_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`cti users add` and `set-password` take the password from CTI_NEW_PASSWORD or a prompt,
    never the command line: their help says so (it was told only by the error without a
    terminal)."""
    with pytest.raises(SystemExit):
        main(["users", "--help"])
    listed = " ".join(capsys.readouterr().out.split())
    assert "a new account with an initial password (CTI_NEW_PASSWORD, else asked)" in listed
    assert "set a password (CTI_NEW_PASSWORD, else asked)" in listed


def test_a_tool_with_a_wrong_site_file_exits_2_and_makes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A site file that is not TOML is the user's to fix, as a wrong flag is: one line, exit 2
    (for `cti serve` under systemd: not retried), before the data directory is touched."""
    site = tmp_path / "office.toml"
    site.write_text("devices = [")
    data = tmp_path / "data"
    assert main(["users", "--site", str(site), "--data-dir", str(data), "--init", "list"]) == 2
    assert one_line(capsys.readouterr().err).startswith(f"cti users: {site}: not TOML: ")
    assert not data.exists()


async def test_why_a_connection_failed_is_said_in_words() -> None:
    """What the tools print after "no broker at URL:" (cti request, cti users, phone-sim,
    cti csta): the system's words for an errno, not asyncio's "Connect call failed", and a
    TLS handshake with a port that is no TLS one said as that (its errno is OpenSSL's: it
    read "Operation not permitted")."""
    import asyncio
    import ssl

    from cti.tools.request import in_words

    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")
    assert in_words(refused) == "Connection refused"

    async def plain(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")  # no TLS server speaks first so
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ssl.SSLError) as failed:
            await asyncio.open_connection("127.0.0.1", port, ssl=ssl.create_default_context())
    finally:
        server.close()
    assert in_words(failed.value) == (
        "the TLS handshake failed (WRONG_VERSION_NUMBER): is that port a TLS one (mqtts://)?"
    )
