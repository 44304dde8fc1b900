"""The free-disk watch: the threshold's forms, and ``disk.low`` logged once per episode (the
free space is injected: no disk is filled)."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cti.ops.disk import DiskUsage, DiskWatch
from cti.ops.threshold import DiskThreshold

GiB = 2**30


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("1GiB", GiB),
        ("500MB", 500 * 10**6),
        ("2 gib", 2 * GiB),
        ("1073741824", GiB),
        ("1.5GiB", int(1.5 * GiB)),
        ("5%", 5 * GiB),  # of a 100 GiB filesystem
        ("0", 0),
    ],
)
def test_thresholds_in_bytes_or_percent(text: str, limit: int) -> None:
    assert DiskThreshold.parse(text).limit(100 * GiB) == limit


@pytest.mark.parametrize("text", ["", "5x", "GiB", "-1GiB", "100%", "five%"])
def test_bad_thresholds_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match=r"size like 1GiB|percentage"):
        DiskThreshold.parse(text)


def test_low_disk_is_logged_once_per_episode() -> None:
    free = [10 * GiB]
    watch = DiskWatch(
        Path("data"), DiskThreshold(), usage=lambda _: DiskUsage(total=100 * GiB, free=free[0])
    )
    with capture_logs() as logs:
        assert watch.check() is not None and not watch.low
        free[0] = GiB - 1
        for _ in range(3):
            state = watch.check()
            assert state is not None and state.low and state.threshold == GiB
        free[0] = GiB + 1  # above the threshold, not yet 10 % above: no flapping
        assert watch.check() is not None and watch.low
        free[0] = 2 * GiB
        assert watch.check() is not None and not watch.low
        free[0] = 1
        watch.check()
    events = [e["event"] for e in logs]
    assert events == ["disk.low", "disk.ok", "disk.low"]
    assert logs[0]["free_bytes"] == GiB - 1 and logs[0]["threshold_bytes"] == GiB
    assert watch.status_fields() == {"diskLow": True}


def test_an_unreadable_disk_is_logged_once_and_keeps_the_last_state() -> None:
    def broken(_: Path) -> DiskUsage:
        raise OSError("stale NFS handle")

    watch = DiskWatch(Path("data"), DiskThreshold(), usage=broken)
    with capture_logs() as logs:
        assert watch.check() is None
        assert watch.check() is None
    assert [e["event"] for e in logs] == ["disk.unreadable"]
