"""End to end through a real broker: requests in on ``cti/node1/requests/*``, events out on the
device and call topics, retained device states and status, replay, and both reply styles.

The event sequences are those of tests/domain/test_call_model.py, now as a UI receives them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomqtt

from cti.domain import INTERNAL_KINDS
from cti.store import SqliteStore
from tests.mqtt.conftest import (
    BASE,
    SEEDED,
    V5,
    Broker,
    CtiClient,
    NodeFace,
    cut_face_connection,
    retained,
    retained_states,
)

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def device_line(doc: dict[str, Any]) -> str:
    """The event as a line of the expected streams below, which count seqs from the first
    event after the tester's account was seeded."""
    local = doc["localConnectionInfo"]
    return f"{doc['seq'] - SEEDED} {doc['event']}({doc['cause']}) call={doc['call']} {local}"


def call_line(doc: dict[str, Any]) -> str:
    conns = " ".join(f"{c['device']}:{c['state']}" for c in doc["connections"])
    return f"{doc['seq'] - SEEDED} {doc['event']}({doc['cause']}) call={doc['call']} | {conns}"


def check_envelope(doc: dict[str, Any], since: datetime, min_seq: int = 1) -> None:
    """Every event payload carries seq, ts (ISO-8601 UTC with ms) and event."""
    seq = doc["seq"]
    assert isinstance(seq, int) and not isinstance(seq, bool) and seq >= min_seq
    assert isinstance(doc["event"], str) and doc["event"]
    assert ISO_MS.match(doc["ts"]), doc["ts"]
    ts = datetime.fromisoformat(doc["ts"].replace("Z", "+00:00"))
    assert since - timedelta(seconds=1) <= ts <= datetime.now(UTC) + timedelta(seconds=1)


def strictly_increasing(seqs: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(seqs))


