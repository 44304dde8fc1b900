"""A person whose own phone is a member of a MULAP group, through the broker and its ACL files
(CALL-14, PRES-04, VM-02, VM-04, USER-03; specs/security.md "Topics: who reads and writes").

The example office with Bernd's phone 331 also in the group 340 (with 337 and 338), run as
``cti serve --broker embedded`` runs it (the node's password and ACL files on a real
Mosquitto). The group's account 340 reads phone 331's state and events (its group's calls
ring there), and subscribes to everything the broker lets it (``cti/node1/#``): Bernd's
message, its playback on 331, his hidden presence with a private note and his profile reach
Bernd on ``users/331/events`` and nowhere 340 reads; 340's replay has none of them either,
and its request for the audio played on 331 is refused. The call to the group that rings 331
afterwards reaches 340 on ``devices/331/events``: the positive control (one connection
delivers in order, so nothing published before it is still on its way). The node-level
rules are tests/voicemail/test_mulap_member.py."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from cti.api.documents import OWNED
from tests.mqtt.conftest import TESTER
from tests.security.conftest import SecureNode, running_secure_node, settled, topic
from tests.voicemail.helpers import tone

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOTE = "Arzt Dr. Hartmann"  # Bernd's private note with his hidden presence (PRES-02, PRES-04)
BERNDS_OWN = {  # every kind of Bernd's own events the scenario publishes
    "messageRecorded",
    "messageWaiting",
    "playbackCalling",
    "messagePlaying",
    "messageMoved",
    "profileChanged",
    "presenceChanged",
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def member_node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SecureNode]:
    def with_331_in_340(text: str) -> str:
        assert text.count('members = ["337", "338"]') == 1
        return text.replace('members = ["337", "338"]', 'members = ["331", "337", "338"]')

    directory = tmp_path_factory.mktemp("member-node")
    async with running_secure_node(directory, with_331_in_340) as node:
        assert node.running.node.site.mulap_of("331") == "340"
        yield node


def bernds_own(doc: Any) -> bool:
    """An event of Bernd's own: presence, profile, mailbox (Event.OWNER)."""
    if not isinstance(doc, dict) or doc.get("event") not in OWNED:
        return False
    owner_key, _ = OWNED[doc["event"]]
    return bool(doc.get(owner_key) == "331")


def acl_blocks(acl: str) -> dict[str, list[str]]:
    """The ``pattern`` lines (under "") and each ``user`` block's ``topic`` lines."""
    blocks: dict[str, list[str]] = {"": []}
    current = blocks[""]
    for line in acl.splitlines():
        if line.startswith("user "):
            current = blocks.setdefault(line.removeprefix("user "), [])
        elif line.startswith(("topic ", "pattern ")):
            current.append(line)
    return blocks


async def test_the_acl_gives_the_group_its_members_phone_and_each_user_their_own_events(
    member_node: SecureNode,
) -> None:
    """What the broker checks: 340 reads phone 331's topics (CALL-14), every account its own
    event topic only (the pattern), integrators and monitors everyone's."""
    for name in ("acl.plain", "acl.tls"):
        blocks = acl_blocks((member_node.data_dir / "broker" / name).read_text())
        assert "pattern read cti/node1/users/%u/events" in blocks[""]
        group = blocks["340"]
        assert "topic read cti/node1/devices/331/events" in group
        assert "topic read cti/node1/devices/331/state" in group
        assert [line for line in group if "/users/" in line] == []
        assert "topic read cti/node1/users/+/events" in blocks["monitor"]
        assert "topic read cti/node1/users/+/events" in blocks["phone-sim"]


async def test_the_group_gets_its_calls_on_a_members_phone_never_the_members_own_events(
    member_node: SecureNode,
) -> None:
    n = member_node
    first = n.seq + 1
    everything = [topic("#")]
    async with (
        n.client("340", filters=everything, name="group") as group,
        n.client("331", filters=everything, name="bernd") as bernd,
        n.client("330") as anna,
        n.client(TESTER, name="tester") as tester,
    ):
        for client in (group, bernd):
            await client.wait_for(topic("devices", "331", "state"))  # subscribed
        # 330 calls 331, who sends the call to the voicemail: 330 leaves a message.
        call = (await anna.ok("makeCall", calling="330", called="331"))["result"]["call"]
        await bernd.ok("deflectCall", call=call, device="331", to="351")
        audio = tone(1.0)
        await anna.ok(
            "leaveVoicemailMessage",
            call=call,
            device="330",
            audio=base64.b64encode(audio).decode(),
        )
        await anna.ok("clearConnection", call=call, device="330")
        # Bernd has it played on his own phone (VM-04), which the group's account controls.
        placed = (await bernd.ok("playVoicemailMessage", user="331", message=1))["result"]
        assert placed["device"] == "331"
        await bernd.ok("answerCall", call=placed["call"], device="331")
        at = {"call": placed["call"], "device": "331"}
        refused = await group.request("fetchVoicemailAudio", **at)
        assert refused == {
            "ok": False,
            "error": {
                "code": "notPermitted",
                "message": "340 may use fetchVoicemailAudio on their own mailbox only",
            },
        }
        fetched = (await bernd.ok("fetchVoicemailAudio", **at))["result"]
        assert base64.b64decode(fetched["audio"]) == audio
        await bernd.ok("clearConnection", call=placed["call"], device="331")
        # His profile and a hidden presence with a private note.
        await bernd.ok("setProfile", presenceVisibility="notVisible")
        await bernd.ok("setPresence", user="331", status="meeting", info=NOTE)
        # The positive control: a call to the group rings the member phone 331.
        ring = (await tester.ok("makeCall", calling="330", called="340"))["result"]["call"]

        def rings(doc: Any) -> bool:
            return bool(doc["event"] == "delivered" and doc["call"] == ring)

        for client in (group, bernd):
            delivered = await client.wait_for(topic("devices", "331", "events"), rings)
            assert delivered["group"] == "340" and delivered["alerting"] == "331"
        await group.wait_for(topic("devices", "340", "state"), lambda d: bool(d["connections"]))
        await tester.ok("clearCall", call=ring)
        await settled(group)
        await settled(bernd)
        group_replay = await group.replay_all(first)
        bernd_replay = await bernd.replay_all(first)

    sha = hashlib.sha256(audio).hexdigest().encode()
    # 340: nothing of Bernd's own on any topic, not his note, not his message's hash.
    assert [m.topic for m in group.messages if m.topic.startswith(topic("users", "331"))] == []
    assert [(m.topic, m.doc) for m in group.messages if bernds_own(m.doc)] == []
    for secret in (NOTE.encode(), sha):
        assert [m.topic for m in group.messages if secret in m.payload] == []
    assert [e for e in group_replay if bernds_own(e)] == []
    assert any(e["event"] == "delivered" and e["call"] == ring for e in group_replay)

    # Bernd: all of it, on his own event topic and no device's; his replay the same.
    own = bernd.docs(topic("users", "331", "events"))
    assert {d["event"] for d in own} >= BERNDS_OWN
    assert all(bernds_own(d) for d in own)
    assert [d for d in bernd.docs(topic("devices", "+", "events")) if bernds_own(d)] == []
    assert [d for d in own if d["event"] == "presenceChanged"][-1]["info"] == NOTE
    assert [e["seq"] for e in bernd_replay if bernds_own(e)] == [d["seq"] for d in own]
    assert any(e["event"] == "delivered" and e["call"] == ring for e in bernd_replay)
