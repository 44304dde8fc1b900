"""The gap-filling bookkeeping of cti.client (cti/client/streams.py), without a broker."""

from __future__ import annotations

from typing import Any

from cti.api.documents import DeviceStateDoc, LampDoc, StatusDoc
from cti.client import CtiClient, DeviceEvent, DeviceState, Lamp, OwnEvent
from cti.client.streams import Streams
from cti.client.updates import device_events, own_events


def call_event(seq: int, name: str, **states: str) -> dict[str, Any]:
    """A call event in the call-topic form (replay), ``states``: device -> its state."""
    return {
        "seq": seq,
        "ts": "2026-11-22T19:20:38.731Z",
        "event": name,
        "call": 1,
        "cause": "normal",
        "connections": [{"device": d, "state": s} for d, s in states.items()],
    }


def live(doc: dict[str, Any], device: str) -> DeviceEvent:
    """The same event as the node publishes it on ``device``'s event topic."""
    [event] = device_events(doc, {device})
    return DeviceEvent(event.device, event.seq, event.event, event.doc)  # not replayed


def state(device: str, seq: int, summary: str = "idle") -> DeviceState:
    doc = {"seq": seq, "event": "deviceState", "device": device, "summary": summary}
    return DeviceState(device, DeviceStateDoc(**doc))  # type: ignore[typeddict-item]


def lamp(device: str, seq: int) -> Lamp:
    return Lamp(device, LampDoc(seq=seq, event="lamp", device=device))  # type: ignore[typeddict-item]


def seqs(updates: list[Any]) -> list[tuple[str, int]]:
    return [(type(u).__name__, u.seq) for u in updates]


def synced(*devices: str, covered: int = 0) -> Streams:
    streams = Streams()
    streams.devices.update(devices)
    streams.epoch = "e1"
    streams.hold()
    assert streams.release([], covered) == []
    return streams


def test_a_replayed_call_event_is_what_each_parties_topic_carries() -> None:
    doc = call_event(7, "delivered", **{"330": "connected", "331": "alerting"})
    [bernd] = device_events(doc, {"331", "332"})
    assert (bernd.device, bernd.seq, bernd.event, bernd.replayed) == ("331", 7, "delivered", True)
    assert bernd.doc == {**doc, "monitoredDevice": "331", "localConnectionInfo": "alerting"}
    assert bernd.call == 1
    assert [e.device for e in device_events(doc, {"330", "331"})] == ["330", "331"]
    assert device_events(doc, {"332"}) == []


def test_other_events_go_to_the_one_device_they_name() -> None:
    dnd = {"seq": 3, "ts": "x", "event": "doNotDisturb", "device": "331", "on": True}
    phone = {"seq": 4, "ts": "x", "event": "assignedPhoneSet", "user": "340", "phone": "338"}
    assert [(e.device, e.doc, e.call) for e in device_events(dnd, {"331"})] == [("331", dnd, None)]
    assert [e.device for e in device_events(phone, {"340"})] == ["340"]
    assert device_events(dnd, {"330"}) == device_events(phone, {"331"}) == []


def test_a_persons_own_events_are_no_devices_but_where_they_are_heard() -> None:
    """Presence, profile and mailbox events are on the owner's own event topic, never on the
    phone of that number (a MULAP group's account reads it too, PRES-04, VM-02): a filled gap
    gives a watched device none of them, as its topic did not carry them; a greeting or a
    message heard on a device other than the owner's number is on that device's topic."""
    profile = {"seq": 5, "ts": "x", "event": "profileChanged", "name": "331", "mobile": None}
    presence = {"seq": 6, "ts": "x", "event": "presenceChanged", "user": "331", "status": "meeting"}
    menu = {"seq": 7, "ts": "x", "event": "menuEntered", "mailbox": "340", "device": "337"}
    own = {"seq": 8, "ts": "x", "event": "messagePlaying", "mailbox": "331", "device": "331"}
    heard = {"seq": 9, "ts": "x", "event": "messagePlaying", "mailbox": "340", "device": "337"}
    greeting = {"seq": 10, "ts": "x", "event": "greetingPlayed", "mailbox": "331", "device": "330"}
    for doc in (profile, presence, menu, own):
        assert device_events(doc, {"331", "337", "340"}) == [], doc["event"]
    assert [e.device for e in device_events(heard, {"331", "337", "340"})] == ["337"]
    assert [e.device for e in device_events(greeting, {"330", "331"})] == ["330"]
    assert device_events(greeting, {"331"}) == []


