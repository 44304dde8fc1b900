"""The profiling tools of issue 19 item 5: `python -m bench.profile` sums py-spy's collapsed
stacks per function, and `python -m bench.node_cpu` runs (it once broke unnoticed when the
outbox began publishing a batch in one call)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.profile import frame_name, stacks, summarize

SAMPLES = """\
run (mqtt_path.py:300);Outbox._publish (face/outbox.py:167);device_view (calls/views.py:145) 6
run (mqtt_path.py:300);Outbox._publish (face/outbox.py:170) 2
run (mqtt_path.py:301);Engine._writer (app/engine.py:90);decide (domain/model.py:12) 2
"""


def test_a_frame_is_its_function_and_file_whatever_the_line() -> None:
    assert frame_name("Outbox._publish (face/outbox.py:167)") == ("Outbox._publish (outbox.py)")
    assert frame_name("<module> (prof.py)") == "<module> (prof.py)"


def test_inclusive_counts_a_function_once_per_sample_self_only_at_the_top() -> None:
    total, inclusive, self_ = summarize(stacks(SAMPLES.splitlines()))
    assert total == 10
    assert inclusive["run (mqtt_path.py)"] == 10  # two lines of it: one function
    assert inclusive["Outbox._publish (outbox.py)"] == 8
    assert self_ == {
        "device_view (views.py)": 6,
        "Outbox._publish (outbox.py)": 2,
        "decide (model.py)": 2,
    }


def test_under_shows_what_a_function_called_directly() -> None:
    total, called, _ = summarize(stacks(SAMPLES.splitlines()), under="Outbox._publish")
    assert total == 10
    assert called == {"device_view (views.py)": 6, "(itself)": 2}


def test_the_summary_tool_prints_both_tables_and_refuses_a_missing_file(tmp_path: Path) -> None:
    sampled = tmp_path / "node.round1.txt"
    sampled.write_text(SAMPLES)
    shown = subprocess.run(
        [sys.executable, "-m", "bench.profile", str(sampled)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "inclusive: % of 10 samples" in shown and "self: % of 10 samples" in shown
    assert "60.0 │ device_view (views.py)" in shown
    missing = subprocess.run(
        [sys.executable, "-m", "bench.profile", str(tmp_path / "none.txt")],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2
    assert "no such file" in missing.stderr and "Traceback" not in missing.stderr


def test_node_cpu_runs_and_prints_each_part() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "bench.node_cpu", "--calls", "20", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for part in ("outbox", "requests", "evolve"):
        assert f"\n{part} " in "\n" + shown, shown
    assert "outbox: 543 messages for 20 calls, 120 events" in shown
    assert "requests: 60 replies for 20 calls" in shown  # make, answer, clear each
