"""Event versions and upcasters: an old log replays forever.

Every event class has a ``VERSION``. The log stores each event with the version it was written
in; decoding first runs the upcasters from that version up to the class's current one. An
upcaster is a pure function from the stored fields of version ``n`` to those of ``n + 1`` (say,
a renamed field). Changing an event's fields means: raise ``VERSION``, register the upcaster
from the old version, and add a frozen log of the new version under ``tests/frozen/`` (see
specs/versioning.md). A version without its upcaster is refused when the node starts, not when
the first old event is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cti.kernel.messages import Event

Fields = dict[str, Any]
Upcaster = Callable[[Fields], Fields]
UpcasterKey = tuple[str, int]  # (event kind, the version it upgrades from)


class UnknownVersion(ValueError):
    """An event version this software cannot read (newer than it knows, or no upcaster)."""


class Upcasters:
    def __init__(
        self, event_types: Iterable[type[Event]], steps: Mapping[UpcasterKey, Upcaster]
    ) -> None:
        self.current = {cls.KIND: cls.VERSION for cls in event_types}
        self._steps = dict(steps)
        for key in self._steps:
            kind, version = key
            if kind not in self.current or not 1 <= version < self.current[kind]:
                raise UnknownVersion(f"upcaster {kind} v{version} upgrades no known version")
        for kind, current in self.current.items():
            missing = [v for v in range(1, current) if (kind, v) not in self._steps]
            if missing:
                raise UnknownVersion(
                    f"{kind} is at version {current} but has no upcaster from version "
                    f"{missing[0]}: old logs could not be read"
                )

    def upcast(self, kind: str, version: int, fields: Fields) -> Fields:
        """The fields of a ``kind`` event stored at ``version``, as the current class has them."""
        current = self.current.get(kind)
        if current is None:
            raise UnknownVersion(f"unknown event kind {kind!r} in the log")
        if version > current:
            raise UnknownVersion(
                f"{kind} v{version} in the log is newer than this software (v{current}); "
                "use a newer release"
            )
        while version < current:
            fields = self._steps[(kind, version)](fields)
            version += 1
        return fields