def test_live_events_come_once_per_device() -> None:
    streams = synced("330", "331")
    doc = call_event(5, "established", **{"330": "connected", "331": "connected"})
    assert seqs(streams.live(live(doc, "330")) + streams.live(live(doc, "331"))) == [
        ("DeviceEvent", 5),
        ("DeviceEvent", 5),
    ]
    assert streams.live(live(doc, "331")) == []  # published again (at least once)
    assert streams.covered == 5


def test_states_and_lamps_older_or_again_are_dropped() -> None:
    streams = synced("331")
    assert seqs(streams.live(state("331", 5)) + streams.live(lamp("331", 5))) == [
        ("DeviceState", 5),
        ("Lamp", 5),
    ]
    assert streams.live(state("331", 5)) == streams.live(state("331", 4)) == []
    assert streams.live(lamp("331", 5)) == []
    assert seqs(streams.live(state("331", 6))) == [("DeviceState", 6)]


def test_a_gap_is_filled_before_what_arrived_meanwhile_in_seq_order() -> None:
    """Held: live 12 and 13 and a state of 13, arrived while the log was asked; the log says
    10..12 (11 is another device's, 12 also came live): 10, 12 (live copy), 13, state 13."""
    streams = synced("331", covered=9)
    streams.hold()
    e = {
        n: call_event(n, "x", **{"331": "connected"})
        for n in (10, 12, 13)  # 11: someone else's call, not in Bernd's replay
    }
    assert streams.live(live(e[12], "331")) == []
    assert streams.live(state("331", 13)) == []
    assert streams.live(live(e[13], "331")) == []
    released = streams.release([e[10], e[12]], published=12)
    assert seqs(released) == [
        ("DeviceEvent", 10),
        ("DeviceEvent", 12),
        ("DeviceEvent", 13),
        ("DeviceState", 13),
    ]
    assert [getattr(u, "replayed", None) for u in released] == [True, False, False, None]
    assert streams.covered == 13 and not streams.holding
    # Later: replayed again (another gap from an older position) changes nothing.
    streams.hold()
    assert streams.release([e[10], e[12], e[13]], published=13) == []


def test_an_event_logged_but_not_yet_published_arrives_live_not_replayed() -> None:
    """The log answers the replay up to 15, but the node had published only up to 12 (its
    live status) and nothing newer came live yet: 13..15 are left to their live copies, which
    come after the release and are delivered live (a UI rings for a call ringing now)."""
    streams = synced("331", covered=9)
    streams.hold()
    e = {n: call_event(n, "x", **{"331": "connected"}) for n in (10, 13, 15)}
    released = streams.release([e[10], e[13], e[15]], published=12)
    assert [(u.seq, u.replayed) for u in released] == [(10, True)]
    assert streams.covered == 12
    for n in (13, 15):
        [arrived] = streams.live(live(e[n], "331"))
        assert (arrived.seq, arrived.replayed) == (n, False)
    assert streams.covered == 15


def test_a_held_live_event_proves_what_was_published_before_it() -> None:
    """A replayed event older than a held live one was published (the node publishes in seq
    order), maybe before the subscription took effect: it is delivered from the log."""
    streams = synced("331", covered=9)
    streams.hold()
    e = {n: call_event(n, "x", **{"331": "connected"}) for n in (10, 11, 14)}
    assert streams.live(live(e[14], "331")) == []
    released = streams.release([e[10], e[11], e[14]], published=9)
    assert [(u.seq, u.replayed) for u in released] == [(10, True), (11, True), (14, False)]
    assert streams.covered == 14


