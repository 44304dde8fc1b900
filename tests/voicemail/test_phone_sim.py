"""VM-01..VM-03 with phone-sim: the shipped voicemail scenario (a caller speaks a WAV to the
voicemail, the lamp goes on and off, the PIN in the phone menu) against a node with the
example office's accounts, over a real Mosquitto (phones as MQTT clients) and in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from cti.accounts.commands import SeedAccounts
from cti.api.voicemail import AUDIO
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node
from cti.mqtt.client import Endpoint
from cti.mqtt.face.service import MqttFace
from cti.store import SqliteStore
from cti.voicemail.audio_db import AudioStore
from phone_sim import scenario
from phone_sim.link.inprocess import InProcessLink
from phone_sim.link.mqtt import MqttLink
from phone_sim.sim import Simulator
from tests.mqtt import conftest as mqtt
from tests.mqtt.conftest import TESTER, TIMEOUT, Mosquitto, running_broker
from tests.presence.helpers import seeds

SCENARIO = Path(__file__).parents[2] / "phone_sim/scenarios/voicemail/vm-01-03-voicemail.yaml"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    store = SqliteStore(tmp_path / "node1.db")
    node = Node(load_site(), store, ManualClock())
    node.read_models[AUDIO] = AudioStore(tmp_path / "audio")
    engine = Engine(node)
    await engine.start()
    people = tuple(attrs.evolve(s, must_change=False) for s in seeds())
    assert (await engine.execute(SeedAccounts(accounts=(*people, mqtt.tester_seed())))).ok
    yield engine
    await engine.stop()
    store.close()


async def run(sim: Simulator) -> None:
    await sim.start()
    try:
        await scenario.run(sim, scenario.load(SCENARIO))
    finally:
        await sim.close()


async def test_vm_scenario_in_process(engine: Engine) -> None:
    await run(Simulator(InProcessLink(engine), engine.node.clock, timeout=TIMEOUT))
    box = engine.node.state.voicemail.of("331")
    assert (dict(box.messages), box.next_id) == ({}, 2)  # left, played, deleted in the menu
    assert box.pin_hash is not None


async def test_vm_scenario_over_mqtt(engine: Engine, tmp_path: Path) -> None:
    async for broker in running_broker("mosquitto", tmp_path):
        assert isinstance(broker, Mosquitto)
        reader = engine.node.store.sibling()
        face = MqttFace(engine, reader, broker.host, broker.port)
        task = asyncio.create_task(face.run())
        try:
            await asyncio.wait_for(face.connected.wait(), TIMEOUT)
            link = MqttLink(Endpoint(face.host, face.port, TESTER), "node1")
            await run(Simulator(link, engine.node.clock, timeout=TIMEOUT))
        finally:
            await face.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            reader.close()
    assert engine.node.state.voicemail.of("331").next_id == 2


async def test_a_simulator_started_later_shows_the_lamp(engine: Engine) -> None:
    first = Simulator(InProcessLink(engine), engine.node.clock, timeout=TIMEOUT)
    await first.start()
    await first.act("330", "calls", "331")
    await first.act("331", "deflects", "to", "351")
    await first.act("330", "speaks", "2s")
    await first.close()
    later = Simulator(InProcessLink(engine), engine.node.clock, timeout=TIMEOUT)
    await later.start()
    try:
        assert later.phone("331").message_waiting and later.phone("331").new_messages == 1
        assert not later.phone("332").message_waiting
    finally:
        await later.close()
