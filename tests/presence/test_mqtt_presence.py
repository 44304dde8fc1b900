"""Two signed-in users watch each other's presence over MQTT, within and outside visibility
(PRES-04, PRES-05), against the embedded Mosquitto with the node's ACL files: what each may
read is the broker's business, not the UI's politeness.

A = 331 (Bernd), B = 332 (Clara). Every "nothing arrives" has a positive control: a reply to
the client's own request, after which everything queued before it has arrived.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import SecureNode, settled, topic

pytestmark = pytest.mark.asyncio(loop_scope="module")

A, B = "331", "332"
DOC_KEYS = {"seq", "ts", "event", "user", "name", "visible", "status", "returnAt", "info"}


def later(seq: int) -> Any:
    # An empty message (doc None) clears a retained document: the node sends those at each
    # connect, which a client subscribing meanwhile may see live. No seq to compare.
    return lambda doc: doc is not None and doc["seq"] >= seq


async def test_pres04_pres05_users_see_each_other_only_within_visibility(
    secure_node: SecureNode,
) -> None:
    n = secure_node
    watch = [topic("presence", "+"), topic("users", "+", "presence")]
    async with (
        n.client(A, filters=watch, name="a1") as a,
        n.client(A, filters=watch, name="a2") as a2,  # A's second client (PRES-05)
        n.client(B, filters=watch, name="b") as b,
    ):
        # At connect: every user's public presence, retained; one's own full document.
        first = await b.wait_for(topic("presence", A))
        assert set(first) == DOC_KEYS
        assert (first["status"], first["visible"], first["name"]) == ("office", True, "Bernd Vogel")
        own = await a.wait_for(topic("users", A, "presence"))
        assert (own["status"], own["visibility"], own["forwardingTo"]) == (
            "office",
            "internalAndExternal",
            None,
        )

        # Visible (the default): B sees A's status, return time and info; both A clients too.
        back = n.running.node.clock.now_ms() + 3_600_000
        set_ = await a.ok("setPresence", user=A, status="meeting", returnAt=back, info="Board")
        shown = await b.wait_for(topic("presence", A), later(set_["seq"]))
        assert (shown["status"], shown["returnAt"], shown["info"]) == ("meeting", back, "Board")
        for client in (a, a2):
            mine = await client.wait_for(topic("users", A, "presence"), later(set_["seq"]))
            assert (mine["status"], mine["info"], mine["forwardingTo"]) == (
                "meeting",
                "Board",
                "351",  # the default target: voicemail (PRES-03)
            )
        assert "forwardingTo" not in shown  # where A's calls go is A's business

        # Not visible: B sees that A hides it, nothing of the status; A still sees all.
        hide = await a.ok("setProfile", presenceVisibility="notVisible")
        hidden = await b.wait_for(topic("presence", A), later(hide["seq"]))
        assert (hidden["visible"], hidden["status"], hidden["returnAt"], hidden["info"]) == (
            False,
            None,
            None,
            None,
        )
        mark = len(b.messages)
        lunch = await a2.ok("setPresence", user=A, status="lunch", info="Canteen")
        mine = await a.wait_for(topic("users", A, "presence"), later(lunch["seq"]))
        assert (mine["status"], mine["info"], mine["visibility"]) == (
            "lunch",
            "Canteen",
            "notVisible",
        )
        await a2.ok("setPresence", user=A, status="meeting", info="Still hidden")
        await settled(b)
        leaked = [
            m.doc for m in b.messages[mark:] if "Canteen" in str(m.doc) or "lunch" in str(m.doc)
        ]
        assert leaked == []
        # Not even when: what B sees of A stays the same document, its seq and time too.
        assert [m.doc for m in b.messages[mark:] if m.topic == topic("presence", A)] == []
        # B never reads A's own topic (the broker's ACL), whatever B subscribed to.
        assert b.on(topic("users", A, "presence")) == []
        assert b.on(topic("users", B, "presence"))  # positive control: B's own arrives

        # Internal only: inside the site it shows again (external reach is VM-08's).
        show = await a.ok("setProfile", presenceVisibility="internalOnly")
        again = await b.wait_for(topic("presence", A), later(show["seq"]))
        assert (again["visible"], again["status"], again["info"]) == (
            True,
            "meeting",
            "Still hidden",
        )

        # DND from the phone is presence DND for everyone who may see it (one truth).
        dnd = await a.ok("setDoNotDisturb", device=A, on=True)
        shown = await b.wait_for(topic("presence", A), later(dnd["seq"]))
        assert shown["status"] == "doNotDisturb"
        await a.ok("setPresence", user=A, status="office")
        await a.ok("setProfile", presenceVisibility="internalAndExternal")

        # Nobody sets another user's presence.
        refused = await b.request("setPresence", user=A, status="sick")
        assert refused["error"]["code"] == "notPermitted"
        refused = await b.request("getPresence", user=A)
        assert refused["error"]["code"] == "notPermitted"
