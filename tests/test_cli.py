"""The ``cti`` command line: ``demo`` (memory and SQLite), ``replay`` and ``--help``."""

from __future__ import annotations

import argparse
import os
import re
import shlex
from pathlib import Path

import pytest

from cti.app.clock import ManualClock
from cti.app.committed import Committed, decode
from cti.app.config import load_site
from cti.app.node import Accepted, Node
from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.records_db import CallRecordsDb
from cti.calls.values import Cause, ConnectionState
from cti.cli import build_parser, main
from cti.mqtt.face.outbox import POSITION_KEY
from cti.store import SqliteStore
from cti.tools.calls import event_line
from cti.voicemail.events import GreetingPlayed

EVENT_LINE = re.compile(r"^\s*(\d+) (\w+)", re.MULTILINE)


def flat(text: str) -> str:
    """Output with rich's line wrapping undone (any run of whitespace becomes one space)."""
    return " ".join(text.split())


def done_seq(out: str) -> int:
    match = re.search(r"done: log at seq (\d+), (\d+) calls left open", flat(out))
    assert match, out
    return int(match.group(1))


def test_demo_in_memory_prints_the_event_stream(capsys: pytest.CaptureFixture[str]) -> None:
    """CALL-01..CALL-16 end to end: the scripted day runs, prints each committed event with its
    seq, shows the SIP refusal (CALL-13) and leaves no call open."""
    assert main(["demo", "--memory"]) == 0
    out = capsys.readouterr().out
    text = flat(out)
    assert "log=memory starting at seq 0" in text
    for kind in (
        "serviceInitiated",
        "delivered",
        "established",
        "transferred",
        "networkReached",
        "diverted",
        "timerSet",
        "callCleared",
        "forwarding",
    ):
        assert re.search(rf"^\s*\d+ {kind}\b", out, re.MULTILINE), kind
    assert "refused serviceNotSupported" in text
    assert "consultationCall is not available for SIP phone 333" in text
    assert "0 calls left open" in text
    seqs = [int(m.group(1)) for m in EVENT_LINE.finditer(out)]
    last = done_seq(out)
    assert seqs == list(range(1, last + 1))  # every event printed once, in order