def test_covered_moves_only_with_what_arrives_live_while_synced() -> None:
    streams = Streams()
    streams.status_seen(50)  # never synced: nothing is known to have arrived
    assert streams.covered is None and streams.start(40) == 41  # first: after the status
    streams.hold()
    streams.release([], 40)
    streams.status_seen(50)
    assert streams.covered == 50 and streams.start(60) == 51
    streams.hold()
    streams.status_seen(70)  # held: it may have overtaken what is being filled
    assert streams.covered == 50


def test_a_reset_forgets_everything_and_holds() -> None:
    streams = synced("331")
    streams.live(live(call_event(90, "x", **{"331": "connected"}), "331"))
    streams.live(state("331", 90))
    streams.reset("e2")
    assert (streams.epoch, streams.covered, streams.holding) == ("e2", None, True)
    assert streams.live(state("331", 20)) == []  # held until synced
    released = streams.release([call_event(21, "x", **{"331": "connected"})], published=21)
    assert seqs(released) == [("DeviceState", 20), ("DeviceEvent", 21)]  # lower seqs: new log


def test_a_refused_first_replay_goes_on_from_the_status_not_from_the_start_of_the_log() -> None:
    """Released without the log, ``covered`` is where the fill would have started: a later
    fill must not replay (and deliver) the whole history."""
    cti = CtiClient("mqtt://127.0.0.1", user="331", password="x")
    cti._status = StatusDoc(state="online", seq=40, epoch="e1")  # type: ignore[typeddict-item]
    cti._streams.devices.add("331")
    cti._streams.hold()
    cti._streams.live(state("331", 38))
    released = cti._release_unfilled()
    assert seqs(released) == [("DeviceState", 38)]
    assert (cti._streams.covered, cti._streams.holding) == (40, False)


def test_own_events_are_a_stream_of_their_own_filled_from_the_owners_events_in_a_replay() -> None:
    """watch_own(): the replayed events of the owner (``OWNED``: the owner field of presence,
    profile, mailbox events) come as OwnEvents in seq order with the held live ones, each
    once; another user's own events and device events are not the owner's stream. A message
    played on the owner's phone is on both streams, each once."""
    presence = {"seq": 5, "ts": "x", "event": "presenceChanged", "user": "331", "status": "away"}
    others = {"seq": 6, "ts": "x", "event": "presenceChanged", "user": "332", "status": "away"}
    waiting = {"seq": 7, "ts": "x", "event": "messageWaiting", "mailbox": "331", "on": True}
    profile = {"seq": 8, "ts": "x", "event": "profileChanged", "name": "331", "mobile": None}
    heard = {"seq": 9, "ts": "x", "event": "messagePlaying", "mailbox": "331", "device": "337"}
    dnd = {"seq": 10, "ts": "x", "event": "doNotDisturb", "device": "331", "on": True}
    assert own_events(others, {"331"}) == own_events(dnd, {"331"}) == []
    [own] = own_events(presence, {"331"})
    assert own == OwnEvent("331", 5, "presenceChanged", presence, replayed=True)

    streams = synced("331", "337", covered=4)
    streams.owners.add("331")
    streams.hold()  # a reconnect
    assert streams.live(OwnEvent("331", 8, "profileChanged", profile)) == []  # held
    released = streams.release([presence, others, waiting, profile, heard, dnd], published=10)
    assert [(type(u).__name__, u.seq, u.replayed) for u in released] == [
        ("OwnEvent", 5, True),
        ("OwnEvent", 7, True),
        ("OwnEvent", 8, False),  # the live copy wins over its replayed twin
        ("DeviceEvent", 9, True),  # heard on 337: that device's stream too
        ("OwnEvent", 9, True),
        ("DeviceEvent", 10, True),
    ]
    assert streams.covered == 10
    # Republished after a node restart: already delivered, on either stream.
    assert streams.live(OwnEvent("331", 9, "messagePlaying", heard)) == []
    later = OwnEvent("331", 11, "presenceChanged", {**presence, "seq": 11})
    assert streams.live(later) == [later] and streams.covered == 11
