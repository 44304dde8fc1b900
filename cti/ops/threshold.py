"""The free-space threshold of the data directory (``--disk-low``, ``CTI_DISK_LOW``): a module
of its own, light to import, because the command line parses it before anything starts."""

from __future__ import annotations

import re

import attrs

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


@attrs.frozen
class DiskThreshold:
    """Free space below which the disk counts as low: bytes, or a percentage of the
    filesystem's size (``1GiB``, ``500MB``, ``5%``)."""

    bytes: int | None = 2**30
    percent: float | None = None

    @classmethod
    def parse(cls, text: str) -> DiskThreshold:
        """Raises ValueError with a message for a person."""
        value = text.strip()
        if value.endswith("%"):
            try:
                percent = float(value[:-1])
            except ValueError:
                raise ValueError(f"{text!r} is not a percentage like 5%") from None
            if not 0 <= percent < 100:
                raise ValueError(f"{text!r}: a percentage from 0 to 99")
            return cls(bytes=None, percent=percent)
        match = _SIZE.match(value)
        unit = _UNITS.get(match.group(2).lower()) if match else None
        if match is None or unit is None:
            raise ValueError(f"{text!r} is not a size like 1GiB, 500MB or 5%")
        return cls(bytes=int(float(match.group(1)) * unit), percent=None)

    def limit(self, total: int) -> int:
        if self.percent is not None:
            return int(total * self.percent / 100)
        return self.bytes or 0

    def __str__(self) -> str:
        return f"{self.percent:g}%" if self.percent is not None else f"{self.bytes} bytes"
