"""``/healthz``: each part of the running node up or down, and how far MQTT lags behind the log.

A part is *required* when the node is configured to run it; the node is healthy (HTTP 200)
when every required part is up, else 503 and ``down`` names the parts that are not. The free
disk is a warning here, not a failure: a restart would not free any space, and the node keeps
serving until the log refuses a write (then ``store`` is down).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import attrs

from cti.app.engine import Engine
from cti.app.follower import FollowerHealth
from cti.app.node import Node
from cti.csta.link.server import CstaServer
from cti.mqtt.face.service import MqttFace
from cti.ops.disk import DiskWatch


class StandbyDoc(Protocol):
    def doc(self) -> dict[str, Any]: ...


@attrs.frozen
class StandbyProbe:
    """/healthz of a hot standby (cti/app/standby.py): healthy (200) as long as it follows
    the log, with ``"status": "standby"``; 503 while its database does not answer."""

    standby: StandbyDoc


class StoreHealth(Protocol):
    """Whether the log took the last batch (the engine's observer knows)."""

    store_error: str | None


class LeaseHealth(Protocol):
    """Why the writer's lease on its PostgreSQL log is unknown, while it is (LeaseWatch)."""

    error: str | None


@attrs.frozen
class Part:
    name: str
    up: bool
    required: bool = True
    detail: dict[str, Any] = attrs.field(factory=dict)

    def doc(self) -> dict[str, Any]:
        return {"up": self.up, "required": self.required, **self.detail}


@attrs.frozen
class Lag:
    events: int
    seconds: float


@attrs.define
class Probe:
    """The running node's parts, as /healthz and /metrics read them (on the event loop)."""

    node: Node
    engine: Engine
    store: StoreHealth
    mqtt: MqttFace
    csta: CstaServer | None
    csta_wanted: bool  # configured to listen (not disabled by port 0)
    followers: Sequence[tuple[str, FollowerHealth]]
    disk: DiskWatch
    lease: LeaseHealth | None = None  # PostgreSQL: the store is down while it is unknown

    def outbox_lag(self) -> Lag:
        """Events committed but not yet acknowledged by the broker, and the age of the oldest."""
        acked = self.mqtt.outbox.acked
        last = self.node.feed.last_seq
        if last <= acked:
            return Lag(0, 0.0)
        oldest = self.node.feed.read(acked + 1, 1)
        if oldest is None:  # older than the in-memory tail: the outbox's own connection
            records = self.mqtt.outbox.store.read(acked + 1, 1)
            ts_ms = records[0].ts_ms if records else None
        else:
            ts_ms = oldest[0].ts_ms if oldest else None
        if ts_ms is None:
            return Lag(last - acked, 0.0)
        age = max(0, self.node.clock.now_ms() - ts_ms) / 1000
        return Lag(last - acked, age)

    def parts(self) -> list[Part]:
        engine = self.engine
        # A refused batch, or a lease the database does not confirm (it does not answer:
        # the node's next write would fail, and it stops after LEASE_TIMEOUT).
        store_error = self.store.store_error
        if store_error is None and self.lease is not None:
            store_error = self.lease.error
        parts = [
            Part("engine", engine.running, detail={"seq": self.node.state.seq}),
            Part(
                "store",
                store_error is None,
                detail={"error": store_error} if store_error else {},
            ),
            Part(
                "mqtt",
                self.mqtt.connected.is_set(),
                detail={"broker": f"{self.mqtt.host}:{self.mqtt.port}"},
            ),
        ]
        if self.csta is not None:
            host, port = self.csta.address if self.csta.listening else ("", 0)
            parts.append(
                Part(
                    "csta",
                    self.csta.listening,
                    detail={
                        "address": f"{host}:{port}",
                        "associations": self.csta.associations,
                    },
                )
            )
        else:
            # Not running: disabled on purpose (not required), or its port was taken at start.
            parts.append(Part("csta", False, required=self.csta_wanted))
        for name, health in self.followers:
            detail: dict[str, Any] = {"failures": health.failures}
            if health.last_error is not None:
                detail["lastError"] = health.last_error
            if health.position is not None:
                detail["position"] = health.position
                detail["lag"] = max(0, self.node.feed.last_seq - health.position)
            parts.append(Part(name, health.up, detail=detail))
        return parts


def report(probe: Probe | StandbyProbe) -> tuple[bool, dict[str, Any]]:
    """(healthy, the /healthz document)."""
    if isinstance(probe, StandbyProbe):
        standby = probe.standby.doc()
        return "error" not in standby, standby
    parts = probe.parts()
    down = [p.name for p in parts if p.required and not p.up]
    lag = probe.outbox_lag()
    doc: dict[str, Any] = {
        "status": "down" if down else "up",
        "node": probe.node.site.node,
        "down": down,
        "parts": {p.name: p.doc() for p in parts},
        "outbox": {
            "acked": probe.mqtt.outbox.acked,
            "lagEvents": lag.events,
            "lagSeconds": round(lag.seconds, 3),
        },
    }
    disk = probe.disk.check()
    if disk is not None:
        doc["disk"] = {
            "path": str(disk.path),
            "freeBytes": disk.free,
            "totalBytes": disk.total,
            "thresholdBytes": disk.threshold,
            "low": disk.low,
        }
    return not down, doc