DEVICE_330 = [
    "1 serviceInitiated(makeCall) call=1 initiated",
    "2 originated(newCall) call=1 connected",
    "3 delivered(newCall) call=1 connected",
    "4 established(newCall) call=1 connected",
    "5 held(consultation) call=1 hold",
    "6 serviceInitiated(consultation) call=2 initiated",
    "7 originated(consultation) call=2 connected",
    "8 delivered(consultation) call=2 connected",
    "9 established(consultation) call=2 connected",
    "10 transferred(transfer) call=1 null",
    "13 serviceInitiated(makeCall) call=3 initiated",
    "14 originated(newCall) call=3 connected",
    "15 delivered(newCall) call=3 connected",
    "16 established(newCall) call=3 connected",
    "17 held(consultation) call=3 hold",
    "18 serviceInitiated(consultation) call=4 initiated",
    "19 originated(consultation) call=4 connected",
    "20 delivered(consultation) call=4 connected",
    "21 established(consultation) call=4 connected",
    "22 conferenced(conference) call=3 connected",
    "23 connectionCleared(normalClearing) call=3 null",
    "26 serviceInitiated(makeCall) call=5 initiated",
    "27 originated(newCall) call=5 connected",
    "28 delivered(newCall) call=5 connected",
    "29 diverted(redirected) call=5 connected",
    "30 delivered(redirected) call=5 connected",
    "31 established(redirected) call=5 connected",
]
DEVICE_331 = [
    "3 delivered(newCall) call=1 alerting",
    "4 established(newCall) call=1 connected",
    "5 held(consultation) call=1 connected",
    "10 transferred(transfer) call=1 connected",
    "11 connectionCleared(normalClearing) call=1 null",
    "15 delivered(newCall) call=3 alerting",
    "16 established(newCall) call=3 connected",
    "17 held(consultation) call=3 connected",
    "22 conferenced(conference) call=3 connected",
    "23 connectionCleared(normalClearing) call=3 connected",
    "24 connectionCleared(normalClearing) call=3 null",
    "28 delivered(newCall) call=5 alerting",
    "29 diverted(redirected) call=5 null",
]
DEVICE_332 = [
    "8 delivered(consultation) call=2 alerting",
    "9 established(consultation) call=2 connected",
    "10 transferred(transfer) call=1 connected",
    "11 connectionCleared(normalClearing) call=1 connected",
    "12 callCleared(normalClearing) call=1 null",
    "20 delivered(consultation) call=4 alerting",
    "21 established(consultation) call=4 connected",
    "22 conferenced(conference) call=3 connected",
    "23 connectionCleared(normalClearing) call=3 connected",
    "24 connectionCleared(normalClearing) call=3 connected",
    "25 callCleared(normalClearing) call=3 null",
]
DEVICE_351 = [
    "30 delivered(redirected) call=5 alerting",
    "31 established(redirected) call=5 connected",
]
CALLS = {
    1: [
        "1 serviceInitiated(makeCall) call=1 | 330:initiated",
        "2 originated(newCall) call=1 | 330:connected",
        "3 delivered(newCall) call=1 | 330:connected 331:alerting",
        "4 established(newCall) call=1 | 330:connected 331:connected",
        "5 held(consultation) call=1 | 330:hold 331:connected",
        "10 transferred(transfer) call=1 | 330:null 331:connected 332:connected",
        "11 connectionCleared(normalClearing) call=1 | 331:null 332:connected",
        "12 callCleared(normalClearing) call=1 | 332:null",
    ],
    2: [
        "6 serviceInitiated(consultation) call=2 | 330:initiated",
        "7 originated(consultation) call=2 | 330:connected",
        "8 delivered(consultation) call=2 | 330:connected 332:alerting",
        "9 established(consultation) call=2 | 330:connected 332:connected",
    ],
    3: [
        "13 serviceInitiated(makeCall) call=3 | 330:initiated",
        "14 originated(newCall) call=3 | 330:connected",
        "15 delivered(newCall) call=3 | 330:connected 331:alerting",
        "16 established(newCall) call=3 | 330:connected 331:connected",
        "17 held(consultation) call=3 | 330:hold 331:connected",
        "22 conferenced(conference) call=3 | 330:connected 331:connected 332:connected",
        "23 connectionCleared(normalClearing) call=3 | 330:null 331:connected 332:connected",
        "24 connectionCleared(normalClearing) call=3 | 331:null 332:connected",
        "25 callCleared(normalClearing) call=3 | 332:null",
    ],
    4: [
        "18 serviceInitiated(consultation) call=4 | 330:initiated",
        "19 originated(consultation) call=4 | 330:connected",
        "20 delivered(consultation) call=4 | 330:connected 332:alerting",
        "21 established(consultation) call=4 | 330:connected 332:connected",
    ],
    5: [
        "26 serviceInitiated(makeCall) call=5 | 330:initiated",
        "27 originated(newCall) call=5 | 330:connected",
        "28 delivered(newCall) call=5 | 330:connected 331:alerting",
        "29 diverted(redirected) call=5 | 330:connected 331:null",
        "30 delivered(redirected) call=5 | 330:connected 351:alerting",
        "31 established(redirected) call=5 | 330:connected 351:connected",
    ],
}
TALKING_ALLOWED = ["holdCall", "consultationCall", "singleStepTransferCall", "clearConnection"]


async def run_scenario(ui: CtiClient) -> int:
    """Transfer, conference and deflect, all through request topics; the last seq."""
    # CALL-01/03/05/07: 330 calls 331, consults 332 and transfers.
    r = await ui.ok("makeCall", calling="330", called="331")
    assert r == {"ok": True, "result": {"call": 1, "device": "330"}, "seq": SEEDED + 3}
    assert await ui.ok("answerCall", call=1, device="331") == {
        "ok": True,
        "result": {"call": 1, "device": "331"},
        "seq": SEEDED + 4,
    }
    r = await ui.ok("consultationCall", call=1, device="330", consulted="332")
    assert (r["result"], r["seq"]) == ({"call": 2, "device": "330"}, SEEDED + 8)
    assert (await ui.ok("answerCall", call=2, device="332"))["seq"] == SEEDED + 9
    r = await ui.ok("transferCall", device="330")
    assert (r["result"], r["seq"]) == ({"call": 1}, SEEDED + 10)
    assert (await ui.ok("clearConnection", call=1, device="331"))["seq"] == SEEDED + 12
    # CALL-08: 330 calls 331, consults 332 and joins all three.
    assert (await ui.ok("makeCall", calling="330", called="331"))["result"]["call"] == 3
    await ui.ok("answerCall", call=3, device="331")
    assert (await ui.ok("consultationCall", call=3, device="330", consulted=332))[
        "seq"
    ] == SEEDED + 20
    await ui.ok("answerCall", call=4, device="332")
    r = await ui.ok("conferenceCall", device="330", heldCall=3, activeCall=4)
    assert (r["result"], r["seq"]) == ({"call": 3}, SEEDED + 22)
    assert (await ui.ok("clearCall", call=3))["seq"] == SEEDED + 25
    # CALL-09: a ringing call deflected to voicemail.
    assert (await ui.ok("makeCall", calling=330, called=331))["result"]["call"] == 5
    r = await ui.ok("deflectCall", call=5, device="331", to="351")
    assert (r["result"], r["seq"]) == ({"call": 5, "device": "351"}, SEEDED + 31)
    return int(r["seq"])


