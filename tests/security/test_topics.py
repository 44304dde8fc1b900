"""Who reads and writes what (specs/security.md "Topics: who reads and writes", USER-04,
CALL-10, CALL-14): user A = 331 (Bernd), user B = 332 (Clara); the MULAP user 340 with the
phones 337/338; the monitor; the integrator phone-sim. Against the embedded Mosquitto with the
node's password and ACL files.

Every "nothing arrives" is shown with a positive control: something the same client DOES
receive, published by the node after the messages that must not arrive, so that a broken ACL
would make the test fail rather than time out into a pass.

One node per module: every test leaves no call behind (``idle`` checks it at the end)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from cti.site.model import PHONE_KINDS
from tests.mqtt.conftest import TESTER, CtiClient, matches
from tests.security.conftest import LAMP_KEYS, SecureNode, settled, topic

pytestmark = pytest.mark.asyncio(loop_scope="module")

A, B = "331", "332"
NOT_FOR_A = [  # every topic filter user A must not read anything on
    topic("devices", B, "state"),
    topic("devices", B, "events"),
    topic("devices", 333, "events"),
    topic("devices", 333, "state"),
    topic("calls", "+", "events"),
    topic("events"),
    topic("users", B, "inbox", "#"),
    topic("users", B, "favourites"),  # DIR-05: a user's favourites are theirs alone
    topic("users", "+", "requests", "+"),
    topic("users", B, "presence"),
    topic("users", B, "callers"),  # DIR-06: names from B's own directories
    topic("users", B, "journal"),  # JOUR-02: the counts of one's journal are one's own
    topic("users", B, "conferences"),  # CONF-04: only members see a conference
    topic("users", B, "voicemail"),  # VM-02: the badge of one's own mailbox
    topic("users", B, "chat"),  # IM-01: a conversation is its two users' alone
    topic("users", "+", "sessions", "+"),  # session markers: written by each, read by the node
]
FOR_A = [  # what A may read
    topic("status"),
    topic("lamps", "+"),
    topic("profiles", "+"),
    topic("devices", A, "state"),
    topic("devices", A, "events"),
    topic("users", A, "inbox", "#"),
    topic("users", A, "favourites"),
    topic("presence", "+"),  # within each user's visibility (PRES-04)
    topic("users", A, "presence"),
    topic("users", A, "callers"),
    topic("users", A, "journal"),
    topic("users", A, "conferences"),
    topic("users", A, "voicemail"),
    topic("users", A, "chat"),
    topic("online", "+"),  # whether each person is signed in anywhere (IM-01)
]


def not_your_device(principal: str, device: str, yours: list[str]) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {
            "code": "notYourDevice",
            "message": f"{principal} may not act as {device}",
            "details": {"device": device, "yours": yours},
        },
    }


def not_in_call(principal: str) -> dict[str, Any]:
    return {
        "ok": False,
        "error": {"code": "notYourDevice", "message": f"{principal} is not in that call"},
    }


def code(reply: dict[str, Any]) -> str:
    assert reply["ok"] is False, reply
    return str(reply["error"]["code"])


@pytest_asyncio.fixture(loop_scope="module")
async def tester(secure_node: SecureNode) -> AsyncIterator[CtiClient]:
    """The integrator, subscribed to every node topic it may read; at the end of each test
    no call is left (tests of this module share one node)."""
    async with secure_node.client(TESTER, filters=[topic("#")], name="tester") as client:
        yield client
        assert len(secure_node.running.node.state.calls.calls) == 0, "a test left a call"


async def call(client: CtiClient, calling: str, called: str) -> int:
    reply = await client.ok("makeCall", calling=calling, called=called)
    return int(reply["result"]["call"])


# -- acting as someone else's device -------------------------------------------------------
async def test_a_user_cannot_act_as_or_on_another_users_device_or_call(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    """notYourDevice (with details) for B's device, for a call A is not in; nothing changes."""
    n = secure_node
    async with n.client(A) as a:
        assert await a.request("makeCall", calling=B, called="330") == not_your_device(
            A, B, [A]
        )  # the reply of specs/security.md, to the letter
        b_call = await call(tester, B, "333")  # B's call, ringing at 333
        before = await tester.ok("snapshotCall", call=b_call)
        seq = n.seq
        answer = await a.request("answerCall", call=b_call, device="333")
        assert answer == not_your_device(A, "333", [A])
        for service, fields in [
            ("clearConnection", {"call": b_call, "device": B}),
            ("holdCall", {"call": b_call, "device": B}),
            ("deflectCall", {"call": b_call, "device": "333", "to": A}),
            ("directedPickupCall", {"picked": "333", "device": B}),
            ("singleStepTransferCall", {"call": b_call, "device": B, "to": A}),
            ("snapshotDevice", {"device": B}),
            ("getForwarding", {"device": B}),
            ("setDoNotDisturb", {"device": B, "on": True}),
        ]:
            device = fields.get("device", B)
            reply = await a.request(service, **fields)
            assert reply == not_your_device(A, str(device), [A]), service
        assert await a.request("clearCall", call=b_call) == not_in_call(A)
        assert await a.request("snapshotCall", call=b_call) == not_in_call(A)
        # As their own device, on a call they are not in: the call model has no connection.
        own = await a.request("answerCall", call=b_call, device=A)
        assert code(own) == "invalidConnectionID", own
        assert n.seq == seq, "a refused request changed something"
        assert await tester.ok("snapshotCall", call=b_call) == before
        await tester.ok("clearCall", call=b_call)


