"""DIR-01, DIR-04, DIR-06 over MQTT, against a node with its embedded Mosquitto, the node's
password and ACL files, and signed-in users: A = 331 (Bernd), B = 332 (Clara).

- A imports a Windows-1252 CSV file and finds its contacts by search at once (the search
  waits for the index to reach what the node had committed); B finds none of them, and every
  request of B's on A's directory is refused.
- A call from a number in A's personal directory rings A: A's own ``users/331/callers``
  document names the caller; B receives neither that document nor the name anywhere, even
  subscribed to everything the broker lets B read. Every "nothing arrives" has a positive
  control. Nothing sleeps for timing.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.mqtt.conftest import TESTER, CtiClient
from tests.security.conftest import SecureNode, secure_node, settled, topic

__all__ = ["secure_node"]  # the module's node, with its embedded broker and ACLs

pytestmark = pytest.mark.asyncio(loop_scope="module")

A, B = "331", "332"
CALLER = "+491711000001"
FILE = (
    "Vorname;Nachname;Firma;Mobiltelefon\r\n"
    "Jörg;Müller;Bäckerei Groß;0171 1000001\r\n"
    "Anna;Mueller;;0171 1000002\r\n"
    "ohne;Nummer;;\r\n"
).encode("cp1252")


def callers_of(user: str) -> str:
    return topic("users", user, "callers")


@pytest_asyncio.fixture(loop_scope="module")
async def tester(secure_node: SecureNode) -> AsyncIterator[CtiClient]:
    async with secure_node.client(TESTER, name="tester") as client:
        yield client


async def test_dir01_dir04_an_import_is_found_by_its_owner_only(secure_node: SecureNode) -> None:
    n = secure_node
    async with n.client(A, name="a") as a, n.client(B, name="b") as b:
        data = base64.b64encode(FILE).decode()
        report = (await a.ok("importContacts", user=A, data=data, encoding="windows-1252"))[
            "result"
        ]
        assert {k: report[k] for k in ("added", "updated", "unchanged", "rejected")} == {
            "added": 2,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
        }
        assert report["rejectedLines"] == [
            {"line": 4, "reason": "noNumber", "message": "no phone number"}
        ]
        found = (await a.ok("searchDirectory", user=A, text="mü"))["result"]
        assert found["counts"] == {"personal": 2, "internal": 0, "system": 0}
        assert [h["name"] for h in found["hits"]] == ["Anna Mueller", "Jörg Müller"]
        assert found["hits"][1]["company"] == "Bäckerei Groß"  # read as Windows-1252
        by_number = (await a.ok("searchDirectory", user=A, text="0171 1000001"))["result"]
        assert [h["name"] for h in by_number["hits"]] == ["Jörg Müller"]

        theirs = (await b.ok("searchDirectory", user=B, text="mü"))["result"]
        assert theirs["counts"]["personal"] == 0
        for service, fields in (
            ("searchDirectory", {"user": A, "text": "mü"}),
            ("getContacts", {"user": A}),
            ("identifyCaller", {"user": A, "number": CALLER}),
            ("importContacts", {"user": A, "data": data}),
            ("addContact", {"user": A, "name": "Spy", "mobile": "0171 9"}),
            ("deleteContact", {"user": A, "id": 1}),
        ):
            reply = await b.request(service, **fields)
            assert reply["error"]["code"] == "notPermitted", (service, reply)
        # A file that cannot be read changes nothing and says why.
        bad = await a.request("importContacts", user=A, data=data, encoding="utf-8")
        assert bad["error"]["code"] == "unusableFile"
        assert bad["error"]["details"] == {"reason": "encoding", "line": 2}


async def test_dir06_the_caller_is_named_for_the_called_user_alone(
    secure_node: SecureNode, tester: CtiClient
) -> None:
    n = secure_node
    mine, theirs = callers_of(A), callers_of(B)
    async with (
        n.client(A, filters=[mine, topic("devices", A, "#")], name="a") as a,
        n.client(B, filters=[topic("#"), callers_of("+")], name="b") as b,
    ):
        await a.wait_for(mine)
        await b.wait_for(theirs)
        mark_a, mark_b = len(a.messages), len(b.messages)
        call = (await tester.ok("dial", device=CALLER, digits=A))["result"]["call"]
        doc = await a.wait_for(mine, lambda d: d["calls"] != [], start=mark_a)
        assert doc["calls"] == [
            {
                "call": call,
                "device": A,
                "number": CALLER,
                "name": "Jörg Müller",
                "directory": "personal",
            }
        ]
        assert (await a.ok("identifyCaller", user=A, number=CALLER))["result"] == {
            "name": "Jörg Müller",
            "directory": "personal",
        }
        await tester.ok("clearCall", call=call)
        await a.wait_for(mine, lambda d: d["calls"] == [], start=mark_a)
        # The same caller rings B next: B's own document, without A's name for the number.
        second = (await tester.ok("dial", device=CALLER, digits=B))["result"]["call"]
        own = await b.wait_for(theirs, lambda d: d["calls"] != [], start=mark_b)
        assert own["calls"] == [
            {"call": second, "device": B, "number": CALLER, "name": None, "directory": None}
        ]
        await tester.ok("clearCall", call=second)
        await b.wait_for(theirs, lambda d: d["calls"] == [], start=mark_b)
        await settled(b)  # positive control: everything queued for B before has arrived
        assert b.on(mine) == [], "B received A's callers document"
        assert not [m for m in b.messages if "Müller".encode() in m.payload], "B saw A's name"
        # A's device topics (a MULAP's would be read by several users) never carry it.
        assert not [m for m in a.on(topic("devices", A, "#")) if "Müller".encode() in m.payload]
