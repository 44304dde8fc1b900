"""`cti serve --broker embedded` (a mosquitto child), and the node on MQTT 3.1.1 (reply
address in the payload) for brokers without MQTT 5; no broker without mosquitto."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path

import aiomqtt
import pytest

from cti.app.clock import SystemClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node
from cti.mqtt.broker import BrokerUnavailable, EmbeddedBroker
from cti.mqtt.face.service import MqttFace
from cti.store import SqliteStore
from tests.mqtt.conftest import (
    BASE,
    SEEDED,
    TESTER_PASSWORD,
    TIMEOUT,
    CtiClient,
    Mosquitto,
    Server,
    retained_states,
    seed_tester,
    site_with_tester,
)

BROKER_LINE = re.compile(r"MQTT broker\s+mqtt://127\.0\.0\.1:(\d+)\b")


async def refused(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return True
    writer.close()
    return False


async def test_serve_with_embedded_broker_names_its_url_and_places_calls(
    broker: Mosquitto, tmp_path: Path, servers: list[Server]
) -> None:
    """CALL-01, CALL-03: asked for any free port (0), the console names the embedded broker's
    URL; a client places and answers a call through it; SIGTERM stops node and broker."""
    site = site_with_tester(tmp_path)
    server = Server(
        *("--broker", "embedded", "--broker-port", "0", "--tls-port", "0"),
        *("--data-dir", str(tmp_path), "--site", str(site)),
    )
    servers.append(server)
    await server.start()
    line = await server.wait_line(lambda text: BROKER_LINE.search(text) is not None)
    port = int(BROKER_LINE.search(line).group(1))  # type: ignore[union-attr]
    assert port not in (0, broker.port)
    assert "(embedded mosquitto, MQTT 5)" in line
    await server.wait_line(lambda text: "Ctrl-C stops." in text)

    async with CtiClient("127.0.0.1", port, password=TESTER_PASSWORD) as ui:
        await ui.wait_for(f"{BASE}/status", lambda d: d["state"] == "online")
        made = await ui.ok("makeCall", calling="330", called="331")
        assert made == {"ok": True, "result": {"call": 1, "device": "330"}, "seq": SEEDED + 3}
        delivered = await ui.wait_for(f"{BASE}/devices/331/events")
        assert (delivered["event"], delivered["localConnectionInfo"]) == ("delivered", "alerting")
        assert (await ui.ok("answerCall", call=1, device="331"))["seq"] == SEEDED + 4
        await ui.wait_for(f"{BASE}/devices/331/state", lambda d: d["seq"] == SEEDED + 4)
        states = await retained_states("127.0.0.1", port, load_site(), password=TESTER_PASSWORD)
        assert states["331"]["summary"] == "talking-internal"
        assert states["331"]["connections"][0]["peer"] == "330"
    # Our private broker saw none of it.
    assert "cti-node1" not in broker.log.read_text()

    server.signal(signal.SIGTERM)
    assert await server.wait() == 0
    assert f"stopped at seq {SEEDED + 4}" in server.output
    assert await refused("127.0.0.1", port), "the embedded broker outlived the server"


def test_without_mosquitto_the_embedded_broker_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No weaker fallback broker: without the binary, one line that says what to install."""
    monkeypatch.setattr("cti.mqtt.broker.mosquitto_binary", lambda: None)
    with pytest.raises(BrokerUnavailable) as refused:
        EmbeddedBroker()
    assert str(refused.value) == (
        "the embedded broker is mosquitto, which is not installed: "
        "apt-get install -y mosquitto (make deps)"
    )


async def test_the_node_and_mqtt311_clients(broker: Mosquitto, tmp_path: Path) -> None:
    """CALL-01, CALL-03, CALL-10: the node's face on MQTT 3.1.1 (as on a broker without MQTT
    5) with 3.1.1 clients putting ``reply_to`` in the payload: they place and answer a call
    and see the events and retained states."""
    site = load_site()
    path = tmp_path / "node1.db"
    store = SqliteStore(path)
    reader = store.sibling()
    node = Node(site, store, SystemClock())
    seed_tester(node)
    engine = Engine(node)
    await engine.start()
    face = MqttFace(engine, reader, broker.host, broker.port, version=4)
    task = asyncio.create_task(face.run())
    v311 = aiomqtt.ProtocolVersion.V311
    try:
        await asyncio.wait_for(face.connected.wait(), TIMEOUT)
        async with CtiClient(broker.host, broker.port, version=v311) as ui:
            reply = await ui.request_in_payload("makeCall", "c1", calling="330", called="331")
            assert reply == {
                "ok": True,
                "result": {"call": 1, "device": "330"},
                "seq": SEEDED + 3,
                "correlation": "c1",
            }
            events = f"{BASE}/devices/331/events"
            delivered = await ui.wait_for(events, lambda d: d["event"] == "delivered")
            assert (delivered["seq"], delivered["calling"]) == (SEEDED + 3, "330")
            assert delivered["localConnectionInfo"] == "alerting"
            await ui.wait_for(f"{BASE}/devices/331/state", lambda d: d["seq"] == SEEDED + 3)
            ringing = (await retained_states(ui.host, ui.port, site, version=v311))["331"]
            assert ringing["connections"][0]["peer"] is None  # CALL-10 privacy
            reply = await ui.request_in_payload("answerCall", 2, call=1, device="331")
            assert (reply["ok"], reply["seq"], reply["correlation"]) == (True, SEEDED + 4, 2)
            established = await ui.wait_for(events, lambda d: d["event"] == "established")
            assert established["seq"] == SEEDED + 4
            assert [d["seq"] for d in ui.docs(f"{BASE}/calls/1/events")] == [3, 4, 5, 6]
            bad = await ui.request_in_payload("answerCall", [3], call="1", device="331")
            assert bad["error"]["code"] == "invalidParameterValue"
            assert bad["correlation"] == [3]
            await ui.wait_for(f"{BASE}/devices/331/state", lambda d: d["seq"] == SEEDED + 4)
            answered = (await retained_states(ui.host, ui.port, site, version=v311))["331"]
            assert answered["connections"][0]["peer"] == "330"
            status = await ui.wait_for(f"{BASE}/status", lambda d: d["state"] == "online")
            assert status["epoch"] == reader.epoch
            # A request published retained looks like a plain one over 3.1.1: it runs once;
            # the node clears it at its next connection, without running it again.
            topic = ui.topic("setDoNotDisturb")
            body = {"device": "333", "on": True, "reply_to": ui.inbox, "correlation": 4}
            await ui.publish(topic, json.dumps(body).encode(), retain=True)
            dnd = await ui.wait_for(ui.inbox, lambda d: d.get("correlation") == 4)
            assert (dnd["ok"], dnd["seq"]) == (True, SEEDED + 5)
            await asyncio.wait_for(face.stop(), TIMEOUT)
            await asyncio.wait_for(task, TIMEOUT)
            await face.start()
            await asyncio.wait_for(face.connected.wait(), TIMEOUT)
            async with CtiClient(
                ui.host, ui.port, filters=[topic, f"{BASE}/status"], version=v311, name="late"
            ) as late:
                await late.wait_for(f"{BASE}/status", lambda d: d["state"] == "online")
                assert [m.payload for m in late.on(topic)] == []
            assert (await ui.request_in_payload("snapshotCall", 5, call=1))["seq"] == SEEDED + 5
    finally:
        await asyncio.wait_for(face.stop(), TIMEOUT)
        await asyncio.wait_for(task, TIMEOUT)
        await engine.stop()
        store.close()
        reader.close()
    assert node.state.seq == SEEDED + 5
