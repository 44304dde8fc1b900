"""The ``cti`` command line: ``demo`` (memory and SQLite), ``replay`` and ``--help``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from cti.cli import main

EVENT_LINE = re.compile(r"^\s*(\d+) (\w+)", re.MULTILINE)


@pytest.fixture(autouse=True)
def _isolated_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``main`` configures structlog globally, caching loggers on first use with the stderr of
    that moment (here: pytest's capture); keep that from leaking into later tests."""
    saved = structlog.get_config()
    real_configure = structlog.configure

    def configure(**kwargs: Any) -> None:
        real_configure(**{**kwargs, "cache_logger_on_first_use": False})

    monkeypatch.setattr(structlog, "configure", configure)
    yield
    real_configure(**saved)


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


def test_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "usage: cti" in capsys.readouterr().err
