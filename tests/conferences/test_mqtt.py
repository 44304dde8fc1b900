"""End to end over MQTT (CONF-01..06): the node as ``cti serve --broker embedded`` starts it
(the example office, its ACL files, a manual clock), three signed-in users' clients and
``phone-sim`` as the phones (an MQTT client too) dialling 391 and keying PINs.

Anna (330) creates and moderates, Bernd (331) and Clara (332) take part, Dieter (333) is in
no conference: his client never receives a conference document, and the broker refuses his
subscription to Anna's. Every "nothing arrives" has a positive control (``settled``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from cti.app.bootstrap import ServeOptions, start
from cti.app.clock import ManualClock
from cti.mqtt.broker import free_port
from cti.mqtt.client import Endpoint
from phone_sim.link.mqtt import MqttLink
from phone_sim.sim import Simulator
from tests.mqtt.conftest import TESTER, TESTER_PASSWORD, TIMEOUT
from tests.security.conftest import SecureNode, settled, site_file, topic

pytestmark = pytest.mark.asyncio(loop_scope="module")

ANNA, BERND, CLARA, DIETER = "330", "331", "332", "333"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SecureNode]:
    directory = tmp_path_factory.mktemp("conference-node")
    options = ServeOptions(
        site=site_file(directory),
        data_dir=directory / "data",
        broker="embedded",
        broker_port=free_port(),
        tls_port=free_port(),
        csta_port=0,
    )
    running = await start(options, clock=ManualClock())
    try:
        await asyncio.wait_for(running.mqtt.connected.wait(), TIMEOUT)
        yield SecureNode(running, directory / "data")
    finally:
        await running.stop()


def later(seq: int) -> Any:
    # An empty message (doc None) clears a retained document: the node sends those at each
    # connect, which a client subscribing meanwhile may see live. No seq to compare.
    return lambda doc: doc is not None and doc["seq"] >= seq


def states(doc: dict[str, Any]) -> dict[str, str]:
    [conf] = doc["conferences"]
    return {p["name"]: p["state"] for p in conf["participants"]}


async def test_three_users_and_phone_sim_run_a_conference(node: SecureNode) -> None:
    mine = [topic("users", "+", "conferences")]
    clock = node.running.node.clock
    assert isinstance(clock, ManualClock)
    sim = Simulator(
        MqttLink(Endpoint(node.host, node.port, TESTER, TESTER_PASSWORD), "node1"),
        clock,
        timeout=TIMEOUT,
    )
    await sim.start()
    try:
        async with (
            node.client(ANNA, filters=mine, name="anna") as anna,
            node.client(BERND, filters=mine, name="bernd") as bernd,
            node.client(CLARA, filters=mine, name="clara") as clara,
            node.client(DIETER, filters=[*mine, topic("users", ANNA, "conferences")]) as dieter,
        ):
            # CONF-01/02: Anna creates it and adds Bernd and Clara; each sees it, live.
            made = await anna.ok("createConference", user=ANNA, name="Jour fixe")
            assert made["result"] == {"conference": 1, "participant": 1}
            await anna.ok("addConferenceParticipant", user=ANNA, conference=1, member=BERND)
            added = await anna.ok("addConferenceParticipant", user=ANNA, conference=1, member=CLARA)
            for client, user in ((anna, ANNA), (bernd, BERND), (clara, CLARA)):
                doc = await client.wait_for(
                    topic("users", user, "conferences"), later(added["seq"])
                )
                assert states(doc) == {
                    "Anna Berger": "inactive",
                    "Bernd Vogel": "inactive",
                    "Clara Wolf": "inactive",
                }
            # Bernd may not change it; the refusal names the rule.
            refused = await bernd.request("renameConference", user=BERND, conference=1, name="x")
            assert refused["error"]["code"] == "notAModerator"
            assert refused["error"]["details"]["rule"] == "CONF-02"

            # CONF-07: Bernd's own invitation carries his PIN, to him alone.
            invite = await bernd.ok("conferenceInvitation", user=BERND, conference=1, participant=2)
            text = invite["result"]["text"]
            pin = text.split("PIN ")[1].split(" ")[0]
            assert pin.isdigit() and len(pin) == 6

            # CONF-03: phone-sim dials in at Bernd's phone and keys a wrong PIN, then his.
            await sim.act(BERND, "dials", "391")
            await sim.act(BERND, "keys", "000000#" if pin != "000000" else "111111#")
            await sim.act(BERND, "keys", pin + "#")
            doc = await clara.wait_for(
                topic("users", CLARA, "conferences"),
                lambda d: states(d).get("Bernd Vogel") == "waiting",  # alone: music on hold
            )
            # CONF-04: Anna has the system call Clara out; phone-sim answers at Clara's phone.
            out = await anna.ok(
                "callOutConferenceParticipants", user=ANNA, conference=1, participant=3
            )
            assert len(out["result"]["calls"]) == 1
            await anna.wait_for(
                topic("users", ANNA, "conferences"),
                lambda d: states(d).get("Clara Wolf") == "diallingIn",
            )
            await sim.act(CLARA, "answers")
            await bernd.wait_for(
                topic("users", BERND, "conferences"),
                lambda d: (
                    states(d)
                    == {
                        "Anna Berger": "inactive",
                        "Bernd Vogel": "active",
                        "Clara Wolf": "active",
                    }
                ),
            )
            # Anna dials in with her PIN, then hangs up: the last moderator left (CONF-06).
            own = await anna.ok("conferenceInvitation", user=ANNA, conference=1, participant=1)
            anna_pin = own["result"]["text"].split("PIN ")[1].split(" ")[0]
            await sim.act(ANNA, "dials", "391")
            await sim.act(ANNA, "keys", anna_pin)
            await clara.wait_for(
                topic("users", CLARA, "conferences"),
                lambda d: states(d).get("Anna Berger") == "active",
            )
            await sim.act(ANNA, "hangs-up")
            told = await bernd.wait_for(
                topic("users", BERND, "conferences"),
                lambda d: d["conferences"][0]["endsAt"] is not None,
            )
            assert told["conferences"][0]["endsAt"] == clock.now_ms() + 300_000
            # Five minutes on the node's clock: the timer ends it for everyone.
            clock.advance(300)
            ended = await clara.wait_for(
                topic("users", CLARA, "conferences"),
                lambda d: (
                    d["conferences"][0]["endsAt"] is None
                    and set(states(d).values()) == {"inactive"}
                ),
            )
            assert ended["conferences"][0]["name"] == "Jour fixe"  # permanent: it stays

            # Only members see a conference: Dieter got nothing, not even Anna's document.
            await settled(dieter)
            assert dieter.on(topic("users", "+", "conferences")) == []
            listed = await dieter.ok("listConferences", user=DIETER)
            assert listed["result"] == []
            peek = await dieter.request("listConferences", user=ANNA)
            assert peek["error"]["code"] == "notPermitted"

            # Remove (CONF-05): Bernd's document is emptied (cleared) when he leaves the list.
            gone = await anna.ok(
                "removeConferenceParticipant", user=ANNA, conference=1, participant=2
            )
            await bernd.wait_for_msg(
                lambda m: m.topic == topic("users", BERND, "conferences") and m.payload == b""
            )
            del gone
    finally:
        await sim.close()
