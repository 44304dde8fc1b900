"""Device monitors of one association: crossRefIdentifier -> (device, suppressed events).

MonitorFilter semantics (ECMA-269 12.2.x): a set bit *suppresses* that event class, the empty
filter means every event. Cross-reference ids are 4-byte octet strings, unique per server so a
trace of several links never shows the same id for two monitors. A monitor on a MULAP number
follows the group's calls (:mod:`cti.csta.link.mulap`).
"""

from __future__ import annotations

import itertools
from typing import Any

import attrs

from cti.calls.state import SwitchState
from cti.csta.codec import bit_names
from cti.csta.link.mulap import GroupCalls
from cti.csta.refusals import ServiceRefused
from cti.site.model import Site

# MonitorFilter fields that name events we can emit, with their BIT STRING type.
FILTER_FIELDS = (
    ("callControl", "CallControlEvents"),
    ("logicalDeviceFeature", "LogicalDeviceFeatureEvents"),
)
_next_xref = itertools.count(1)
_in_use: set[bytes] = set()  # crossRefIdentifiers of every live monitor of this process


def _new_xref() -> bytes:
    """The next 4-byte crossRefIdentifier: never 0, never one still in use (after a wrap)."""
    while True:
        value = next(_next_xref) % 2**32
        xref = value.to_bytes(4, "big")
        if value and xref not in _in_use:
            _in_use.add(xref)
            return xref


@attrs.frozen
class Monitor:
    xref: bytes
    device: str
    suppressed: frozenset[str]  # event names (ECMA-269) this monitor does not want

    def wants(self, event: str) -> bool:
        return event not in self.suppressed


def suppressed_events(monitor_filter: dict[str, Any] | None) -> frozenset[str]:
    if not monitor_filter:
        return frozenset()
    names: set[str] = set()
    for field, type_name in FILTER_FIELDS:
        value = monitor_filter.get(field)
        if value is not None:
            names |= bit_names(value, type_name)
    return frozenset(names)


class Monitors:
    """The monitors of one association (at most ``limit``); with ``site``, monitors on MULAP
    numbers follow their group's calls (``groups``)."""

    def __init__(self, limit: int = 1000, site: Site | None = None) -> None:
        self.limit = limit
        self._by_xref: dict[bytes, Monitor] = {}
        self._by_device: dict[str, list[Monitor]] = {}
        self.groups = GroupCalls(site) if site is not None else None

    def __len__(self) -> int:
        return len(self._by_xref)

    def start(
        self,
        device: str,
        monitor_filter: dict[str, Any] | None,
        calls: SwitchState | None = None,
    ) -> Monitor:
        """A new monitor; ``calls`` (the committed state) seeds a MULAP group's calls."""
        if len(self._by_xref) >= self.limit:
            raise ServiceRefused(
                "subscribedResourceAvailability",
                "objectMonitorLimitExceeded",
                f"at most {self.limit} monitors per association",
            )
        xref = _new_xref()
        monitor = Monitor(xref, device, suppressed_events(monitor_filter))
        self._by_xref[xref] = monitor
        self._by_device.setdefault(device, []).append(monitor)
        groups = self.groups
        if groups is not None and calls is not None and GroupCalls.is_group(groups.site, device):
            groups.watch(device, calls)
        return monitor

    def stop(self, xref: bytes) -> Monitor:
        monitor = self._by_xref.pop(xref, None)
        if monitor is None:
            raise ServiceRefused("operation", "invalidMonitorCrossRefID", f"no monitor {xref!r}")
        remaining = [m for m in self._by_device[monitor.device] if m.xref != xref]
        if remaining:
            self._by_device[monitor.device] = remaining
        else:
            del self._by_device[monitor.device]
            if self.groups is not None:
                self.groups.forget(monitor.device)
        _in_use.discard(xref)
        return monitor

    def clear(self) -> None:
        """End every monitor (the association is gone); their ids become free."""
        for xref in self._by_xref:
            _in_use.discard(xref)
        self._by_xref.clear()
        self._by_device.clear()
        if self.groups is not None:
            self.groups.clear()

    def on(self, device: str) -> list[Monitor]:
        return self._by_device.get(device, [])
