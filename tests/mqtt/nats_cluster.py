"""A private 3-node nats-server cluster as the broker tier: JetStream clustered over
``cluster { routes }``, an MQTT listener on every member whose ``$MQTT_`` streams and
consumers keep 3 replicas, so the loss of one member loses no message it acknowledged.
The configuration is deploy/nats-broker.conf (specs/mqtt.md "A NATS cluster as the broker
tier"), with loopback ports and the stores in the test's directory.

Nothing here sleeps for timing: every wait is for a condition, bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.mqtt.broker import free_port, wait_listening
from cti.mqtt.client import MqttClient

# Seconds a cluster may take to elect its JetStream meta leader and make streams, or new
# leaders after a member's death: seconds alone, but a full test run on two cores once took
# longer than 30.
READY = 60.0


DEPLOYED = Path(__file__).resolve().parents[2] / "deploy" / "nats-broker.conf"


def member_config(name: str, ports: dict[str, dict[str, int]], store: Path) -> str:
    """deploy/nats-broker.conf for member ``name`` of ``ports`` (its own ports and the
    others' route ports), on loopback, its store in ``store``: the same settings."""
    text = DEPLOYED.read_text()
    own = ports[name]
    for deployed, here in (
        ('server_name: "broker1"', f'server_name: "{name}"'),
        ("0.0.0.0:4222", f"127.0.0.1:{own['client']}"),
        ("0.0.0.0:6222", f"127.0.0.1:{own['route']}"),
        ("0.0.0.0:1883", f"127.0.0.1:{own['mqtt']}"),
        ("127.0.0.1:8222", f"127.0.0.1:{own['http']}"),
        ('"/var/lib/nats"', json.dumps(str(store))),
        *(
            (f"broker{i}.example:6222", f"127.0.0.1:{ports[f'broker{i}']['route']}")
            for i in (1, 2, 3)
        ),
    ):
        assert deployed in text, f"{DEPLOYED} changed: no {deployed!r}"
        text = text.replace(deployed, here)
    return text


class Member:
    """One nats-server of the cluster; ``kill`` (SIGKILL) keeps its store, as a crashed
    machine would."""

    def __init__(self, workdir: Path, name: str, ports: dict[str, dict[str, int]]) -> None:
        self.name, self.host = name, "127.0.0.1"
        self.port, self.http = ports[name]["mqtt"], ports[name]["http"]
        self.conf = workdir / f"{name}.conf"
        self.conf.write_text(member_config(name, ports, workdir / name))
        self.log = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, binary: str) -> None:
        assert self.proc is None, "already running"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([binary, "-c", str(self.conf)], stdout=out, stderr=out)

    async def listening(self) -> None:
        """Until its MQTT port takes connections; MemberExited (with its log's end) if it
        exited instead: a port that free_port picked was taken meanwhile by another process."""
        deadline = asyncio.get_running_loop().time() + READY
        while True:
            assert self.proc is not None, "not started"
            if self.proc.poll() is not None:
                self.proc = None
                tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
                raise MemberExited(f"{self.name} exited: " + " | ".join(tail))
            with contextlib.suppress(TimeoutError):
                await wait_listening(self.host, self.port, timeout=0.5)
                return
            assert asyncio.get_running_loop().time() < deadline, f"{self.name} not listening"

    def kill(self) -> None:
        """SIGKILL: no goodbye to the cluster; every MQTT connection to it drops."""
        assert self.proc is not None, "not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def jsz(self, query: str = "") -> dict[str, Any]:
        """The member's JetStream report (its monitoring port's ``/jsz``)."""
        url = f"http://{self.host}:{self.http}/jsz{query}"
        with urllib.request.urlopen(url, timeout=2) as reply:
            doc = json.loads(reply.read())
        assert isinstance(doc, dict)
        return doc


