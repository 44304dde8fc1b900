"""What the node and its tools write is not readable by every user of the machine: the logs
hold password hashes (passwordSet), the data directory the conference key and broker secret
(specs/security.md, "Files")."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from structlog.testing import capture_logs

from cti.app.bootstrap import _warn_if_open


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_dir_and_log_are_closed_to_other_users_whatever_the_umask(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "cti.cli", "users", "--data-dir", str(data), "--init", "list"],
        check=True,
        capture_output=True,
        preexec_fn=lambda: os.umask(0o022),  # the usual one: 0755 directories, 0644 files
    )
    assert mode(data) == 0o750
    assert mode(data / "node1.db") == 0o640
    assert mode(data / "node1.conference-key") == 0o600


def test_a_stricter_umask_stays(tmp_path: Path) -> None:
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "cti.cli", "users", "--data-dir", str(data), "--init", "list"],
        check=True,
        capture_output=True,
        preexec_fn=lambda: os.umask(0o077),
    )
    assert mode(data) == 0o700
    assert mode(data / "node1.db") == 0o600


def test_an_existing_data_dir_open_to_all_is_named_with_the_fix(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    with capture_logs() as logs:
        _warn_if_open(data)
    assert logs == [
        {
            "event": "data_dir.open_to_all_users",
            "log_level": "warning",
            "path": str(data),
            "mode": "0o755",
            "action": f"chmod o-rwx {data.resolve()}",
        }
    ]
    assert mode(data) == 0o755  # told, not changed behind the operator's back
    data.chmod(0o750)
    with capture_logs() as logs:
        _warn_if_open(data)
    assert logs == []
