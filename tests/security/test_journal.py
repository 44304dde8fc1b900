"""The journal on the MQTT face, against a real node and its access-controlled Mosquitto
(JOUR-01..05, specs/journal.md): a user reads and changes their own journal only (the node
refuses another's, the broker keeps another's counts document away: UC-LESSONS "user A cannot
subscribe to B's journal"), the counts document follows every change, a callback from an
entry is a makeCall that closes the open entry when it connects.

User A = 331 (Bernd), user B = 332 (Clara). One node for the module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.mqtt.conftest import TESTER, CtiClient
from tests.security.conftest import SecureNode, settled, topic

pytestmark = pytest.mark.asyncio(loop_scope="module")

A, B = "331", "332"


@pytest_asyncio.fixture(loop_scope="module")
async def tester(secure_node: SecureNode) -> AsyncIterator[CtiClient]:
    async with secure_node.client(TESTER, filters=[topic("#")], name="tester") as client:
        yield client
        assert len(secure_node.running.node.state.calls.calls) == 0, "a test left a call"


def counts(doc: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return doc["open"], doc["missed"], doc["answered"], doc["all"], doc["overdue"]


async def test_own_journal_only_and_a_callback_closes_the_open_entry(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    n = secure_node
    async with (
        n.client(A, filters=[topic("users", A, "journal"), topic("users", B, "journal")]) as a,
        n.client(B, filters=[topic("users", A, "journal"), topic("users", B, "journal")]) as b,
    ):
        await a.wait_for(topic("users", A, "journal"))  # retained: published on connect
        # B calls A; A does not answer.
        made = await b.ok("makeCall", calling=B, called=A)
        call = made["result"]["call"]
        await b.ok("clearConnection", call=call, device=B)
        doc = await a.wait_for(topic("users", A, "journal"), lambda d: d["all"] == 1)
        assert counts(doc) == (1, 1, 0, 1, 0) and doc["user"] == A
        page = await a.ok("getJournal", user=A, folder="open")
        [entry] = page["result"]["entries"]
        assert entry["entry"] == call and entry["direction"] == "incoming"
        assert (entry["number"], entry["name"], entry["outcome"]) == (B, "Clara Wolf", "missed")
        assert (entry["open"], entry["answered"], entry["connected"]) == (True, False, False)
        # B may neither read nor change A's journal; the node says notPermitted, changes nothing.
        seq = n.seq
        for service, fields in [
            ("getJournal", {"user": A}),
            ("getJournalCounts", {"user": A}),
            ("setJournalNote", {"user": A, "entry": call, "note": "mine now"}),
            ("markJournalEntryDone", {"user": A, "entry": call}),
            ("deleteJournalEntry", {"user": A, "entry": call}),
            ("deleteJournalEntriesOlderThan", {"user": A, "days": 0}),
            ("clearJournal", {"user": A}),
            ("callBackJournalEntry", {"user": A, "entry": call}),
            ("saveJournalContact", {"user": A, "entry": call}),
        ]:
            reply = await b.request(service, **fields)
            assert reply["ok"] is False and reply["error"]["code"] == "notPermitted", service
            assert reply["error"]["details"] == {"field": "user"}, service
        # B's own journal does not hold A's entry under A's id... it holds B's own (same id).
        mine = await b.ok("getJournal", user=B)
        assert [(e["entry"], e["direction"], e["outcome"]) for e in mine["result"]["entries"]] == [
            (call, "outgoing", "notAnswered")
        ]
        assert (await b.request("setJournalNote", user=B, entry=call + 1000))["error"][
            "code"
        ] == "unknownJournalEntry"
        assert n.seq == seq, "a refused request changed something"
        # A notes it, then calls back from the entry: the callback connects and closes it.
        await a.ok("setJournalNote", user=A, entry=call, note="wegen Angebot")
        back = await a.ok("callBackJournalEntry", user=A, entry=call)
        assert back["result"]["device"] == A
        again = back["result"]["call"]
        await tester.ok("answerCall", call=again, device=B)
        await tester.ok("clearCall", call=again)
        doc = await a.wait_for(topic("users", A, "journal"), lambda d: d["all"] == 2)
        assert counts(doc) == (0, 1, 1, 2, 0)
        page = await a.ok("getJournal", user=A)
        assert [
            (e["entry"], e["open"], e["closedBy"], e["note"]) for e in page["result"]["entries"]
        ] == [
            (again, False, None, None),
            (call, False, again, "wegen Angebot"),
        ]
        # B's counts went their own way; B never received A's document (nor A B's).
        await b.wait_for(topic("users", B, "journal"), lambda d: d["all"] == 2)
        await settled(a)
        await settled(b)
        assert {m.doc["user"] for m in a.on(topic("users", "+", "journal"))} == {A}
        assert {m.doc["user"] for m in b.on(topic("users", "+", "journal"))} == {B}
        # The integrator sees no journal document either (its filter is cti/node1/#).
        assert tester.on(topic("users", "+", "journal")) == []
        start = len(a.messages)
        await a.ok("clearJournal", user=A)
        doc = await a.wait_for(topic("users", A, "journal"), start=start)
        assert counts(doc) == (0, 0, 0, 0, 0)
        assert n.truth(topic("users", A, "journal"))["all"] == 0