async def test_transfer_conference_deflect_streams(
    ui: CtiClient, node_face: NodeFace, broker: Broker
) -> None:
    """CALL-01, CALL-03, CALL-05, CALL-07, CALL-08, CALL-09, CALL-11, CALL-12: the exact
    per-device and per-call event streams, the envelope of every payload, and the final
    retained device states and status."""
    since = datetime.now(UTC)
    last = await run_scenario(ui)
    assert last == node_face.node.state.seq
    # Events follow the replies: wait until the last one reached every topic it goes to.
    for topic in ("calls/5/events", "devices/330/events", "devices/351/events", "events"):
        await ui.wait_for(
            f"{BASE}/{topic}",
            lambda d: (d[-1] if isinstance(d, list) else d)["seq"] == last,
        )

    streams = {
        "330": DEVICE_330,
        "331": DEVICE_331,
        "332": DEVICE_332,
        "351": DEVICE_351,
    }
    for device, expected in streams.items():
        docs = ui.docs(f"{BASE}/devices/{device}/events")
        assert [device_line(d) for d in docs] == expected, device
        for d in docs:
            check_envelope(d, since)
            assert d["monitoredDevice"] == device
    for device in ("300", "333", "334", "335", "336", "337", "338", "340", "390"):
        assert ui.on(f"{BASE}/devices/{device}/events") == []

    calls_seen: dict[int, int] = {}
    by_seq: dict[int, dict[str, Any]] = {}
    for call, expected in CALLS.items():
        docs = ui.docs(f"{BASE}/calls/{call}/events")
        assert [call_line(d) for d in docs] == expected, call
        seqs = [d["seq"] for d in docs]
        assert strictly_increasing(seqs)
        for d in docs:
            check_envelope(d, since)
            assert d["call"] == call
            assert d["seq"] not in calls_seen, "an event on two call topics"
            calls_seen[d["seq"]] = call
            by_seq[d["seq"]] = d
    assert {m.topic for m in ui.on(f"{BASE}/calls/+/events")} == {
        f"{BASE}/calls/{c}/events" for c in CALLS
    }
    # Merging all call topics gives every seq exactly once: gap-free overall.
    assert sorted(calls_seen) == list(range(SEEDED + 1, last + 1))

    # A device event is the call event plus that device's view of it.
    for device in streams:
        for d in ui.docs(f"{BASE}/devices/{device}/events"):
            local = d.pop("localConnectionInfo")
            assert d.pop("monitoredDevice") == device
            assert d == by_seq[d["seq"]]
            assert {"device": device, "state": local} in d["connections"]

    # The node-wide topic carries the same documents, batch by batch, in seq order.
    batches = ui.docs(f"{BASE}/events")
    flat = [d for batch in batches for d in batch]
    assert [d["seq"] for d in flat] == list(range(SEEDED + 1, last + 1))
    assert flat == [by_seq[s] for s in range(SEEDED + 1, last + 1)]

    # Every device-state update on the live stream carries increasing seqs per device.
    for device in node_face.site.devices:
        seqs = [d["seq"] for d in ui.docs(f"{BASE}/devices/{device}/state")]
        assert strictly_increasing(seqs), (device, seqs)

    # Final retained states, as a UI that subscribes now sees them (CALL-11, CALL-12).
    states = await retained_states(broker.host, broker.port, node_face.site)
    assert set(states) == set(node_face.site.devices)
    s330, s351 = states["330"], states["351"]
    assert (s330["seq"], s330["event"], s330["name"], s330["kind"]) == (
        last,
        "deviceState",
        "Anna Berger",
        "system_phone",
    )
    assert s330["summary"] == "talking-internal"
    assert s330["connections"] == [
        {
            "call": 5,
            "state": "connected",
            "summary": "talking-internal",
            "peer": "351",
            "peerName": "Voicemail",
            "parties": ["351"],
            "allowed": TALKING_ALLOWED,
        }
    ]
    assert (s351["seq"], s351["kind"], s351["summary"]) == (last, "voicemail", "talking-internal")
    assert [(c["call"], c["state"], c["peer"], c["peerName"]) for c in s351["connections"]] == [
        (5, "connected", "330", "Anna Berger")
    ]
    # A state's seq is its device's last change (the deflect, for 331): its last event.
    assert states["331"]["seq"] == max(d["seq"] for d in ui.docs(f"{BASE}/devices/331/events"))
    assert states["331"]["seq"] < last
    assert SEEDED + 23 <= states["332"]["seq"] <= last  # last touched by the conference's end
    for device, doc in states.items():
        check_envelope(doc, since - timedelta(seconds=30), min_seq=0)  # unused: seq 0
        assert doc["device"] == device
        assert doc["dnd"] is False and doc["forwarding"] == []
        if device not in ("330", "351"):
            assert (doc["summary"], doc["connections"]) == ("idle", []), device

    # The retained status says online and, within about a second, how far it published.
    await ui.wait_for(f"{BASE}/status", lambda d: d.get("seq") == last)
    status = (await retained(broker.host, broker.port, f"{BASE}/status", [f"{BASE}/status"]))[
        f"{BASE}/status"
    ]
    assert status["node"] == "node1" and status["state"] == "online"
    assert status["seq"] == last
    assert status["epoch"] == node_face.store.epoch


