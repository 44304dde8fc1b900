"""Faults: the broker dies and comes back, the node process dies and comes back, and a clean
stop. Events must reach subscribers at least once, in order, gap-free after dedupe by seq and
a replay of what a subscriber missed; retained state must be rebuilt (specs/mqtt.md
"Delivery guarantees", ARCHITECTURE.md "MQTT delivery facts")."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from cti.api import documents as payloads
from cti.app.config import load_site
from cti.calls import commands as c
from cti.calls.views import device_view
from cti.mqtt.face.outbox import POSITION_KEY
from cti.site.model import Site
from cti.store import SqliteStore
from tests.mqtt.conftest import (
    BASE,
    SEEDED,
    TIMEOUT,
    CtiClient,
    Mosquitto,
    NodeFace,
    Server,
    retained,
    retained_states,
    site_with_tester,
)

CALL_EVENTS = f"{BASE}/calls/+/events"
STATES = f"{BASE}/devices/+/state"
STATUS = f"{BASE}/status"


def expected_states(nf: NodeFace) -> dict[str, dict[str, Any]]:
    """Device states as the node's current state says they are (without seq and ts)."""
    out = {}
    for device in nf.site.devices:
        view = device_view(nf.site, nf.node.state, device)
        doc = json.loads(payloads.device_state(nf.site, view, 0, 0))
        out[device] = without_stamp(doc)
    return out


def without_stamp(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("seq", "ts")}


def in_order_per_topic(client: CtiClient, pattern: str) -> None:
    """Within each topic matching ``pattern`` seqs never go back (repeats are allowed: at
    least once)."""
    topics = {m.topic for m in client.on(pattern)}
    for topic in topics:
        seqs = [d["seq"] for d in client.docs(topic)]
        assert seqs == sorted(seqs), (topic, seqs)


class Progress:
    """Lets a test wait until the node has committed up to some seq."""

    def __init__(self, nf: NodeFace) -> None:
        self.nf = nf

    async def reach(self, seq: int) -> None:
        await asyncio.wait_for(self.nf.node.feed.wait_beyond(seq - 1), TIMEOUT)


async def drive(nf: NodeFace, stop: asyncio.Event) -> int:
    """Phone-side traffic that keeps coming whatever the broker does: 330 calls 331, 331
    answers, 330 hangs up, again and again. Returns the number of calls made."""
    calls = 0
    while not stop.is_set():
        made = await nf.engine.execute(c.MakeCall(calling="330", called="331"))
        assert made.ok, made
        call = made.result["call"]
        assert (await nf.engine.execute(c.AnswerCall(call=call, device="331"))).ok
        assert (await nf.engine.execute(c.ClearConnection(call=call, device="330"))).ok
        calls += 1
    return calls


