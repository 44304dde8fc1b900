"""A hung test's child processes die with the run pytest-timeout ends (tests/reaper.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.reaper import processes, running

ROOT = Path(__file__).resolve().parents[1]

HUNG_TEST = """
import subprocess
import time
from pathlib import Path


def test_hangs():
    # A child, and a grandchild that a shell starts.
    child = subprocess.Popen(["sh", "-c", "sleep 600 & echo $! > {out}/grandchild; wait"])
    Path("{out}/child").write_text(str(child.pid))
    time.sleep(600)
"""


LATE_TEST = """
import os
import subprocess
import time
from pathlib import Path

from tests.test_hung import reapers


def test_ends_late():
    # A child left running, then the test ends once the reaper watches (the timer has fired).
    child = subprocess.Popen(["sleep", "600"])
    Path("{out}/child").write_text(str(child.pid))
    while not reapers(os.getpid()):
        time.sleep(0.05)
"""


def reapers(parent: int | None = None) -> list[int]:
    """This worktree's tests/reaper.py processes (of ``parent`` when given)."""
    script = str(ROOT / "tests" / "reaper.py").encode()
    found = []
    for pid, (ppid, _, _) in processes().items():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if script in cmdline and parent in (None, ppid):
            found.append(pid)
    return found


def run_pytest(tmp_path: Path, test: str) -> subprocess.CompletedProcess[str]:
    """Run ``test`` (a file's text) in a pytest with this conftest and a 5 s timeout."""
    test_file = tmp_path / "test_generated.py"
    test_file.write_text(test.format(out=tmp_path))
    return subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
            *("-p", "tests.conftest", "-c", str(ROOT / "pyproject.toml")),
            *("--timeout=5", str(test_file)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_hung_tests_children_die_with_the_run(tmp_path: Path) -> None:
    run = run_pytest(tmp_path, HUNG_TEST)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Timeout" in run.stdout, run.stdout
    assert "is about to time out" in run.stdout + run.stderr, run.stdout + run.stderr
    pids = [int((tmp_path / name).read_text()) for name in ("child", "grandchild")]
    deadline = time.monotonic() + 10
    left = pids
    try:
        while left and time.monotonic() < deadline:
            table = processes()
            left = [pid for pid in pids if pid in table and running((pid, table[pid][2]), table)]
            time.sleep(0.05)
        assert not left, f"still running after pytest exited: {left}"
    finally:
        for pid in left:
            os.kill(pid, signal.SIGKILL)


def test_a_test_ending_in_time_keeps_its_children_and_stops_the_reaper(tmp_path: Path) -> None:
    """Nothing is killed while pytest runs, nor after a run whose test ended in time."""
    run = run_pytest(tmp_path, LATE_TEST)
    pid = int((tmp_path / "child").read_text())
    try:
        assert run.returncode == 0, run.stdout + run.stderr
        table = processes()
        assert pid in table and running((pid, table[pid][2]), table)
        assert not reapers()
    finally:
        os.kill(pid, signal.SIGKILL)
