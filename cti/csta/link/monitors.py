"""Monitors of one association: crossRefIdentifier -> (device or call, suppressed events).

A device monitor reports the events of its device; a call monitor (monitorStart on a call
object, ECMA-269's call-type monitor) every event of its call, follows it when a transfer or
conference merges it into another call, and ends with it (after its callCleared). A monitor
the association's account may no longer have is revoked (:mod:`cti.csta.link.rights`): it
ends and its id waits in ``ended`` for the session to tell the application (monitorStop).
MonitorFilter semantics (ECMA-269 12.2.x): a set bit *suppresses* that event class, the empty
filter means every event; changeMonitorFilter replaces it. Cross-reference ids are 4-byte octet
strings, unique per server so a trace of several links never shows the same id for two
monitors. A monitor on a MULAP number follows the group's calls (:mod:`cti.csta.link.mulap`).
"""

from __future__ import annotations

import itertools
from typing import Any, TypeVar

import attrs

from cti.calls import events as ev
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
    device: str | None  # None: a call monitor
    suppressed: frozenset[str]  # event names (ECMA-269) this monitor does not want
    call: int | None = None  # the call of a call monitor

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


K = TypeVar("K")


def _drop(index: dict[K, list[Monitor]], key: K, xref: bytes) -> None:
    remaining = [m for m in index[key] if m.xref != xref]
    if remaining:
        index[key] = remaining
    else:
        del index[key]


class Monitors:
    """The monitors of one association (at most ``limit``); with ``site``, monitors on MULAP
    numbers follow their group's calls (``groups``)."""

    def __init__(self, limit: int = 1000, site: Site | None = None) -> None:
        self.limit = limit
        self._by_xref: dict[bytes, Monitor] = {}
        self._by_device: dict[str, list[Monitor]] = {}
        self._by_call: dict[int, list[Monitor]] = {}
        self.groups = GroupCalls(site) if site is not None else None
        self.ended: list[Monitor] = []  # revoked, the application not told yet (oldest first)

    def __len__(self) -> int:
        return len(self._by_xref)

    def start(
        self,
        device: str,
        monitor_filter: dict[str, Any] | None,
        calls: SwitchState | None = None,
    ) -> Monitor:
        """A new monitor; ``calls`` (the committed state) seeds a MULAP group's calls."""
        monitor = self._add(Monitor(self._xref(), device, suppressed_events(monitor_filter)))
        groups = self.groups
        if groups is not None and calls is not None and GroupCalls.is_group(groups.site, device):
            groups.watch(device, calls)
        return monitor

    def start_call(self, call: int, monitor_filter: dict[str, Any] | None) -> Monitor:
        """A call-type monitor on ``call``: every event of the call until it is cleared."""
        return self._add(Monitor(self._xref(), None, suppressed_events(monitor_filter), call))

    def _xref(self) -> bytes:
        if len(self._by_xref) >= self.limit:
            raise ServiceRefused(
                "subscribedResourceAvailability",
                "objectMonitorLimitExceeded",
                f"at most {self.limit} monitors per association",
            )
        return _new_xref()

    def _add(self, monitor: Monitor) -> Monitor:
        self._by_xref[monitor.xref] = monitor
        if monitor.device is not None:
            self._by_device.setdefault(monitor.device, []).append(monitor)
        if monitor.call is not None:
            self._by_call.setdefault(monitor.call, []).append(monitor)
        return monitor

    def _remove(self, monitor: Monitor) -> None:
        del self._by_xref[monitor.xref]
        if monitor.device is not None:
            _drop(self._by_device, monitor.device, monitor.xref)
        if monitor.call is not None:
            _drop(self._by_call, monitor.call, monitor.xref)

    def stop(self, xref: bytes) -> Monitor:
        monitor = self._get(xref)
        self._remove(monitor)
        _in_use.discard(xref)
        device = monitor.device
        if self.groups is not None and device is not None and device not in self._by_device:
            self.groups.forget(device)  # its last monitor: the group's calls are not needed
        return monitor

    def revoke(self, monitor: Monitor) -> None:
        """End ``monitor`` for want of rights; the session tells the application (``ended``)."""
        if monitor.xref in self._by_xref:  # not twice
            self.stop(monitor.xref)
            self.ended.append(monitor)

    def take_ended(self) -> list[Monitor]:
        """The ids revoked since the last call, oldest first (and forgets them)."""
        ended, self.ended = self.ended, []
        return ended

    def change_filter(self, xref: bytes, monitor_filter: dict[str, Any]) -> Monitor:
        """changeMonitorFilter: the monitor's filter becomes ``monitor_filter`` from now on."""
        monitor = self._get(xref)
        self._remove(monitor)
        return self._add(attrs.evolve(monitor, suppressed=suppressed_events(monitor_filter)))

    def _get(self, xref: bytes) -> Monitor:
        monitor = self._by_xref.get(xref)
        if monitor is None:
            raise ServiceRefused("operation", "invalidMonitorCrossRefID", f"no monitor {xref!r}")
        return monitor

    def clear(self) -> None:
        """End every monitor (the association is gone); their ids become free."""
        for xref in self._by_xref:
            _in_use.discard(xref)
        self._by_xref.clear()
        self._by_device.clear()
        self._by_call.clear()
        self.ended.clear()
        if self.groups is not None:
            self.groups.clear()

    def all(self) -> list[Monitor]:
        return list(self._by_xref.values())

    def on(self, device: str) -> list[Monitor]:
        return self._by_device.get(device, [])

    def on_call(self, call: int) -> list[Monitor]:
        return self._by_call.get(call, [])

    def followed(self, event: ev.Event) -> None:
        """After ``event`` was reported: call monitors follow their call into the call a
        transfer or conference merged it into, and end once it is cleared."""
        if isinstance(event, ev.CallCleared):
            for monitor in list(self.on_call(event.call)):
                self.stop(monitor.xref)
        elif isinstance(event, ev.Transferred | ev.Conferenced):
            merged = event.secondary_call
            if merged is not None and merged != event.call:
                for monitor in list(self.on_call(merged)):
                    self._remove(monitor)
                    self._add(attrs.evolve(monitor, call=event.call))
