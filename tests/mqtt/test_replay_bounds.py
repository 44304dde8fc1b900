"""replay and trace over a real broker with a running node (specs/mqtt.md, "Replay"): a page
is read off the node's event loop, one page at a time per account, and their fields are as
strict as any other service's."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Any

import pytest

from cti.app.committed import Committed
from cti.mqtt.face import service
from cti.mqtt.face.service import PAGES_PER_ACCOUNT
from cti.store import StoredEvent
from tests.mqtt.conftest import TESTER, TIMEOUT, V5, CtiClient, NodeFace

OUT_OF_RANGE = "an integer from -9007199254740991 to 9007199254740991"


def refusal(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


async def send(ui: CtiClient, service_name: str, fields: dict[str, Any]) -> bytes:
    """Publish a request (its reply address as the client's protocol carries it) and return
    the correlation to wait for its reply with: requests sent one after the other arrive,
    and are taken up by the node, in that order."""
    if ui.version == V5:
        corr = uuid.uuid4().bytes
        payload = json.dumps(fields).encode()
        await ui.publish(ui.topic(service_name), payload, response_topic=ui.inbox, correlation=corr)
        return corr
    hexed = uuid.uuid4().hex
    body = {**fields, "reply_to": ui.inbox, "correlation": hexed}
    await ui.publish(ui.topic(service_name), json.dumps(body).encode())
    return hexed.encode()


async def answer(ui: CtiClient, corr: bytes) -> dict[str, Any]:
    doc = (await ui.reply(corr)).doc
    assert isinstance(doc, dict)
    doc.pop("correlation", None)  # MQTT 3.1.1 echoes it in the payload
    return doc


async def test_a_replay_page_is_read_off_the_loop_a_few_per_account(
    ui: CtiClient, node_face: NodeFace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a replay page's read is held at a gate this test controls, the node answers
    another request (its loop is free), takes the same account's pages up to
    PAGES_PER_ACCOUNT (waiting for the pages thread) and refuses one more at once with
    resourceBusy; opened, every page is what the log holds. Read on the loop, the gate would
    stand the node (and this test) still until it gave up waiting."""
    await ui.ok("makeCall", calling="330", called="331")  # events to replay
    gate, entered = threading.Event(), threading.Event()
    opened: list[bool] = []
    threads: list[threading.Thread] = []
    decode = service.decode

    def held(record: StoredEvent) -> Committed:
        if not entered.is_set():
            threads.append(threading.current_thread())
            entered.set()
            opened.append(gate.wait(TIMEOUT))
        return decode(record)

    monkeypatch.setattr(service, "decode", held)
    page = {"fromSeq": 1, "limit": 1000}
    pages = [await send(ui, "replay", page)]
    assert await asyncio.to_thread(entered.wait, TIMEOUT)
    try:
        snapshot = await ui.request("snapshotDevice", device="330")
        assert snapshot["ok"] is True
        for _ in range(PAGES_PER_ACCOUNT - 2):
            pages.append(await send(ui, "replay", page))
        pages.append(await send(ui, "trace", {"call": 1}))  # trace counts alike
        busy = await answer(ui, await send(ui, "replay", page))
        assert busy == refusal(
            "resourceBusy",
            f"{PAGES_PER_ACCOUNT} replay or trace pages of {TESTER} are being read: ask again"
            " once a reply is in",
        )
    finally:
        gate.set()
    replies = [await answer(ui, corr) for corr in pages]
    assert opened == [True] and threads[0] is not threading.main_thread()
    log = node_face.store.read(1)
    public = [r.seq for r in log if r.kind not in service.INTERNAL_KINDS]
    for reply in replies[:-1]:
        assert reply["ok"] is True
        assert [e["seq"] for e in reply["result"]["events"]] == public
    traced = replies[-1]
    assert traced["ok"] is True and traced["result"]["events"]
    assert {e["call"] for e in traced["result"]["events"]} == {1}
    # The pages are done: the account replays again.
    again = await ui.replay(1, 10)
    assert again["ok"] is True and again["result"]["events"] == replies[0]["result"]["events"][:10]


@pytest.mark.parametrize(
    ("service_name", "payload", "message"),
    [
        ("replay", b'{"fromseq":400,"limit":3}', "unknown field 'fromseq'"),
        ("replay", b'{"from":400}', "unknown field 'from'"),
        ("replay", b'{"fromSeq":400,"bogus":true}', "unknown field 'bogus'"),
        ("replay", b'{"fromSeq":9007199254740992}', f"fromSeq is out of range: {OUT_OF_RANGE}"),
        ("replay", b'{"limit":-9007199254740992}', f"limit is out of range: {OUT_OF_RANGE}"),
        ("trace", b'{"call":1,"fromseq":2}', "unknown field 'fromseq'"),
        ("trace", b'{"device":"330","bogus":1}', "unknown field 'bogus'"),
        ("trace", b'{"call":9007199254740992}', f"call is out of range: {OUT_OF_RANGE}"),
        (
            "trace",
            b'{"call":1,"fromSeq":9007199254740992}',
            f"fromSeq is out of range: {OUT_OF_RANGE}",
        ),
    ],
)
async def test_replay_and_trace_refuse_unknown_fields_and_unsafe_integers(
    ui: CtiClient, node_face: NodeFace, service_name: str, payload: bytes, message: str
) -> None:
    """A typo of fromSeq would replay from seq 1: refused as any other service refuses an
    unknown field, and an integer JSON does not carry exactly as out of range; nothing is
    replayed (the reply is the refusal alone)."""
    reply = await ui.raw_request(ui.topic(service_name), payload)
    assert reply == refusal("invalidParameterValue", message)
