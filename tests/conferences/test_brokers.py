"""A room's life over the MQTT face on both brokers (Mosquitto and NATS, the ``broker``
fixture of tests/mqtt): the conference requests, the members' retained documents and the
events on the node-wide topic are ordinary ones of the face. The client is the tests'
integrator, which acts for the users and dials as their phones; what needs the users' own
sign-in, the broker's ACLs and phone-sim is tests/conferences/test_mqtt.py (Mosquitto
only: specs/conferences.md, "Tests", says why)."""

from __future__ import annotations

from typing import Any

from cti.accounts.commands import SeedAccounts
from tests.mqtt.conftest import BASE, CtiClient, NodeFace
from tests.presence.helpers import seeds


def states(doc: Any) -> dict[str, tuple[str, bool]]:
    """Each participant's state, and whether a disconnection time is shown for them."""
    if not doc:
        return {}
    [conf] = doc["conferences"]
    return {p["number"]: (p["state"], p["disconnectsAt"] is not None) for p in conf["participants"]}


def kinds(client: CtiClient) -> list[str]:
    return [e["event"] for batch in client.docs(f"{BASE}/events") for e in batch]


async def pin_of(client: CtiClient, user: str, participant: int) -> str:
    invite = await client.ok(
        "conferenceInvitation", user=user, conference=1, participant=participant
    )
    pin = str(invite["result"]["text"].split("PIN ")[1].split(" ")[0])
    assert pin.isdigit() and len(pin) == 6
    return pin


async def join(client: CtiClient, phone: str, participant: int) -> int:
    made = await client.ok("makeCall", calling=phone, called="391")
    call = made["result"]["call"]
    assert isinstance(call, int)
    pin = await pin_of(client, phone, participant)
    await client.ok("generateDigits", call=call, device=phone, digits=pin + "#")
    return call


async def test_a_room_waits_fills_and_loses_its_moderator_on_either_broker(
    node_face: NodeFace, ui: CtiClient
) -> None:
    assert (await node_face.engine.execute(SeedAccounts(accounts=seeds()))).ok
    bernds = f"{BASE}/users/331/conferences"
    await ui.ok("createConference", user="330", name="Jour fixe")
    await ui.ok("addConferenceParticipant", user="330", conference=1, member="331")
    await ui.wait_for(
        bernds, lambda d: states(d) == {"330": ("inactive", False), "331": ("inactive", False)}
    )

    await join(ui, "331", 2)  # Bernd alone: waiting, with the time he is disconnected
    await ui.wait_for(bernds, lambda d: states(d)["331"] == ("waiting", True))
    anna = await join(ui, "330", 1)
    await ui.wait_for(
        bernds, lambda d: states(d) == {"330": ("active", False), "331": ("active", False)}
    )
    await ui.ok("clearConnection", call=anna, device="330")  # the last moderator leaves
    told = await ui.wait_for(bernds, lambda d: d and d["conferences"][0]["endsAt"] is not None)
    assert states(told) == {"330": ("inactive", False), "331": ("waiting", True)}
    # The events of the one decision in one batch: the end for all, Bernd alone again.
    last = await ui.wait_for(
        f"{BASE}/events", lambda batch: any(e["event"] == "endScheduled" for e in batch)
    )
    assert [e["event"] for e in last][-2:] == ["endScheduled", "aloneTimeoutSet"]
    assert [k for k in kinds(ui) if k.startswith(("participant", "alone", "end"))] == [
        "participantAdded",
        "participantAdded",
        "participantJoined",
        "aloneTimeoutSet",
        "participantJoined",
        "aloneTimeoutCancelled",
        "participantLeft",
        "endScheduled",
        "aloneTimeoutSet",
    ]
