"""The free-space watch of the data directory: warn before the disk fills.

A full disk makes the log refuse every write (commands are answered ``resourceOutOfService``);
that must never be the first sign. The watch looks at the free space every few seconds and,
when it falls below the threshold, logs ``disk.low`` once per episode, and says so in
``/healthz``, the metrics and the retained status document (``diskLow``).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import attrs
import structlog

from cti.app.follower import FollowerHealth, supervised
from cti.ops.threshold import DiskThreshold

log = structlog.get_logger(__name__)
INTERVAL = 10.0  # seconds between looks: the log grows ~70 KB/s at 50 calls/s
RECOVERY = 1.1  # back to normal only 10 % above the threshold, so a disk at the edge


# does not log an episode per look
@attrs.frozen
class DiskUsage:
    total: int
    free: int  # what an unprivileged writer may still use (statvfs f_bavail)


def disk_usage(path: Path) -> DiskUsage:
    usage = shutil.disk_usage(path)
    return DiskUsage(total=usage.total, free=usage.free)


@attrs.frozen
class DiskState:
    path: Path
    total: int
    free: int
    threshold: int  # bytes
    low: bool


class DiskWatch:
    """Looks at the free space of ``path`` every ``interval`` seconds (a Face: supervised,
    started and stopped with the node). ``usage`` is injectable for tests."""

    name = "disk-watch"

    def __init__(
        self,
        path: Path,
        threshold: DiskThreshold,
        *,
        usage: Callable[[Path], DiskUsage] = disk_usage,
        interval: float = INTERVAL,
    ) -> None:
        self.path, self.threshold, self.usage, self.interval = path, threshold, usage, interval
        self.low = False
        self.last: DiskState | None = None
        self.health = FollowerHealth()
        self._failing = False  # the free space cannot be read (logged once)
        self._task: asyncio.Task[None] | None = None

    def check(self) -> DiskState | None:
        """Look now; logs the start and the end of a low-space episode (once each)."""
        try:
            usage = self.usage(self.path)
        except OSError as exc:
            if not self._failing:
                log.error("disk.unreadable", path=str(self.path), error=str(exc))
                self._failing = True
            return self.last
        self._failing = False
        limit = self.threshold.limit(usage.total)
        if not self.low and usage.free < limit:
            self.low = True
            log.warning(
                "disk.low",
                path=str(self.path),
                free_bytes=usage.free,
                threshold_bytes=limit,
                threshold=str(self.threshold),
            )
        elif self.low and usage.free >= limit * RECOVERY:
            self.low = False
            log.info("disk.ok", path=str(self.path), free_bytes=usage.free)
        self.last = DiskState(self.path, usage.total, usage.free, limit, self.low)
        return self.last

    def status_fields(self) -> dict[str, bool]:
        """The retained status document's share (cti/api/documents.py StatusDoc)."""
        return {"diskLow": self.low}

    async def start(self) -> None:
        self.check()  # a node started on a nearly full disk says so at once
        self._task = asyncio.create_task(
            supervised(self.name, self._run, health=self.health), name=self.name
        )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.check()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
