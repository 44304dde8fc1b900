"""The node's metrics in the Prometheus text format (prometheus-client).

Counters and the commit histogram are fed by the writer (:class:`NodeMetrics` is the engine's
:class:`~cti.app.engine.Observer`); gauges (outbox lag, broker connection, CSTA associations,
free disk, parts up) are read from the running parts at each scrape, so they are never stale.
Labels are service, refusal, part and follower names only: never an account, a password or a
caller's number (a scrape must not leak what the node's ACLs protect).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from cti.app.node import Accepted, Outcome
from cti.kernel.messages import Command
from cti.ops.health import Probe
from cti.store import StoreError

# An fsync on a good SSD takes ~0.1-2 ms, on a busy or network disk tens of ms.
COMMIT_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def service_of(command: Command) -> str:
    """A command's service name; internal commands (timers, seeding) by their class."""
    return command.SERVICE or type(command).__name__


class NodeMetrics:
    """One node's metrics, in a registry of its own (not the process-wide default one: tests
    run several nodes in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.accepted = Counter(
            "cti_commands_accepted", "Commands accepted, by service", ["service"], registry=r
        )
        self.refused = Counter(
            "cti_commands_refused",
            "Commands refused, by service and refusal name",
            ["service", "refusal"],
            registry=r,
        )
        self.events = Counter(
            "cti_events_committed",
            "Events made durable in the log (rate() gives events per second)",
            registry=r,
        )
        self.commit_seconds = Histogram(
            "cti_commit_duration_seconds",
            "Time to make one batch of events durable (append and fsync)",
            buckets=COMMIT_BUCKETS,
            registry=r,
        )
        self.store_failures = Counter(
            "cti_store_append_failures", "Batches the log refused to store", registry=r
        )
        # The process's memory, CPU and open files (Linux /proc): what soak runs watch.
        ProcessCollector(registry=r)
        self.store_error: str | None = None  # the last append's failure (None: it worked)

    # -- the engine's observer ------------------------------------------------------------
    def committed(self, events: int, seconds: float, failure: StoreError | None) -> None:
        if failure is not None:
            self.store_failures.inc()
            self.store_error = type(failure).__name__
            return
        self.store_error = None
        self.events.inc(events)
        self.commit_seconds.observe(seconds)

    def answered(self, command: Command, outcome: Outcome) -> None:
        if isinstance(outcome, Accepted):
            self.accepted.labels(service_of(command)).inc()
        else:
            self.refused.labels(service_of(command), outcome.error.name).inc()

    # -- the scrape -----------------------------------------------------------------------
    def watch(self, probe: Probe) -> None:
        """Read the running parts at each scrape from now on."""
        self.registry.register(_Gauges(probe))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Gauges(Collector):
    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    def collect(self) -> Iterator[Metric]:
        probe = self.probe
        lag = probe.outbox_lag()
        yield GaugeMetricFamily(
            "cti_outbox_lag_events",
            "Committed events the broker has not acknowledged yet",
            value=lag.events,
        )
        yield GaugeMetricFamily(
            "cti_outbox_lag_seconds",
            "Age of the oldest committed event the broker has not acknowledged",
            value=lag.seconds,
        )
        yield GaugeMetricFamily(
            "cti_log_seq", "The last committed seq of the log", value=probe.node.feed.last_seq
        )
        yield GaugeMetricFamily(
            "cti_mqtt_connected",
            "1 while the node is connected to its MQTT broker",
            value=int(probe.mqtt.connected.is_set()),
        )
        csta = probe.csta
        yield GaugeMetricFamily(
            "cti_csta_associations",
            "CSTA links with an association up",
            value=csta.associations if csta is not None else 0,
        )
        yield GaugeMetricFamily(
            "cti_csta_connections",
            "TCP connections to the CSTA link (associated or not)",
            value=len(csta.sessions) if csta is not None else 0,
        )
        up = GaugeMetricFamily("cti_part_up", "1 if the part is up (see /healthz)", labels=["part"])
        for part in probe.parts():
            up.add_metric([part.name], int(part.up))
        yield up
        restarts = CounterMetricFamily(
            "cti_follower_failures",
            "Failures of a supervised task since the start (it restarts after each)",
            labels=["follower"],
        )
        for name, health in probe.followers:
            restarts.add_metric([name], health.failures)
        yield restarts
        disk = probe.disk.check()
        if disk is not None:
            yield GaugeMetricFamily(
                "cti_disk_free_bytes",
                "Free space of the data directory's filesystem",
                value=disk.free,
            )
            yield GaugeMetricFamily(
                "cti_disk_low_threshold_bytes",
                "Free space below which the disk counts as low",
                value=disk.threshold,
            )
            yield GaugeMetricFamily(
                "cti_disk_low", "1 while free space is below the threshold", value=int(disk.low)
            )
