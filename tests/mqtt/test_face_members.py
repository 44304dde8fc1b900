"""The node's face with several brokers, the members of one cluster (``--mqtt-url A,B``):
a member that cannot be reached is passed over at once, a member that drops the connection
is tried last, and the retained state follows the node to the member it uses (specs/mqtt.md
"A NATS cluster as the broker tier"). Two private Mosquittos stand in for the members: what
is tested is the face's choice, the cluster itself is tests/mqtt/test_nats_cluster.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from cti.app.clock import SystemClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node
from cti.calls import commands as c
from cti.mqtt.broker import free_port
from cti.mqtt.client import Endpoint, parse_urls
from cti.mqtt.face.service import MqttFace
from cti.store import SqliteStore
from cti.tools.request import call
from tests.mqtt.conftest import (
    BASE,
    SEEDED,
    TESTER,
    TESTER_PASSWORD,
    TIMEOUT,
    Broker,
    CtiClient,
    Mosquitto,
    NodeFace,
    seed_tester,
)


@pytest.fixture
async def members(tmp_path: Path) -> AsyncIterator[list[Mosquitto]]:
    started = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        started.append(Mosquitto(tmp_path / name))
        await started[-1].start()
    yield started
    for member in started:
        member.stop()


@contextlib.asynccontextmanager
async def face_for(
    tmp_path: Path, brokers: list[tuple[str, int]]
) -> AsyncIterator[tuple[MqttFace, Engine]]:
    store = SqliteStore(tmp_path / "node1.db")
    reader = store.sibling()
    node = Node(load_site(), store, SystemClock())
    seed_tester(node)
    engine = Engine(node)
    await engine.start()
    (host, port), *more = brokers
    face = MqttFace(engine, reader, host, port, more_brokers=more)
    await face.start()
    try:
        yield face, engine
    finally:
        await asyncio.wait_for(face.stop(), TIMEOUT)
        await engine.stop()
        store.close()


async def connected_to(face: MqttFace, member: Mosquitto) -> None:
    """Until the face is connected to ``member``."""
    async with asyncio.timeout(TIMEOUT):
        while not (face.connected.is_set() and face.port == member.port):
            await asyncio.sleep(0.01)  # polling a condition, bounded: not a timing sleep


def test_the_members_come_from_one_comma_separated_url() -> None:
    assert parse_urls("mqtt://b1:1883, mqtt://b2 ,tcp://b3:1884") == [
        ("b1", 1883),
        ("b2", 1883),
        ("b3", 1884),
    ]
    for bad in ("mqtt://b1:1883,", "mqtt://b1,http://b2", ""):
        with pytest.raises(ValueError, match="--mqtt-url"):
            parse_urls(bad)


@pytest.mark.parametrize("parse", [parse_urls, Endpoint.from_url])
def test_the_node_and_the_tools_refuse_the_same_urls_clearly(
    parse: Callable[[str], object],
) -> None:
    """One parser for both (``cti serve`` and the tools' ``--mqtt-url``)."""
    for bad in ("mqtt://b1:1883,", "mqtt://b1:port", "mqtt://b1:70000", "mqtt://:1883", "b1:1883"):
        with pytest.raises(ValueError, match="--mqtt-url must look like mqtt://HOST:PORT"):
            parse(bad)
    # A password in the URL would show in `ps`; the error never quotes it.
    with pytest.raises(ValueError, match="no user or password") as info:
        parse("mqtt://b1:1883,http://330:Secret-1@b2")
    assert "Secret-1" not in str(info.value)


async def test_an_unreachable_member_is_passed_over_at_once(
    tmp_path: Path, members: list[Mosquitto]
) -> None:
    dead = free_port()  # nothing listens there
    with capture_logs() as logs:
        async with face_for(tmp_path, [("127.0.0.1", dead), ("127.0.0.1", members[0].port)]) as (
            face,
            _,
        ):
            await connected_to(face, members[0])
    failed = [e for e in logs if e["event"] == "mqtt.connect_failed"]
    assert [e["broker"] for e in failed] == [f"127.0.0.1:{dead}"]
    assert "retry_in" not in failed[0]  # no back-off: another member was left to try


async def test_the_face_moves_to_the_next_member_and_back(
    tmp_path: Path, members: list[Mosquitto]
) -> None:
    """The member in use dies: the face reconnects to the other one by itself, publishes
    there what was committed meanwhile and the retained states; that one dies after the
    first came back: the face returns to the first (CALL-01 events, CALL-11 states)."""
    a, b = members
    async with face_for(tmp_path, [("127.0.0.1", a.port), ("127.0.0.1", b.port)]) as (face, engine):
        await connected_to(face, a)
        a.kill()
        assert (await engine.execute(c.MakeCall(calling="330", called="331"))).ok
        await connected_to(face, b)
        async with CtiClient(b.host, b.port, filters=[f"{BASE}/devices/331/state"]) as ui:
            # The face publishes there what it had published (the retained states as of
            # seq SEEDED), then what was committed meanwhile: a UI quick enough sees the
            # older state first, with its seq, and then the new one.
            state = await ui.wait_for(f"{BASE}/devices/331/state", lambda doc: doc["seq"] > SEEDED)
            assert (state["seq"], state["summary"]) == (SEEDED + 3, "incoming-internal")
        await a.start()
        b.kill()
        await connected_to(face, a)
        async with CtiClient(a.host, a.port, filters=[f"{BASE}/status"]) as ui:
            status = await ui.wait_for(f"{BASE}/status")
            assert status["state"] == "online"


def test_the_tools_take_the_members_of_a_broker_cluster() -> None:
    """``cti request`` and ``phone-sim``: ``--mqtt-url`` with several members."""
    broker = Endpoint.from_url("mqtt://b1:1883,mqtt://b2", username="330", password="x")
    assert broker.members == [("b1", 1883), ("b2", 1883)]
    assert [broker.member(i).members for i in (0, 1, 2)] == [
        [("b1", 1883)],
        [("b2", 1883)],
        [("b1", 1883)],
    ]
    assert broker.member(1).username == "330"
    with pytest.raises(ValueError, match="share a scheme"):
        Endpoint.from_url("mqtt://b1:1883,mqtts://b2:8883")
    with pytest.raises(ValueError, match="--mqtt-url must look like"):
        Endpoint.from_url("mqtt://b1:1883,")


async def test_cti_request_passes_over_an_unreachable_member(
    broker: Broker, node_face: NodeFace
) -> None:
    dead = free_port()
    where = Endpoint.from_url(
        f"mqtt://127.0.0.1:{dead},{broker.url}", username=TESTER, password=TESTER_PASSWORD
    )
    reply = await call(where, "node1", "snapshotDevice", {"device": "330"})
    assert reply["ok"] is True and reply["result"] == []  # 330 is idle