class NatsCluster:
    """Three members broker1, broker2, broker3 (``members``), each with an MQTT listener."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not os.access(binary, os.X_OK):  # a missing broker fails the suite, never skips it
            pytest.fail("nats-server is not installed: apt-get install -y nats-server")
        self.binary = binary
        names = ("broker1", "broker2", "broker3")
        ports = {n: {k: free_port() for k in ("client", "route", "mqtt", "http")} for n in names}
        self.members = [Member(workdir, n, ports) for n in names]

    @property
    def urls(self) -> str:
        """The ``--mqtt-url`` of a node using the cluster: every member, comma-separated."""
        return ",".join(m.url for m in self.members)

    async def start(self) -> None:
        for member in self.members:
            member.start(self.binary)
        for member in self.members:
            await member.listening()
        await self.ready()

    @property
    def running(self) -> list[Member]:
        return [m for m in self.members if m.proc is not None]

    async def ready(self) -> None:
        """Until every running member takes an MQTT connection (the first one creates the
        account's replicated ``$MQTT_`` streams) and agrees that the JetStream meta group,
        each ``$MQTT_`` stream and each subscription's consumer have a leader among the
        running members. After a member's death NATS elects new leaders within seconds;
        until then a QoS 1 publish to a surviving member may time out (specs/mqtt.md)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY
        missing = "no answer yet"
        while True:
            try:
                found = await self._leaders_running()
                if found is None:
                    return
                missing = found
            except (OSError, TimeoutError, ValueError) as exc:
                missing = f"not up yet: {exc!r}"  # asked again below
            assert loop.time() < deadline, f"no JetStream leaders in {READY} s: {missing}"
            # Polling a condition, bounded: not a timing sleep. Each poll connects a probe to
            # every member, which is work for the cluster electing leaders: not too often.
            await asyncio.sleep(0.5)

    async def _leaders_running(self) -> str | None:
        """None when every group has a leader among the running members, else what lacks one."""
        names = {m.name for m in self.running}
        for member in self.running:
            probe = MqttClient(member.host, member.port, f"probe-{member.name}")
            await probe.connect(timeout=5)
            await probe.disconnect()
        for member in self.running:
            doc = await asyncio.to_thread(member.jsz, "?accounts=true&streams=true&consumers=true")
            meta = doc.get("meta_cluster")
            if not isinstance(meta, dict) or meta.get("leader") not in names:
                return f"{member.name}: meta leader {meta and meta.get('leader')!r}"
            details = doc.get("account_details") or []
            streams = [s for a in details for s in a.get("stream_detail") or []]
            if {s["name"] for s in streams} < {"$MQTT_sess", "$MQTT_msgs", "$MQTT_rmsgs"}:
                return f"{member.name}: streams {sorted(s['name'] for s in streams)}"
            groups = [s for s in streams] + [
                c
                for s in streams
                if s["name"] == "$MQTT_msgs"
                for c in s.get("consumer_detail") or []
            ]
            for g in groups:
                leader = g.get("cluster", {}).get("leader")
                if leader not in names:
                    return f"{member.name}: {g.get('name')!r} has leader {leader!r}"
        return None

    def stop(self) -> None:
        for member in self.members:
            if member.proc is not None:
                member.proc.kill()
                member.proc.wait(10)
                member.proc = None


class MemberExited(Exception):
    """A member ended right after its start (its ports are picked free, then bound by it)."""


async def running_cluster(tmp_path: Path) -> AsyncIterator[NatsCluster]:
    """A started cluster; new ports and a new start (three at most) when a member exited
    at its start: another process took one of its ports between free_port and its bind."""
    for attempt in range(3):
        workdir = tmp_path / f"nats-cluster-{attempt}"
        workdir.mkdir()
        cluster = NatsCluster(workdir)
        try:
            await cluster.start()
        except MemberExited:
            cluster.stop()
            if attempt == 2:
                raise
            continue
        except BaseException:
            cluster.stop()
            raise
        break
    try:
        yield cluster
    finally:
        cluster.stop()