async def test_ringing_state_hides_the_caller_until_answered(
    ui: CtiClient, node_face: NodeFace, broker: Broker
) -> None:
    """CALL-10 privacy: watchers of a ringing device see no caller; its own events do."""
    r = await ui.ok("makeCall", calling="330", called="331")
    await ui.wait_for(f"{BASE}/devices/331/state", lambda d: d["seq"] >= r["seq"])
    states = await retained_states(broker.host, broker.port, node_face.site)
    ringing = states["331"]
    assert ringing["summary"] == "incoming-internal"
    assert ringing["connections"] == [
        {
            "call": 1,
            "state": "alerting",
            "summary": "incoming-internal",
            "peer": None,
            "peerName": None,
            "parties": [],
            "allowed": ["answerCall", "deflectCall", "clearConnection"],
        }
    ]
    assert "330" not in json.dumps(ringing["connections"])
    # The caller's own state names whom it calls.
    assert [(c["peer"], c["peerName"]) for c in states["330"]["connections"]] == [
        ("331", "Bernd Vogel")
    ]
    # 331's own event topic carries the caller.
    delivered = await ui.wait_for(f"{BASE}/devices/331/events")
    assert (delivered["event"], delivered["calling"]) == ("delivered", "330")

    r = await ui.ok("answerCall", call=1, device="331")
    await ui.wait_for(f"{BASE}/devices/331/state", lambda d: d["seq"] >= r["seq"])
    answered = (await retained_states(broker.host, broker.port, node_face.site))["331"]
    assert answered["summary"] == "talking-internal"
    assert [(c["peer"], c["peerName"], c["parties"]) for c in answered["connections"]] == [
        ("330", "Anna Berger", ["330"])
    ]


