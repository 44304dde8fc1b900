"""DIR-05, CALL-10, CALL-11 over MQTT, against a node with its embedded Mosquitto, the node's
password and ACL files, and signed-in users: A = 331 (Bernd, two clients), B = 332 (Clara).

- A's favourites are a retained document on ``users/331/favourites`` that every client of A
  receives after each change, and that B can neither subscribe to nor request.
- A colleague among the favourites comes with the numbers whose busy lamps the UI watches;
  while the colleague's phone rings the lamp shows it without the caller (CALL-10); A picks
  the call up (directedPickupCall) and sees the caller only then.

Every "nothing arrives" has a positive control: something the same client does receive,
published by the node after what must not arrive. Nothing sleeps for timing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.mqtt.conftest import TESTER, CtiClient
from tests.security.conftest import LAMP_KEYS, SecureNode, lost, secure_node, topic

__all__ = ["secure_node"]  # the module's node, with its embedded broker and ACLs

pytestmark = pytest.mark.asyncio(loop_scope="module")

A, B = "331", "332"


def favourites_of(user: str) -> str:
    return topic("users", user, "favourites")


def names(doc: dict[str, object]) -> list[tuple[str, list[str]]]:
    """(group, [colleague account or contact name]) of a favourites document."""
    return [
        (g["name"], [e.get("user", e["name"]) for e in g["entries"]])
        for g in doc["groups"]  # type: ignore[attr-defined]
    ]


@pytest_asyncio.fixture(loop_scope="module")
async def tester(secure_node: SecureNode) -> AsyncIterator[CtiClient]:
    """The integrator (places the calls); no call is left at the end of a test."""
    async with secure_node.client(TESTER, name="tester") as client:
        yield client
        assert len(secure_node.running.node.state.calls.calls) == 0, "a test left a call"


async def test_dir05_every_client_of_a_user_sees_each_change_and_no_one_else_does(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    n = secure_node
    mine = favourites_of(A)
    async with (
        n.client(A, filters=[mine], name="a1") as a1,
        n.client(A, filters=[mine], name="a2") as a2,
        n.client(B, filters=[mine, favourites_of("+"), topic("#")], name="b") as b,
    ):
        # Each user has their document from the start, retained: empty until they add.
        for client in (a1, a2):
            first = await client.wait_for(mine)
            assert (first["user"], first["groups"]) == (A, [])
        own = await b.wait_for(favourites_of(B))
        assert (own["user"], own["groups"]) == (B, [])

        added = await a1.ok("addFavourite", user=A, groupName="Team", colleague=B)
        assert added["result"] == {"group": 1, "entry": 2}
        doc = await a2.wait_for(mine, lambda d: d["seq"] >= added["seq"])
        assert doc["groups"] == [
            {
                "id": 1,
                "name": "Team",
                "entries": [
                    {"id": 2, "kind": "colleague", "user": B, "name": "Clara Wolf", "devices": [B]}
                ],
            }
        ]
        # The other way round: a2 changes, a1 sees it; the reply and the document agree.
        contact = await a2.ok(
            "addFavourite", user=A, group=1, contactName="Dr. Meier", number="089 123456"
        )
        renamed = await a2.ok("renameFavouriteGroup", user=A, group=1, name="Team Süd")
        ordered = await a2.ok("orderFavourites", user=A, group=1, entries=[3, 2])
        doc = await a1.wait_for(mine, lambda d: d["seq"] >= ordered["seq"])
        assert names(doc) == [("Team Süd", ["Dr. Meier", B])]
        assert doc["groups"][0]["entries"][0]["number"] == "+4989123456"
        assert doc == {**(await a1.ok("getFavourites", user=A))["result"], "seq": doc["seq"]}
        # Changes committed in one batch share one document: what a1 has last is the latest.
        assert contact["seq"] < renamed["seq"] < ordered["seq"] <= a1.docs(mine)[-1]["seq"]

        # B: no request on A's favourites, and nothing of A's topic ever arrives.
        for service, fields in (
            ("getFavourites", {"user": A}),
            ("addFavourite", {"user": A, "groupName": "Spy", "colleague": B}),
            ("deleteFavouriteGroup", {"user": A, "group": 1}),
        ):
            reply = await b.request(service, **fields)
            assert reply["error"]["code"] == "notPermitted", (service, reply)
        mark = len(b.messages)
        change = await a1.ok("addFavourite", user=A, group=1, colleague="333")
        await a2.wait_for(mine, lambda d: d["seq"] >= change["seq"])
        mine_b = await b.ok("addFavourite", user=B, groupName="Chefin", colleague="330")
        # Positive control: B's own document after A's change arrived.
        await b.wait_for(favourites_of(B), lambda d: d["seq"] >= mine_b["seq"], start=mark)
        assert b.on(mine) == [], "B received A's favourites"
        assert {m.topic for m in b.on(favourites_of("+"))} == {favourites_of(B)}

    # A client that connects later finds the current document, retained.
    async with n.client(A, filters=[mine], name="a3") as a3:
        late = await a3.wait_for(mine)
        assert names(late) == [("Team Süd", ["Dr. Meier", B, "333"])]
        assert late == n.truth(mine)


async def test_call10_call11_a_ringing_favourite_shows_no_caller_and_can_be_picked_up(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    """A watches the lamps of the colleagues among their favourites (the document names
    their devices). B's phone rings: A's lamp of B says incoming-internal (or -external) and
    nothing of the caller; A picks the call up and only then sees who calls."""
    n = secure_node
    async with n.client(A, filters=[favourites_of(A)], name="a") as a:
        doc = await a.wait_for(favourites_of(A), lambda d: d["groups"] != [])
        lamps = {
            dev
            for g in doc["groups"]
            for e in g["entries"]
            if e["kind"] == "colleague"
            for dev in e["devices"]
        }
        assert B in lamps
        for dev in sorted(lamps):
            await a.client.subscribe(topic("lamps", dev), qos=1)
        await a.client.subscribe(topic("devices", A, "state"), qos=1)
        await a.wait_for(topic("lamps", B), lambda d: d["summary"] == "idle")

        mark = len(a.messages)
        call = (await tester.ok("makeCall", calling="330", called=B))["result"]["call"]
        ringing = await a.wait_for(
            topic("lamps", B), lambda d: d["summary"] == "incoming-internal", start=mark
        )
        assert set(ringing) == LAMP_KEYS
        others = {k: v for k, v in ringing.items() if k not in ("device", "seq", "ts")}
        assert "330" not in json.dumps(others) and "Anna" not in json.dumps(others), ringing

        picked = await a.ok("directedPickupCall", picked=B, device=A)
        assert picked["result"] == {"call": call, "device": A}
        await a.wait_for(topic("lamps", B), lambda d: d["summary"] == "idle", start=mark)
        state = await a.wait_for(
            topic("devices", A, "state"),
            lambda d: d["summary"] == "talking-internal",
            start=mark,
        )
        [conn] = state["connections"]
        assert (conn["call"], conn["peer"], conn["peerName"]) == (call, "330", "Anna Berger")
        await a.ok("clearCall", call=call)

        # From outside: the lamp says incoming-external, and nothing of the number.
        mark = len(a.messages)
        outside = "+4930111111"
        call = (await tester.ok("dial", device=outside, digits=B))["result"]["call"]
        ringing = await a.wait_for(
            topic("lamps", B), lambda d: d["summary"] == "incoming-external", start=mark
        )
        assert set(ringing) == LAMP_KEYS
        assert "30111111" not in json.dumps(ringing), ringing
        await a.ok("directedPickupCall", picked=B, device=A)
        state = await a.wait_for(
            topic("devices", A, "state"), lambda d: d["summary"] == "talking-external", start=mark
        )
        assert state["connections"][0]["peer"] == outside
        await a.ok("clearCall", call=call)


async def test_dir05_a_removed_colleague_leaves_the_favourites_and_their_own_go(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    """removeAccount 333: A's document no longer names them (favouriteRemoved in the same
    commit); 333's own favourites go and their retained document is cleared."""
    n = secure_node
    async with (
        n.client(A, filters=[favourites_of(A)], name="a") as a,
        n.client("333", filters=[favourites_of("333")], name="dieter") as dieter,
    ):
        await a.wait_for(favourites_of(A))
        own = await dieter.ok("addFavourite", user="333", groupName="Chef", colleague="330")
        await dieter.wait_for(favourites_of("333"), lambda d: d["seq"] >= own["seq"])
        reply = await tester.ok("removeAccount", name="333")
        doc = await a.wait_for(favourites_of(A), lambda d: d["seq"] >= reply["seq"])
        assert names(doc) == [("Team Süd", ["Dr. Meier", B])]
        await lost(dieter)  # the broker lets the removed account read nothing more
    # The node cleared 333's retained document (an empty retained message) in that batch.
    assert favourites_of("333") not in n.running.mqtt.outbox.retained