class Watcher:
    """A plain paho client that connects and subscribes *while the event loop is blocked*:
    the face (on the same loop) cannot publish anything before this subscription exists, so
    everything the face publishes after the loop resumes is seen here."""

    def __init__(self, host: str, port: int, pattern: str, *, mqtt5: bool = True) -> None:
        self.seqs: list[int] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=f"test-watcher-{uuid.uuid4().hex[:8]}",
            protocol=paho.MQTTv5 if mqtt5 else paho.MQTTv311,
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(pattern, qos=1)
        assert subscribed.wait(TIMEOUT), "no SUBACK"

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._lock:
            self.seqs.append(json.loads(message.payload)["seq"])

    def seen(self) -> set[int]:
        with self._lock:
            return set(self.seqs)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Poll a condition that another thread makes true (paho's network thread)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def wait_closed(nf: NodeFace) -> None:
    """Until the face has noticed that its broker connection is gone."""
    client = nf.face.client
    assert client is not None and client.closed is not None
    await asyncio.wait([client.closed], timeout=TIMEOUT)
    assert client.closed.done(), "the face did not notice the broker's death"


async def test_broker_killed_and_restarted_mid_stream(
    broker: Mosquitto, node_face: NodeFace
) -> None:
    """Broker SIGKILLed while events keep being committed, restarted on the same port: the
    face reconnects by itself and publishes what the broker never acknowledged; a subscriber
    that reconnects and replays its gap has every event exactly once, in seq order; retained
    states (lost with the broker, persistence off) are republished and match the node
    (CALL-01, CALL-03 traffic; CALL-11 states)."""
    nf = node_face
    progress = Progress(nf)
    stop = asyncio.Event()
    driver: asyncio.Task[int] | None = None
    watcher: Watcher | None = None
    try:
        async with CtiClient(broker.host, broker.port, filters=[CALL_EVENTS], name="before") as ui1:
            first = await ui1.ok("makeCall", calling="332", called="333")
            await ui1.ok("answerCall", call=first["result"]["call"], device="333")
            driver = asyncio.create_task(drive(nf, stop))
            await ui1.wait_for(CALL_EVENTS, lambda d: d["seq"] >= 20)
            seq_at_kill = nf.node.state.seq
            broker.kill()
            await wait_closed(nf)
            # Requests keep coming while the broker is down: durable, not yet published.
            await progress.reach(seq_at_kill + 30)
            assert not nf.face.connected.is_set()
            await broker.restart()
            watcher = Watcher(
                broker.host, broker.port, CALL_EVENTS, mqtt5=broker.mqtt5
            )  # blocks the loop
            seq_at_watch = nf.node.state.seq
            await asyncio.wait_for(nf.face.connected.wait(), TIMEOUT)
        seen_before = {d["seq"]: d for d in ui1.docs(CALL_EVENTS)}
        in_order_per_topic(ui1, CALL_EVENTS)
        assert ui1.lost is not None  # it really was disconnected
        # What it saw is a gap-free prefix (one connection, QoS 1, one publisher).
        have = max(seen_before)
        assert sorted(seen_before) == list(range(SEEDED + 1, have + 1))

        # The subscriber comes back: subscribe first, then replay the gap; dedupe by seq.
        async with CtiClient(
            broker.host, broker.port, filters=[CALL_EVENTS, STATES, STATUS], name="after"
        ) as ui2:
            seq_at_subscribe = nf.node.state.seq
            # More requests over MQTT while the phone traffic goes on.
            made = await ui2.ok("clearConnection", call=first["result"]["call"], device="332")
            stop.set()
            calls = await asyncio.wait_for(driver, TIMEOUT)
            assert calls >= 5
            last = nf.node.state.seq
            assert last >= made["seq"] > seq_at_subscribe >= seq_at_kill + 30
            replayed = await ui2.replay_all(have + 1)
            await ui2.wait_for(CALL_EVENTS, lambda d: d["seq"] == last)
            await ui2.wait_for(STATES, lambda d: d["seq"] == last)
            live = ui2.docs(CALL_EVENTS)
            in_order_per_topic(ui2, CALL_EVENTS)
            # The face itself republished what the broker had not acknowledged before it
            # died: everything committed during the outage reached the new broker.
            await wait_until(lambda: last in watcher.seen())
            assert watcher.seen() >= set(range(seq_at_kill + 1, seq_at_watch + 1))
            # Everything committed after it subscribed arrived live.
            assert {d["seq"] for d in live} >= set(range(seq_at_subscribe + 1, last + 1))

            merged: dict[int, dict[str, Any]] = dict(seen_before)
            for doc in [*replayed, *live]:
                if doc["seq"] in merged:
                    assert merged[doc["seq"]] == doc, "a repeated seq must be the same event"
                merged[doc["seq"]] = doc
            assert sorted(merged) == list(range(SEEDED + 1, last + 1))
            with SqliteStore.open_readonly(nf.path) as log:
                stored = [(r.seq, r.kind) for r in log.read(SEEDED + 1)]
            assert [(s, merged[s]["event"]) for s in sorted(merged)] == stored

            # Retained states came back (the restarted broker had none) and match the node.
            states = await retained_states(broker.host, broker.port, nf.site)
            assert {d: without_stamp(doc) for d, doc in states.items()} == expected_states(nf)
            # Each with its device's last change (specs/mqtt.md), as before the broker died.
            assert {d: doc["seq"] for d, doc in states.items()} == {
                d: nf.node.device_seq(d) for d in states
            }
            assert all(doc["seq"] <= last for doc in states.values())
            assert max(doc["seq"] for doc in states.values()) == last  # the last change
            assert states["330"]["summary"] == "idle"
            status = (await retained(broker.host, broker.port, STATUS, [STATUS]))[STATUS]
            assert status["state"] == "online" and status["epoch"] == nf.store.epoch
            # Published after the restart (the broker lost the old one), with the outbox
            # position of that moment.
            assert 0 < status["seq"] <= last
    finally:
        stop.set()
        if driver is not None:
            await asyncio.gather(driver, return_exceptions=True)
        if watcher is not None:
            watcher.close()


async def test_status_seq_catches_up_after_reconnect(
    broker: Mosquitto, node_face: NodeFace
) -> None:
    """Status ``seq`` "is how far events have been published (refreshed about once a second
    while it moves)". Events committed while the broker was away and published after the
    reconnect must show in the retained status, even if nothing else happens afterwards
    (the events: CALL-01, CALL-03)."""
    nf = node_face
    async with CtiClient(broker.host, broker.port, filters=[STATUS], name="status") as ui:
        await ui.ok("makeCall", calling="330", called="331")
        await ui.wait_for(STATUS, lambda d: d.get("seq") == SEEDED + 3)
    broker.kill()
    await wait_closed(nf)
    assert (await nf.engine.execute(c.AnswerCall(call=1, device="331"))).ok
    assert (await nf.engine.execute(c.ClearConnection(call=1, device="330"))).ok
    assert nf.node.state.seq == SEEDED + 6
    await broker.restart()
    await asyncio.wait_for(nf.face.connected.wait(), TIMEOUT)
    async with CtiClient(broker.host, broker.port, filters=[STATUS, STATES], name="status2") as ui:
        # The retained states show that seqs 4-6 were published after the reconnect.
        await ui.wait_for(f"{BASE}/devices/331/state", lambda d: d["seq"] == SEEDED + 6)
        assert ui.docs(STATUS)[0]["state"] == "online"
        # Three refresh periods are plenty for "about once a second".
        await ui.wait_for(STATUS, lambda d: d.get("seq") == SEEDED + 6, timeout=3.5)


@pytest.mark.parametrize("broker", ["mosquitto"], indirect=True)  # Mosquitto's config
async def test_face_keeps_retrying_while_the_broker_refuses_it(
    broker: Mosquitto, node_face: NodeFace
) -> None:
    """Back-off with jitter on every failed connect: a broker that comes back refusing
    connections for a while (here: not authorised) must not stop the face for good; the
    call made meanwhile (CALL-01) shows in the retained state once it is back (CALL-11)."""
    nf = node_face
    broker.kill()
    await wait_closed(nf)
    broker.configure(allow_anonymous=False)
    await broker.start()
    # The broker answers, refusing (CONNACK reason 0x87, not authorised); commands still
    # commit meanwhile. Wait until the face has been refused twice: it retried after one.
    assert (await nf.engine.execute(c.MakeCall(calling="330", called="331"))).ok
    refusals = "Sending CONNACK to 127.0.0.1 (0, 135)"  # mosquitto -v log line
    await wait_until(lambda: nf.task.done() or broker.log.read_text().count(refusals) >= 2)
    assert not nf.task.done(), f"the face's task ended: {nf.task.exception()!r}"

    broker.kill()
    broker.configure(allow_anonymous=True)
    await broker.start()
    connected = asyncio.ensure_future(nf.face.connected.wait())
    try:
        await asyncio.wait(
            [connected, nf.task], timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        connected.cancel()
    assert not nf.task.done(), f"the face's task ended: {nf.task.exception()!r}"
    assert nf.face.connected.is_set()
    async with CtiClient(broker.host, broker.port, filters=[STATES]) as ui:
        await ui.wait_for(f"{BASE}/devices/331/state", lambda d: d["seq"] == SEEDED + 3)


# -- `cti serve` as a process ---------------------------------------------------------------
S = SEEDED  # the site file's one account (the tester) is seeded first


def serve_args(broker: Mosquitto, data: Path) -> list[str]:
    site = site_with_tester(data.parent)
    args = ["--broker", "external", "--mqtt-url", broker.url, "--data-dir", str(data)]
    return [*args, "--site", str(site)]


def stored_position(data: Path) -> tuple[int, int]:
    """(outbox position, last seq) of the node's log file."""
    with SqliteStore.open_readonly(data / "node1.db") as log:
        return int(log.get_meta(POSITION_KEY) or 0), log.last_seq()


async def test_killed_server_is_marked_offline_and_resumes_on_restart(
    broker: Mosquitto, tmp_path: Path, servers: list[Server]
) -> None:
    """``cti serve`` SIGKILLed after a few requests (CALL-01, CALL-03, CALL-05, CALL-07): the
    Last Will marks it offline; restarted on the same log it comes online with seq where its
    outbox stood, republishes whatever was not acknowledged (every seq present), restores the
    same retained states, and new requests continue the seqs without a gap."""
    data = tmp_path / "data"
    async with CtiClient(broker.host, broker.port, name="watch") as ui:
        first = Server(*serve_args(broker, data))
        servers.append(first)
        await first.start()
        online = await ui.wait_for(STATUS, lambda d: d["state"] == "online")
        assert online["seq"] in (0, SEEDED)  # the seeding is internal: nothing to publish
        epoch = online["epoch"]
        await ui.ok("makeCall", calling="330", called="331")
        await ui.ok("answerCall", call=1, device="331")
        await ui.ok("consultationCall", call=1, device="330", consulted="332")
        # Everything published and the status caught up: the position on disk is 10.
        await ui.wait_for(STATUS, lambda d: d.get("seq") == S + 8)
        before_states = await retained_states(broker.host, broker.port, _site())
        assert before_states["330"]["seq"] == S + 8
        # One more request, and the process dies right after its reply.
        answered = await ui.ok("answerCall", call=2, device="332")
        assert answered["seq"] == S + 9
        mark = len(ui.messages)
        first.signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        offline = await ui.wait_for(STATUS, lambda d: d["state"] == "offline", start=mark)
        assert offline == {"node": "node1", "state": "offline"}
        retained_status = (await retained(broker.host, broker.port, STATUS, [STATUS]))[STATUS]
        assert retained_status == offline
        position, last = stored_position(data)
        assert last == S + 9 and S + 8 <= position <= S + 9

        mark = len(ui.messages)
        second = Server(*serve_args(broker, data))
        servers.append(second)
        await second.start()
        back = await ui.wait_for(STATUS, lambda d: d["state"] == "online", start=mark)
        assert back["seq"] == position and back["epoch"] == epoch
        # ... and its seq catches up with the log once everything is published again.
        await ui.wait_for(STATUS, lambda d: d.get("seq") == S + 9, start=mark)
        # At least once: every seq is there, and what was not acked came again.
        if position < S + 9:  # the republish from the stored position has to arrive
            await ui.wait_for(CALL_EVENTS, lambda d: d["seq"] == S + 9, start=mark)
        seen = {d["seq"] for d in ui.docs(CALL_EVENTS)}
        assert seen == set(range(S + 1, S + 10))
        after = {m.doc["seq"] for m in ui.messages[mark:] if m.topic.startswith(f"{BASE}/calls/")}
        assert after >= set(range(position + 1, S + 10)), (position, after)
        in_order_per_topic(ui, CALL_EVENTS)

        # Same retained states as before the crash (plus the answer of call 2).
        await ui.wait_for(STATES, lambda d: d["device"] == "332" and d["seq"] == S + 9, start=mark)
        after_states = await retained_states(broker.host, broker.port, _site())
        changed = {
            d
            for d in after_states
            if without_stamp(after_states[d]) != without_stamp(before_states[d])
        }
        assert changed == {"330", "332"}
        # A state's seq is its device's last change (specs/mqtt.md): the restarted node
        # gives the unchanged ones the seqs they had, the two the answer changed its seq.
        assert {d: doc["seq"] for d, doc in after_states.items()} == {
            d: S + 9 if d in changed else doc["seq"] for d, doc in before_states.items()
        }
        assert after_states["332"]["summary"] == "talking-internal"
        assert [c["state"] for c in after_states["330"]["connections"]] == ["hold", "connected"]

        # New requests continue the log without a gap.
        transferred = await ui.ok("transferCall", device="330")
        assert (transferred["result"], transferred["seq"]) == ({"call": 1}, S + 10)
        await ui.wait_for(CALL_EVENTS, lambda d: d["seq"] == S + 10)
        assert {d["seq"] for d in ui.docs(CALL_EVENTS)} == set(range(S + 1, S + 11))
        second.signal(signal.SIGTERM)
        assert await second.wait() == 0


async def test_clean_stop_publishes_offline_and_exits_zero(
    broker: Mosquitto, tmp_path: Path, servers: list[Server]
) -> None:
    """SIGTERM: everything committed is published, status goes offline, exit code 0, and the
    outbox position on disk is the last seq (nothing to republish next time). CALL-01."""
    data = tmp_path / "data"
    async with CtiClient(broker.host, broker.port, name="watch") as ui:
        server = Server(*serve_args(broker, data))
        servers.append(server)
        await server.start()
        await ui.wait_for(STATUS, lambda d: d["state"] == "online")
        made = await ui.ok("makeCall", calling="330", called="331")
        mark = len(ui.messages)
        server.signal(signal.SIGTERM)
        assert await server.wait() == 0
        assert f"stopped at seq {S + 3}" in server.output
        offline = await ui.wait_for(STATUS, lambda d: d["state"] == "offline", start=mark)
        assert offline == {"node": "node1", "state": "offline"}
        assert {d["seq"] for d in ui.docs(CALL_EVENTS)} == {S + 1, S + 2, S + 3}
        assert made["seq"] == S + 3
        assert stored_position(data) == (S + 3, S + 3)
        status = (await retained(broker.host, broker.port, STATUS, [STATUS]))[STATUS]
        assert status == offline


def _site() -> Site:
    return load_site()