async def test_replay_pages_match_the_live_stream(
    ui: CtiClient, node_face: NodeFace, broker: Broker
) -> None:
    """Replay from a seq returns exactly the published events (internal timer events skipped,
    their seqs passed over by nextSeq), in pages of ``limit`` until ``complete``."""
    await ui.ok(
        "setForwarding",
        device="333",
        forwardingType="forwardNoAns",
        on=True,
        destination="351",
        ringTime=30,
    )
    await ui.ok("makeCall", calling="330", called="333")  # sets a no-answer timer
    await ui.ok("answerCall", call=1, device="333")  # clears it
    await ui.ok("clearConnection", call=1, device="330")
    await ui.ok("makeCall", calling="332", called="331")
    await ui.ok("answerCall", call=2, device="331")
    last = (await ui.ok("holdCall", call=2, device="332"))["seq"]
    assert last == node_face.node.state.seq

    with SqliteStore.open_readonly(node_face.path) as log:
        kinds = {r.seq: r.kind for r in log.read(1)}
    internal = sorted(s for s, k in kinds.items() if k in INTERNAL_KINDS)
    assert [kinds[s] for s in internal] == [
        "accountCreated",
        "passwordSet",
        "timerSet",
        "timerCleared",
    ]
    public = [s for s in range(1, last + 1) if s not in internal]

    await ui.wait_for(f"{BASE}/events", lambda batch: batch[-1]["seq"] == last)
    live = [d for batch in ui.docs(f"{BASE}/events") for d in batch]
    assert [d["seq"] for d in live] == public
    assert live[0]["event"] == "forwarding"

    # Page by page with limit 4.
    pages: list[dict[str, Any]] = []
    start = 1
    while True:
        reply = await ui.replay(start, 4)
        assert reply["ok"] is True
        page = reply["result"]
        pages.append(page)
        assert page["lastSeq"] == last
        assert page["publishedSeq"] == last  # all of it was published before the replay
        assert page["epoch"] == node_face.store.epoch
        covered = range(start, min(start + 4, last + 1))
        assert [e["seq"] for e in page["events"]] == [s for s in covered if s not in internal]
        assert page["nextSeq"] == covered[-1] + 1
        assert page["complete"] is (page["nextSeq"] > last)
        start = page["nextSeq"]
        if page["complete"]:
            break
    assert len(pages) == -(-last // 4)
    assert [e for p in pages for e in p["events"]] == live

    # From the middle, one page; and from past the end, nothing and complete.
    reply = await ui.replay(6)
    assert reply["result"]["events"] == [d for d in live if d["seq"] >= 6]
    assert reply["result"]["complete"] is True
    reply = await ui.replay(last + 1, 10)
    assert reply["result"]["events"] == []
    assert (reply["result"]["nextSeq"], reply["result"]["complete"]) == (last + 1, True)
    # Replay never changes the log.
    assert node_face.node.state.seq == last


async def test_mqtt311_style_request_gets_reply_with_correlation(
    node_face: NodeFace, broker: Broker
) -> None:
    """CALL-01: an MQTT 3.1.1 client puts ``reply_to`` and ``correlation`` into the payload;
    the reply goes there and echoes the correlation, for results, errors and replay."""
    async with CtiClient(
        broker.host, broker.port, version=aiomqtt.ProtocolVersion.V311, name="v311"
    ) as old:
        corr = {"id": "req-1", "n": [1, 2]}
        reply = await old.request_in_payload("makeCall", corr, calling="330", called="331")
        assert reply == {
            "ok": True,
            "result": {"call": 1, "device": "330"},
            "seq": SEEDED + 3,
            "correlation": corr,
        }
        await old.wait_for(f"{BASE}/calls/1/events", lambda d: d["seq"] == SEEDED + 3)
        reply = await old.request_in_payload("answerCall", 42, call=7, device="331")
        assert reply["ok"] is False and reply["correlation"] == 42
        assert reply["error"]["code"] == "invalidCallID"
        reply = await old.request_in_payload("makeCal", "x", calling="330", called="331")
        assert reply["error"]["code"] == "serviceNotSupported"
        assert reply["correlation"] == "x"
        reply = await old.request_in_payload("replay", "r", fromSeq=SEEDED + 2, limit=1)
        assert reply["correlation"] == "r"
        assert [e["seq"] for e in reply["result"]["events"]] == [SEEDED + 2]
        assert reply["result"]["nextSeq"] == SEEDED + 3
        assert reply["result"]["complete"] is False
    assert node_face.node.state.seq == SEEDED + 3


async def test_retained_state_of_an_unknown_device_is_cleared(
    ui: CtiClient, node_face: NodeFace, broker: Broker
) -> None:
    """CALL-11: no ghost devices. A retained state for a device the site does not configure
    (left by an older configuration) is cleared by the node with an empty retained publish
    when it connects; over MQTT 5 also one published while it is connected (specs/mqtt.md)."""
    ghost = f"{BASE}/devices/999/state"
    stale = b'{"seq":1,"event":"deviceState","device":"999","summary":"talking-internal"}'
    face = node_face.face
    await face.stop()
    await asyncio.wait_for(node_face.task, 5)
    await ui.client.publish(ghost, stale, qos=1, retain=True)
    await ui.wait_for_msg(lambda m: m.topic == ghost and m.payload == stale)
    await face.start()  # runs until the fixture stops it
    await ui.wait_for_msg(lambda m: m.topic == ghost and m.payload == b"")
    if ui.version == V5:
        mark = len(ui.messages)
        await ui.client.publish(ghost, stale, qos=1, retain=True)
        await ui.wait_for(ghost, lambda doc: doc is None, start=mark)
    expected = [f"{BASE}/devices/{d}/state" for d in node_face.site.devices]
    late = await retained(broker.host, broker.port, f"{BASE}/devices/+/state", expected)
    assert ghost not in late
    assert set(late) == set(expected)


async def test_user_settings_change_the_retained_state_and_reach_the_device_topic(
    ui: CtiClient, node_face: NodeFace, broker: Broker
) -> None:
    """USER-04 over MQTT: a MULAP user picks another assigned phone; watchers see it in the
    retained state, the group's event topic carries the change, the next call uses it."""
    r = await ui.ok("setAssignedPhone", user="340", phone="338")
    state = await ui.wait_for(f"{BASE}/devices/340/state", lambda d: d["seq"] >= r["seq"])
    assert (state["assignedPhone"], state["members"]) == ("338", ["337", "338"])
    event = await ui.wait_for(f"{BASE}/devices/340/events")
    assert (event["event"], event["user"], event["phone"], event["seq"]) == (
        "assignedPhoneSet",
        "340",
        "338",
        r["seq"],
    )
    made = await ui.ok("makeCall", calling="340", called="331")
    assert made["result"] == {"call": 1, "device": "338"}
    refused = await ui.request("setAssignedPhone", user="340", phone="330")
    assert refused == {
        "ok": False,
        "error": {
            "code": "notAMember",
            "message": "330 is not a phone of MULAP 340",
            "details": {"members": ["337", "338"]},
        },
    }


async def test_a_device_states_seq_is_its_last_change(
    ui: CtiClient, node_face: NodeFace, broker: Broker
) -> None:
    """specs/mqtt.md (issue 18 item 9): a device state's (and lamp's) ``seq`` is the seq of
    the last event that changed that device, not the log position: another device's events
    do not give it a new seq, neither does the node republishing every state on a reconnect;
    it is never below the events the state reflects."""
    made = await ui.ok("makeCall", calling="330", called="331")
    await ui.ok("answerCall", call=made["result"]["call"], device="331")
    talking = node_face.node.state.seq
    await ui.wait_for(f"{BASE}/devices/331/state", lambda d: d["summary"] == "talking-internal")
    dnd = await ui.ok("setDoNotDisturb", device="333", on=True)
    await ui.wait_for(f"{BASE}/devices/333/state", lambda d: d["dnd"] is True)
    states = await retained_states(broker.host, broker.port, node_face.site)
    assert states["330"]["seq"] == states["331"]["seq"] == talking
    assert states["333"]["seq"] == dnd["seq"] > talking
    assert states["332"]["seq"] == 0  # no event ever touched it
    lamps = await retained(
        broker.host, broker.port, f"{BASE}/lamps/+", [f"{BASE}/lamps/{d}" for d in ("330", "333")]
    )
    assert lamps[f"{BASE}/lamps/330"]["seq"] == talking
    assert lamps[f"{BASE}/lamps/333"]["seq"] == dnd["seq"]
    # A reconnect republishes every state: the same seqs.
    mark = len(ui.messages)
    await cut_face_connection(node_face)
    await ui.wait_for(f"{BASE}/status", lambda d: d["state"] == "offline", start=mark)
    await ui.wait_for(f"{BASE}/status", lambda d: d["state"] == "online", start=mark)
    await ui.wait_for(f"{BASE}/devices/332/state", lambda d: True, start=mark)
    again = await retained_states(broker.host, broker.port, node_face.site)
    assert {d: s["seq"] for d, s in again.items()} == {d: s["seq"] for d, s in states.items()}