# -- reading ---------------------------------------------------------------------------------
async def test_a_user_reads_their_own_device_topics_and_every_lamp_only(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    """A subscribes to B's state and events, 333's, every call topic, the node-wide events,
    B's inbox, every request topic and even ``cti/node1/#``: while B's call runs nothing of it
    arrives; the lamps of 332 and 333 do, without numbers; then A's own DND change arrives on
    A's topics (the positive control after B's call). The integrator sees all of B's call."""
    n = secure_node
    async with n.client(A, filters=[*NOT_FOR_A, *FOR_A, topic("#")]) as a:
        await a.wait_for(topic("devices", A, "state"))  # A's retained state: subscribed
        start = len(a.messages)
        b_call = await call(tester, B, "333")
        await tester.ok("answerCall", call=b_call, device="333")
        await tester.ok("clearCall", call=b_call)
        await a.ok("setDoNotDisturb", device=A, on=True)
        await a.wait_for(topic("devices", A, "events"), lambda d: d["event"] == "doNotDisturb")
        await a.wait_for(topic("devices", A, "state"), lambda d: d["dnd"] is True)
        await a.ok("setDoNotDisturb", device=A, on=False)
        await a.wait_for(topic("devices", A, "state"), lambda d: d["dnd"] is False)
        await settled(a)
        got = a.messages[start:]
        # The integrator saw B's call on every topic A was denied.
        for pattern in (topic("devices", B, "events"), topic("calls", b_call, "events")):
            assert len(tester.on(pattern)) >= 3, pattern
        assert tester.on(topic("events"))
        assert [m.topic for m in got if not any(matches(m.topic, f) for f in FOR_A)] == []
        # Every lamp: B's and 333's went through the call, and carry nothing but their own.
        summaries = {
            d: [m.doc["summary"] for m in got if m.topic == topic("lamps", d)] for d in (B, "333")
        }
        assert "talking-internal" in summaries[B] and summaries[B][-1] == "idle", summaries
        assert "incoming-internal" in summaries["333"], summaries
        for m in a.on(topic("lamps", "+")):
            assert set(m.doc) == LAMP_KEYS, m.doc
            others = {k: v for k, v in m.doc.items() if k not in ("device", "seq", "ts")}
            text = json.dumps(others)
            assert not any(d in text for d in n.running.node.site.devices), m.doc
        assert {m.topic for m in a.on(topic("lamps", "+"))} == {
            topic("lamps", d) for d in n.running.node.site.devices
        }


async def test_replay_gives_a_user_the_events_of_their_own_devices(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    """A's replay holds exactly the events A's device topic carried (A's own call), none of
    B's call; the integrator's replay holds both."""
    n = secure_node
    first = n.seq + 1
    async with n.client(A, filters=[topic("devices", A, "events")]) as a:
        b_call = await call(tester, B, "333")
        a_call = await call(a, A, "330")
        await tester.ok("answerCall", call=a_call, device="330")
        await tester.ok("answerCall", call=b_call, device="333")
        await a.ok("clearCall", call=a_call)
        await tester.ok("clearCall", call=b_call)
        # clearCall: A's party leaves first (connectionCleared), then the call is cleared.
        await a.wait_for(
            topic("devices", A, "events"),
            lambda d: d["event"] == "connectionCleared" and d["device"] == A,
        )
        await settled(a)
        live = [d["seq"] for d in a.docs(topic("devices", A, "events"))]
        mine = await a.replay_all(first)
        everything = await tester.replay_all(first)
    assert [e["seq"] for e in mine] == live and live
    assert {e["call"] for e in mine} == {a_call}
    assert {e["call"] for e in everything} == {a_call, b_call}
    # The integrator's events of A's call that A took part in: the callCleared of 330's party
    # after A left is not A's.
    assert [e for e in everything if e["call"] == a_call and A in parties(e)] == mine


def parties(event: dict[str, Any]) -> set[str]:
    return {c["device"] for c in event.get("connections", [])}


# -- writing ---------------------------------------------------------------------------------
async def test_a_user_cannot_publish_on_node_topics_or_for_another_user(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    """A publishes (retained and not) on the node's status, lamps, states (B's and A's own),
    events, call events, profiles, on B's request topic (a makeCall from 332) and inbox, and
    on the secure request topic over the plain listener: the broker drops all of it. The
    integrator and B, subscribed, receive none of it before their own replies (positive
    control); nothing is executed; a fresh subscriber sees the node's retained documents."""
    n = secure_node
    marker = f"fake-{uuid.uuid4().hex[:6]}"
    fake = json.dumps({"seq": 10**9, "event": "deviceState", "summary": "dnd", "by": marker})
    spoofs = [
        (topic("status"), True),
        (topic("lamps", B), True),
        (topic("devices", B, "state"), True),
        (topic("devices", A, "state"), True),  # A reads it, may not write it
        (topic("devices", B, "events"), False),
        (topic("calls", 1, "events"), False),
        (topic("events"), False),
        (topic("events"), True),
        (topic("profiles", B), True),
        (topic("users", B, "favourites"), True),
        (topic("users", A, "favourites"), True),  # A reads their favourites, the node writes
        (topic("presence", B), True),  # PRES-04: only the node says what others see
        (topic("users", A, "presence"), True),  # A reads it, may not write it (PRES-05)
        (topic("users", A, "callers"), True),  # A reads it, only the node writes it (DIR-06)
        (topic("users", A, "conferences"), True),  # A reads it, only the node writes (CONF-04)
        (topic("users", A, "voicemail"), True),  # A reads it, only the node writes (VM-02)
        (topic("users", B, "voicemail"), True),
        (topic("users", B, "inbox", "x"), False),
        (topic("users", A, "inbox", "x"), False),  # A's inbox is the node's to write
        (topic("users", B, "requests", "setDoNotDisturb"), False),
        (topic("users", A, "secure", "requests", "setDoNotDisturb"), False),
    ]
    async with (
        n.client(B, filters=[topic("users", B, "inbox", "#"), topic("devices", B, "#")]) as b,
        n.client(A) as a,
    ):
        await b.wait_for(topic("devices", B, "state"))
        seq = n.seq
        for where, retain in spoofs:
            await a.client.publish(where, fake.encode(), qos=1, retain=retain)
        request = json.dumps({"calling": B, "called": "330", "reply_to": a.inbox})
        await a.client.publish(topic("users", B, "requests", "makeCall"), request, qos=1)
        await settled(a)
        await settled(tester)
        await settled(b)
        assert n.seq == seq, "a request published for someone else was executed"
        for who in (tester, b, a):
            assert [m.topic for m in who.messages if marker.encode() in m.payload] == []
        assert await tester.ok("snapshotDevice", device=B) == {"ok": True, "result": [], "seq": seq}
    retained = [topic("devices", A, "state"), topic("devices", B, "state"), topic("lamps", B),
                topic("profiles", B), topic("presence", B), topic("users", A, "presence"),
                topic("status")]  # fmt: skip
    # A fresh subscriber: events first, status last (each subscription is acknowledged before
    # the next is made, so a retained events message would arrive before the status).
    async with n.client(TESTER, filters=[topic("events"), *retained], name="late") as late:
        await late.wait_for(topic("status"))
        assert late.on(topic("events")) == []
        for where in retained[:-1]:
            assert late.on(where)[0].doc == n.truth(where), where
        assert late.on(topic("status"))[0].doc["state"] == "online"


async def test_replies_go_only_to_the_senders_inbox(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    """A reply address in B's inbox, on A's own device state topic or a ``$`` topic (MQTT 5
    Response Topic or ``reply_to`` in the payload): refused invalidReplyAddress on A's inbox
    itself, the correlation echoed, nothing published there; B's inbox receives only B's
    own reply, A's state topic only states (after A's DND change: the positive control)."""
    n = secure_node
    inbox = topic("users", A, "inbox")
    state = topic("devices", A, "state")
    refused = {
        "ok": False,
        "error": {
            "code": "invalidReplyAddress",
            "message": f"replies go to {inbox} or a topic below it",
        },
    }
    async with (
        n.client(B, filters=[topic("users", B, "inbox", "#")]) as b,
        n.client(A, filters=[inbox, state]) as a,
    ):
        await a.wait_for(state)
        for i, elsewhere in enumerate(
            [
                topic("users", B, "inbox", "stolen"),
                topic("users", B, "inbox"),
                state,
                topic("events"),
                "$SYS/cti",
                f"{inbox}x",
            ]
        ):
            corr = f"c{i}".encode()
            await a.publish(
                a.topic("snapshotDevice"),
                json.dumps({"device": A}).encode(),
                response_topic=elsewhere,
                correlation=corr,
            )
            msg = await a.wait_for_msg(lambda m, c=corr: m.topic == inbox and m.correlation == c)
            assert msg.doc == refused, elsewhere
            in_payload = await a.request_in_payload(
                "snapshotDevice", i, topic=a.topic("snapshotDevice"), device=A
            )
            assert in_payload["ok"] is True  # the positive control of the payload form
            await a.publish(
                a.topic("snapshotDevice"),
                json.dumps({"device": A, "replyTo": elsewhere, "correlation": [i]}).encode(),
            )
            await a.wait_for(inbox, lambda d, i=i: d == {**refused, "correlation": [i]})
        await a.ok("setDoNotDisturb", device=A, on=True)
        await a.wait_for(state, lambda d: d["dnd"] is True)
        await a.ok("setDoNotDisturb", device=A, on=False)
        await b.ok("snapshotDevice", device=B)
        assert len(b.messages) == 1 and b.messages[0].doc["ok"] is True
        assert {m.doc["event"] for m in a.on(state)} == {"deviceState"}


async def test_a_retained_request_runs_once_and_a_topic_below_a_service_is_answered(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    """Under the node's ACLs (issue 18 item 9): A's request published retained runs once and
    the node clears it (its account may write A's request topic), so the broker keeps
    nothing there, as the node's own account, the only reader of request topics, sees; a
    request one level below a service is answered serviceNotSupported on A's inbox instead
    of being dropped."""
    n = secure_node
    own = topic("users", A, "requests", "setDoNotDisturb")
    async with n.client(A, filters=[topic("devices", A, "state")]) as a:
        corr = b"retained"
        await a.publish(
            own,
            json.dumps({"device": A, "on": True}).encode(),
            response_topic=a.inbox,
            correlation=corr,
            retain=True,
        )
        reply = await a.wait_for_msg(lambda m: m.topic == a.inbox and m.correlation == corr)
        assert reply.doc["ok"] is True
        below = await a.raw_request(
            topic("users", A, "requests", "setDoNotDisturb", "x"),
            json.dumps({"device": A, "on": False}).encode(),
        )
        assert below["error"]["code"] == "serviceNotSupported"
        assert (
            f"requests go to {topic('users', A, 'requests', '{service}')}"
            in (below["error"]["message"])
        )
        assert (await a.ok("setDoNotDisturb", device=A, on=False))["ok"]
    secret = (n.data_dir / "node1.broker-secret").read_text().strip()
    async with CtiClient(
        n.host, n.port, filters=[own, topic("status")], name="node", user="cti-node1",
        password=secret,
    ) as node:  # fmt: skip
        await node.wait_for(topic("status"))
        assert node.on(own) == []


# -- MULAP (CALL-14, USER-04) -----------------------------------------------------------------
async def test_a_mulap_user_acts_for_the_group_and_its_phones(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    """340 places calls as the group (its assigned phone calls) and from the phones, moves
    its assigned phone, reads the phones' states; 331 can do none of it."""
    n = secure_node
    phones = [topic("devices", d, "state") for d in ("337", "338", "340")]
    async with n.client("340", filters=phones) as group, n.client(A) as a:
        for where in phones:
            await group.wait_for(where)  # the ACL lets 340 read its phones
        first = await group.ok("makeCall", calling="340", called="330")
        assert first["result"]["device"] == "337"  # the assigned phone
        await group.ok("clearCall", call=first["result"]["call"])
        direct = await group.ok("makeCall", calling="338", called="330")
        assert direct["result"]["device"] == "338"
        await group.ok("clearConnection", call=direct["result"]["call"], device="338")
        yours = ["337", "338", "340"]
        assert await group.request("makeCall", calling=A, called="330") == not_your_device(
            "340", A, yours
        )
        await group.ok("setAssignedPhone", user="340", phone="338")
        moved = await group.ok("makeCall", calling="340", called="330")
        assert moved["result"]["device"] == "338"
        await tester.ok("clearCall", call=moved["result"]["call"])

        seq = n.seq
        for service, fields, device in [
            ("setAssignedPhone", {"user": "340", "phone": "337"}, "340"),
            ("makeCall", {"calling": "337", "called": "330"}, "337"),
            ("makeCall", {"calling": "340", "called": "330"}, "340"),
            ("snapshotDevice", {"device": "338"}, "338"),
        ]:
            assert await a.request(service, **fields) == not_your_device(A, device, [A])
        assert n.seq == seq
        await group.ok("setAssignedPhone", user="340", phone="337")


# -- monitor and integrator -------------------------------------------------------------------
async def test_the_monitor_reads_everything_and_changes_nothing(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    n = secure_node
    readers = [topic("devices", "+", "state"), topic("devices", "+", "events"),
               topic("calls", "+", "events"), topic("events"), topic("lamps", "+")]  # fmt: skip
    async with n.client("monitor", filters=readers) as monitor, n.client("phone-sim") as sim:
        b_call = await call(sim, B, "333")
        await sim.ok("answerCall", call=b_call, device="333")
        for where in (topic("devices", B, "events"), topic("devices", 333, "events"),
                      topic("calls", b_call, "events")):  # fmt: skip
            await monitor.wait_for(where, lambda d: d["event"] == "established")
        await monitor.wait_for(topic("events"), lambda d: d[-1]["event"] == "established")
        await monitor.wait_for(topic("devices", 333, "state"), lambda d: d["connections"])

        assert (await monitor.ok("snapshotCall", call=b_call))["result"] == [
            {"device": B, "state": "connected"},
            {"device": "333", "state": "connected"},
        ]
        await monitor.ok("snapshotDevice", device="333")
        await monitor.ok("getForwarding", device=B)
        await monitor.ok("listAccounts")
        await monitor.ok("getProfile", name=B)
        events = (await monitor.ok("replay", fromSeq=1))["result"]["events"]
        assert b_call in {e.get("call") for e in events}

        seq = n.seq
        for service, fields in [
            ("makeCall", {"calling": "330", "called": "331"}),
            ("answerCall", {"call": b_call, "device": "333"}),
            ("clearCall", {"call": b_call}),
            ("clearConnection", {"call": b_call, "device": B}),
            ("setDoNotDisturb", {"device": "330", "on": True}),
            (
                "setForwarding",
                {
                    "device": "330",
                    "forwardingType": "forwardImmediate",
                    "on": True,
                    "destination": "331",
                },
            ),
            ("setAssignedPhone", {"user": "340", "phone": "338"}),
            ("setDialMethod", {"user": "335", "dialMethod": "cti_associated"}),
            ("updateAccount", {"name": "331", "licences": []}),
            ("removeAccount", {"name": "331"}),
            ("createAccount", {"name": "334", "password": "Start-2026!"}),
            ("setPassword", {"name": "331", "password": "Reset-2026!"}),
            ("setProfile", {"name": "331", "email": "x@example.com"}),
            ("setProfile", {"email": "monitor@example.com"}),  # not even its own
        ]:
            assert code(await monitor.request(service, **fields)) == "notPermitted", service
        assert n.seq == seq
        await sim.ok("clearCall", call=b_call)


async def test_an_integrator_controls_every_device(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    n = secure_node
    phones = sorted(d for d, dev in n.running.node.site.devices.items() if dev.kind in PHONE_KINDS)
    assert {"300", "330", "337", "338"} <= set(phones)
    async with n.client("phone-sim") as sim:
        for d in phones:  # each calls the voicemail (which answers at once)
            made = await call(sim, d, "351")
            await sim.ok("clearCall", call=made)
        made = await call(sim, "330", B)
        await sim.ok("answerCall", call=made, device=B)
        await sim.ok("holdCall", call=made, device="330")
        await sim.ok("retrieveCall", call=made, device="330")
        await sim.ok("clearConnection", call=made, device=B)
        assert (await sim.ok("snapshotDevice", device="330"))["result"] == []
        group = await sim.ok("makeCall", calling="340", called="331")
        await sim.ok("clearCall", call=group["result"]["call"])
