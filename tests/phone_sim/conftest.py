"""Fixtures of the phone simulator tests: a node on a manual clock with its MQTT face on a
private mosquitto, and simulators attached to it in-process or over MQTT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from cti.accounts.commands import SeedAccounts
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node
from cti.mqtt.client import Endpoint
from cti.mqtt.face.service import MqttFace
from cti.store import SqliteStore
from phone_sim.link.inprocess import InProcessLink
from phone_sim.link.mqtt import MqttLink
from phone_sim.sim import Simulator
from tests.mqtt.conftest import (  # noqa: F401  (fixtures)
    TESTER,
    TIMEOUT,
    Mosquitto,
    running_broker,
    servers,
    tester_seed,
)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Mosquitto]:
    """Mosquitto only: phone-sim takes a device state as the sign that the events before it
    have arrived, which holds where the broker keeps the order between topics (Mosquitto)
    but not on NATS, whose MQTT subscriptions are separate JetStream consumers
    (specs/mqtt.md, "MQTT 3.1.1 brokers")."""
    async for server in running_broker("mosquitto", tmp_path):
        assert isinstance(server, Mosquitto)
        yield server


@attrs.define
class Office:
    """A running node and the simulated phones attached to it."""

    clock: ManualClock
    engine: Engine
    sim: Simulator

    async def advance(self, seconds: float) -> None:
        """Move switch time; timers fire and trunk parties react on their own."""
        self.clock.advance(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Engine, ManualClock]]:
    clock = ManualClock()
    store = SqliteStore(tmp_path / "node1.db")
    engine = Engine(Node(load_site(), store, clock))
    await engine.start()
    yield engine, clock
    await engine.stop()
    store.close()


@pytest.fixture
async def face(
    node: tuple[Engine, ManualClock],
    broker: Mosquitto,
    tmp_path: Path,
) -> AsyncIterator[MqttFace]:
    engine, _ = node
    # Phones over MQTT sign in as the tests' integrator (specs/security.md).
    assert (await engine.execute(SeedAccounts(accounts=(tester_seed(),)))).ok
    reader = engine.node.store.sibling()
    face = MqttFace(engine, reader, broker.host, broker.port)
    task = asyncio.create_task(face.run())
    await asyncio.wait_for(face.connected.wait(), TIMEOUT)
    yield face
    await face.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    reader.close()


async def _attach(link: InProcessLink | MqttLink, engine: Engine, clock: ManualClock) -> Office:
    sim = Simulator(link, clock, timeout=TIMEOUT)
    await sim.start()
    return Office(clock, engine, sim)


@pytest.fixture
async def mqtt_office(node: tuple[Engine, ManualClock], face: MqttFace) -> AsyncIterator[Office]:
    """Phones as MQTT clients of the private broker, like ``phone-sim`` against ``cti serve``."""
    engine, clock = node
    site = await _attach(MqttLink(Endpoint(face.host, face.port, TESTER), "node1"), engine, clock)
    yield site
    await site.sim.close()


@pytest.fixture
async def local_office(node: tuple[Engine, ManualClock]) -> AsyncIterator[Office]:
    """Phones in the node's process (the Python API for tests)."""
    engine, clock = node
    site = await _attach(InProcessLink(engine), engine, clock)
    yield site
    await site.sim.close()