def test_demo_prints_each_event_on_one_line_into_a_pipe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cti demo --memory | grep transferred` finds whole events (rich wrapped them at 80
    columns, or COLUMNS, outside a terminal)."""
    monkeypatch.setenv("COLUMNS", "40")
    assert main(["demo", "--memory"]) == 0
    lines = capsys.readouterr().out.splitlines()
    transferred = [line for line in lines if re.match(r"^\s*\d+ transferred\b", line)]
    assert transferred and all("cause=" in line and "local=(" in line for line in transferred)


def test_demo_to_sqlite_then_replay_reports_the_same_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's log on disk replays to the same number of events, with no call left open."""
    assert main(["demo", "--data-dir", str(tmp_path)]) == 0
    written = done_seq(capsys.readouterr().out)
    assert (tmp_path / "node1.db").exists()
    assert main(["replay", "--data-dir", str(tmp_path)]) == 0
    err = flat(capsys.readouterr().err)
    match = re.search(r"replayed (\d+) events of epoch [0-9a-f]{32} in [\d.]+ s: (\d+) open", err)
    assert match, err
    assert int(match.group(1)) == written > 0
    assert match.group(2) == "0"


def test_second_demo_continues_the_same_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second run on the same data dir starts where the first stopped and doubles the log."""
    assert main(["demo", "--data-dir", str(tmp_path)]) == 0
    first = done_seq(capsys.readouterr().out)
    assert main(["demo", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"starting at seq {first}" in flat(out)
    assert done_seq(out) == 2 * first


def test_replay_without_a_log_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--data-dir", str(tmp_path)]) == 1
    assert "no event log at" in flat(capsys.readouterr().err)


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"], ["replay", "--help"]])
def test_help_exits_zero(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: cti" in capsys.readouterr().out


def test_every_argument_of_cti_has_help() -> None:
    """``cti X --help`` explains every argument (``cti trace``'s call had no help)."""
    missing = []
    todo: list[tuple[str, argparse.ArgumentParser]] = [("cti", build_parser())]
    while todo:
        name, parser = todo.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo += [(f"{name} {sub}", p) for sub, p in action.choices.items()]
            elif action.help is None:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_an_event_of_calls_show_is_its_mqtt_document_as_key_value() -> None:
    """Lists in brackets; a text with spaces, quotes or nothing in it as its JSON string, so
    a line always splits into its fields; true and false as in JSON."""
    transferred = ev.Transferred(
        call=1,
        cause=Cause.TRANSFER,
        local=(ev.Local("331", ConnectionState.CONNECTED), ev.Local("a:b", ConnectionState.NULL)),
        secondary_call=2,
        transferring="330",
        transferred_to="332",
        moved=("332", "333"),
    )
    assert event_line(Committed(7, 0, transferred)).split() == [
        "7",
        "1970-01-01T00:00:00.000Z",
        "transferred",
        "call=1",
        "cause=transfer",
        "secondaryCall=2",
        "transferring=330",
        "transferredTo=332",
        "moved=[332,333]",
        'connections=[331:connected,"a:b":null]',
    ]
    greeting = GreetingPlayed(
        mailbox="331",
        call=3,
        caller="",
        device="330",
        text='Bernd "B" is out',
        recording=False,
        reason="recordingOff",
    )
    assert event_line(Committed(12, 0, greeting)) == (
        '      12 1970-01-01T00:00:00.000Z greetingPlayed mailbox=331 call=3 caller="" '
        'device=330 text="Bernd \\"B\\" is out" recording=false reason=recordingOff'
    )
    # split as a shell splits words: each field whole, its text unquoted
    fields = shlex.split(event_line(Committed(12, 0, greeting)))
    assert fields[6:8] == ["device=330", 'text=Bernd "B" is out'] and len(fields) == 10


def test_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "usage: cti" in capsys.readouterr().err


def test_demo_has_its_own_place_and_a_second_writer_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """cti demo writes data/demo/, never the log cti serve uses (data/); pointed at a log
    another process writes, it stops with one line naming the holder, no traceback."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    assert (tmp_path / "data" / "demo" / "node1.db").exists()
    assert not (tmp_path / "data" / "node1.db").exists()
    capsys.readouterr()
    with SqliteStore(tmp_path / "data" / "node1.db"):  # as cti serve holds it
        assert main(["demo", "--data-dir", "data"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"is in use by another writer (pid {os.getpid()})" in err
    assert main(["replay", "--data-dir", "data"]) == 0  # readers are welcome (lock released)


def a_call_of_330_to_331(data: Path) -> None:
    """Call 1, answered and cleared, in a log and the call records in ``data``."""
    log = SqliteStore(data / "node1.db")
    node = Node(load_site(), log, ManualClock())
    made = node.execute(c.MakeCall(calling="330", called="331"))
    assert isinstance(made, Accepted)
    node.execute(c.AnswerCall(call=1, device="331"))
    node.execute(c.ClearCall(call=1))
    records = CallRecordsDb(data / "node1.calls.db", log.epoch)
    records.apply([decode(r) for r in log.read(1)])
    records.close()
    log.close()


def test_calls_lists_records_and_shows_a_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """cti calls list / show read the call records read model and the log."""
    a_call_of_330_to_331(tmp_path)
    assert main(["calls", "--data-dir", str(tmp_path), "list"]) == 0
    text = flat(capsys.readouterr().out)
    assert "330 331" in text and "normalClearing" in text
    assert main(["calls", "show", "1", "--data-dir", str(tmp_path)]) == 0  # either side
    out = capsys.readouterr().out
    # Each event in the names and values of its MQTT document (specs/mqtt.md), not a repr.
    events = [line.split() for line in out.splitlines() if EVENT_LINE.match(line)]
    assert [e[:3] for e in events] == [
        [str(seq), "2026-01-01T00:00:00.000Z", kind]
        for seq, kind in enumerate(
            [
                "serviceInitiated",
                "originated",
                "delivered",
                "established",
                "connectionCleared",
                "callCleared",
            ],
            start=1,
        )
    ]
    assert events[2][3:] == [
        "call=1",
        "cause=newCall",
        "alerting=331",
        "calling=330",
        "called=331",
        "connections=[330:connected,331:alerting]",
    ]  # redirecting and group are null: left out
    assert events[4][3:] == [
        "call=1",
        "cause=normalClearing",
        "device=330",
        "connections=[330:null,331:connected]",
    ]
    assert main(["calls", "--data-dir", str(tmp_path), "show", "9"]) == 1
    err = capsys.readouterr().err  # an error is one line on stderr, named like every command's
    assert err == "cti calls: no call 9 in the records\n"
    assert main(["calls", "--data-dir", str(tmp_path / "nothing"), "list"]) == 1
    err = flat(capsys.readouterr().err)
    assert err.startswith("cti calls: no call records at") and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:  # SQLite would read LIMIT -1 as no limit at all
        main(["calls", "--data-dir", str(tmp_path), "list", "--last", "-1"])
    assert exc.value.code == 2
    assert "argument --last: -1: give 1 or more" in capsys.readouterr().err


def test_an_archived_calls_events_are_read_from_the_archive_or_said_to_be_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After `cti archive` took a call's events out of the log, `cti calls show` and `cti
    trace` read them from --archive; without it they say where they went (they showed the
    record with no events, and trace drew "no events", exit 0)."""
    a_call_of_330_to_331(tmp_path)
    capsys.readouterr()  # the node's log lines
    assert main(["calls", "show", "1", "--data-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    with SqliteStore(tmp_path / "node1.db") as log:
        node = Node(load_site(), log, ManualClock())
        node.execute(c.SetDoNotDisturb(device="330", on=True))  # the log goes on after it
        log.set_meta(POSITION_KEY, str(log.last_seq()))  # the broker has every event
        last = log.last_seq()
    records = CallRecordsDb(tmp_path / "node1.calls.db", log.epoch)
    with SqliteStore.open_readonly(tmp_path / "node1.db") as reader:
        records.apply([decode(r) for r in reader.read(7)])
    records.close()
    assert main(["archive", "--data-dir", str(tmp_path), "--keep", "0"]) == 0
    capsys.readouterr()
    for argv in (["calls", "show", "1"], ["trace", "1"]):
        assert main([*argv, "--data-dir", str(tmp_path)]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert flat(captured.err) == (
            f"cti {argv[0]}: call 1: events 1..6 are archived (the log starts at seq {last}):"
            " give the archive directory (--archive DIR)"
        )
    wrong = ["--data-dir", str(tmp_path), "--archive", str(tmp_path)]  # not the archive's
    assert main(["calls", "show", "1", *wrong]) == 1
    assert (
        flat(capsys.readouterr().err) == f"cti calls: call 1: no archive of this log in {tmp_path}"
    )
    archived = ["--data-dir", str(tmp_path), "--archive", str(tmp_path / "archive")]
    assert main(["calls", "show", "1", *archived]) == 0
    assert capsys.readouterr().out == shown  # the same record and event lines as before
    assert main(["trace", "1", *archived]) == 0
    svg = capsys.readouterr().out
    assert "callCleared" in svg and "no events" not in svg


@pytest.mark.parametrize(
    "group, action",
    [
        ("calls", ["list"]),
        ("calls", ["show", "1"]),
        ("users", ["list"]),
        ("users", ["reset", "334"]),
        ("devices", ["forget", "330"]),
    ],
)
def test_a_groups_options_go_before_or_after_its_subcommand(group: str, action: list[str]) -> None:
    """`cti calls show 1 --data-dir X` as `cti calls --data-dir X show 1` (it was refused:
    "unrecognized arguments"); not given after the subcommand, the value given before it stays
    (a subcommand's default would overwrite it); given on both sides, the later wins."""
    parse = build_parser().parse_args
    options = ["--data-dir", "X", "--site", "s.toml", "--store", "sqlite"]
    before = parse([group, *options, *action])
    after = parse([group, *action, *options])
    for args in (before, after):
        assert (args.data_dir, args.site, args.store) == (Path("X"), Path("s.toml"), "sqlite")
    both = parse([group, "--data-dir", "A", "--site", "s.toml", *action, "--data-dir", "B"])
    assert (both.data_dir, both.site) == (Path("B"), Path("s.toml"))
    neither = parse([group, *action])
    assert (neither.data_dir, neither.site, neither.store) == (Path("data"), None, None)


def test_users_takes_its_broker_and_init_options_after_the_subcommand() -> None:
    parse = build_parser().parse_args
    url = "mqtt://127.0.0.1:1884"
    after = parse(["users", "list", "--init", "--mqtt-url", url, "--user", "330"])
    assert (after.init, after.mqtt_url, after.user) == (True, url, "330")
    before = parse(["users", "--init", "--mqtt-url", url, "--user", "330", "list"])
    assert (before.init, before.mqtt_url, before.user) == (True, url, "330")
    neither = parse(["users", "list"])
    assert (neither.init, neither.mqtt_url, neither.user) == (False, "mqtt://127.0.0.1:1883", None)


@pytest.mark.parametrize(
    "group, action", [("calls", "show"), ("users", "add"), ("devices", "forget")]
)
def test_a_subcommands_help_shows_its_groups_options_as_the_group_does(
    group: str, action: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # one line per option

    def options(argv: list[str]) -> set[str]:
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        out = capsys.readouterr().out
        lines = [" ".join(line.split()) for line in out.splitlines()]
        return {line for line in lines if line.startswith("--")}

    shared = options([group])
    assert any(line.startswith("--data-dir DATA_DIR ") for line in shared), shared
    assert shared <= options([group, action])  # the same options with the same help


@pytest.mark.parametrize("action", [["list"], ["show", "1"]])
def test_calls_prints_its_table_whole_into_a_pipe(
    action: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not a terminal (a pipe, `cti calls list | grep 331`): the table at its natural width,
    the header and each record one line (rich fitted it into COLUMNS, else 80, and wrapped
    every cell over several lines)."""
    monkeypatch.setenv("COLUMNS", "40")
    a_call_of_330_to_331(tmp_path)
    assert main(["calls", "--data-dir", str(tmp_path), *action]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = [cells(line) for line in lines if line.startswith("┃")]
    assert header == [["call", "started", "from", "to", "answered by", "parties", "ended", "how"]]
    rows = [cells(line) for line in lines if line.startswith("│")]
    assert rows == [
        [
            "1",
            "2026-01-01T00:00:00.000Z",
            "330",
            "331",
            "331",
            "330 331",
            "2026-01-01T00:00:00.000Z",
            "normalClearing",
        ]
    ]


def cells(line: str) -> list[str]:
    """The cells of one line of a rich table."""
    return [cell.strip() for cell in re.split("[│┃]", line)[1:-1]]
