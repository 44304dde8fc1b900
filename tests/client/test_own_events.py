"""cti.client's ``watch_own()`` against a real node and its mosquitto: the signed-in user's own
events (presence, profile, mailbox) from ``users/{user}/events`` (specs/client.md, specs/mqtt.md
"a user's own events", specs/security.md), gaps filled from the log, and nobody else's."""

from __future__ import annotations

import base64
from collections.abc import Callable

import attrs

from cti.app.bootstrap import Running
from cti.client import Connected, CtiClient, Disconnected, OwnEvent, Update
from tests.client.conftest import client, collecting, relay_to
from tests.voicemail.helpers import tone


def own_of(updates: list[Update], user: str) -> list[OwnEvent]:
    return [u for u in updates if isinstance(u, OwnEvent) and u.user == user]


def presence(user: str, status: str) -> Callable[[Update], bool]:
    def check(u: Update) -> bool:
        return (
            isinstance(u, OwnEvent)
            and u.user == user
            and u.event == "presenceChanged"
            and u.doc["status"] == status
        )

    return check


async def set_presence(cti: CtiClient, status: str) -> None:
    await cti.request("setPresence", user=cti.account, status=status)


async def read_everyones_own(cti: CtiClient) -> None:
    """Subscribe the client's connection to Clara's own event topic and everyone's (the
    client offers no way to: watch_own() is the signed-in user's alone)."""
    assert cti._conn is not None
    await cti._conn.subscribe(
        [(cti.topics.user_events("332"), 1), (cti.topics.user_events("+"), 1)]
    )


async def test_own_presence_and_a_voicemail_message_arrive_live(node: Running) -> None:
    """PRES-04, VM-02: Bernd's client watching his own events gets the message Anna leaves in
    his mailbox (messageRecorded, and messageWaiting: his message-waiting lamp on) and his
    presence change, live, in seq order, each once."""
    async with (
        client(node, "331") as bernd,
        client(node, "330") as anna,
        collecting(bernd) as seen,
    ):
        await bernd.watch_own()
        # Anna calls Bernd, who sends the call to the voicemail: she leaves a message.
        call = (await anna.make_call("330", "331"))["call"]
        await bernd.request("deflectCall", call=call, device="331", to="351")
        audio = base64.b64encode(tone(1.0)).decode()
        await anna.request("leaveVoicemailMessage", call=call, device="330", audio=audio)
        await anna.clear_connection(call, "330")
        waiting = await seen.wait_for(
            lambda u: isinstance(u, OwnEvent) and u.event == "messageWaiting"
        )
        await set_presence(bernd, "meeting")
        changed = await seen.wait_for(presence("331", "meeting"))
    assert isinstance(changed, OwnEvent) and isinstance(waiting, OwnEvent)
    assert changed.doc["user"] == "331" and not changed.replayed
    assert (waiting.user, waiting.doc["mailbox"], waiting.replayed) == ("331", "331", False)
    assert waiting.doc["on"] is True
    events = own_of(seen.updates, "331")
    assert "messageRecorded" in [e.event for e in events]
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs)) and not any(e.replayed for e in events)
    assert own_of(seen.updates, "330") == []  # Anna's own events (her call) are not his


async def test_a_lost_connection_is_filled_from_the_log_and_nobody_elses_own_events_come(
    node: Running,
) -> None:
    """Bernd's client loses its connection while Bernd (on another client of his, connected
    all along) changes his presence and profile; when it is back, those come from the log
    (``replayed``), then live ones, each once, in seq order: exactly what the other client
    received live. Clara's own events, live and during the outage, reach neither: not even
    subscribing to her topic (and to everyone's) directly helps, the broker's ACL delivers
    nothing, while Bernd's own events on the same connection do (the positive control: one
    connection delivers in order)."""
    broker = node.broker
    assert broker is not None
    async with (
        relay_to(broker.host, broker.port) as relay,
        client(relay.url, "331") as bernd,
        client(node, "331") as desk,
        client(node, "332") as clara,
        collecting(bernd) as seen,
        collecting(desk) as truth,
    ):
        await bernd.watch_own()
        await desk.watch_own()
        await read_everyones_own(bernd)
        await set_presence(clara, "lunch")
        await set_presence(desk, "meeting")  # live
        await seen.wait_for(presence("331", "meeting"))

        await relay.cut()
        await seen.wait_for(lambda u: isinstance(u, Disconnected))
        await set_presence(desk, "break")  # while Bernd's client is away
        await set_presence(clara, "sick")
        await desk.request("setProfile", mobile="+491712345678")
        await set_presence(desk, "lunch")
        mark = len(seen.updates)
        await relay.restore()
        await seen.wait_for(lambda u: isinstance(u, Connected), start=mark)
        # The gap filled before the next change: a replay may hold events the node has
        # logged but not yet published, which would then come replayed, not live.
        await seen.wait_for(presence("331", "lunch"), start=mark)
        await read_everyones_own(bernd)  # a new connection: subscribed afresh
        await set_presence(clara, "office")
        await set_presence(desk, "office")  # live again
        await truth.wait_for(presence("331", "office"))
        await seen.wait_for(presence("331", "office"))

    expected = own_of(truth.updates, "331")
    got = own_of(seen.updates, "331")
    assert [e.event for e in expected].count("presenceChanged") == 4
    assert "profileChanged" in [e.event for e in expected]
    assert [e.seq for e in got] == [e.seq for e in expected]  # each once, in order
    assert [e.doc for e in got] == [e.doc for e in expected]  # replayed = published
    away = [e for e in expected if e.doc.get("status") in ("break", "lunch") or "mobile" in e.doc]
    assert len(away) == 3
    assert [e for e in got if e.replayed] == [attrs.evolve(e, replayed=True) for e in away]
    assert not any(e.replayed for e in expected)
    assert [
        u for u in seen.updates + truth.updates if isinstance(u, OwnEvent) and u.user != "331"
    ] == []
