"""The badge on connect (VM-02): the retained ``users/{u}/voicemail`` document over a real
Mosquitto with the node's ACL files (``cti serve --broker embedded``, the example office).

Bernd (331) has a mailbox; Clara (332) has one too and subscribes to Bernd's document: the
broker gives her nothing of it (positive control: ``settled``). A message left for Bernd
turns his badge and lamp on, listening moves it to old, deleting empties the box; a client
connecting later gets the counts at once (retained). Taking the licence away clears the
document; removing the account (its mailbox goes with it) clears it too.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from cti.app.bootstrap import ServeOptions, start
from cti.app.clock import ManualClock
from cti.mqtt.broker import free_port
from tests.mqtt.conftest import TESTER, TIMEOUT, CtiClient
from tests.security.conftest import SecureNode, settled, site_file, topic
from tests.voicemail.helpers import VM, tone

pytestmark = pytest.mark.asyncio(loop_scope="module")

ANNA, BERND, CLARA = "330", "331", "332"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SecureNode]:
    directory = tmp_path_factory.mktemp("voicemail-badge")
    options = ServeOptions(
        site=site_file(directory),
        data_dir=directory / "data",
        broker="embedded",
        broker_port=free_port(),
        tls_port=free_port(),
        csta_port=0,
    )
    running = await start(options, clock=ManualClock())
    try:
        await asyncio.wait_for(running.mqtt.connected.wait(), TIMEOUT)
        yield SecureNode(running, directory / "data")
    finally:
        await running.stop()


def badge(user: str) -> str:
    return topic("users", user, "voicemail")


def counts(doc: dict[str, Any] | None) -> tuple[int, int, bool] | None:
    return None if doc is None else (doc["new"], doc["old"], doc["on"])


async def leave(tester: CtiClient, caller: str, user: str) -> dict[str, Any]:
    call = (await tester.ok("makeCall", calling=caller, called=user))["result"]["call"]
    await tester.ok("deflectCall", call=call, device=user, to=VM)
    audio = base64.b64encode(tone(2.5)).decode()
    left = await tester.ok("leaveVoicemailMessage", call=call, device=caller, audio=audio)
    await tester.ok("clearCall", call=call)
    return dict(left)


async def test_the_badge_is_retained_for_its_user_alone_and_cleared_with_the_mailbox(
    node: SecureNode,
) -> None:
    async with (
        node.client(TESTER, name="tester") as tester,
        node.client(BERND, filters=[badge(BERND)], name="bernd") as bernd,
        node.client(CLARA, filters=[badge(BERND), badge(CLARA)], name="clara") as clara,
    ):
        # On connect: the retained counts, an empty box.
        first = await bernd.wait_for(badge(BERND))
        assert set(first) == {"seq", "user", "new", "old", "on"}
        assert (first["user"], counts(first)) == (BERND, (0, 0, False))
        await clara.wait_for(badge(CLARA))

        left = await leave(tester, ANNA, BERND)
        doc = await bernd.wait_for(badge(BERND), lambda d: d["seq"] >= left["seq"])
        assert counts(doc) == (1, 0, True)
        message = left["result"]["message"]

        # A client connecting now sees the badge at once (retained), as the node has it.
        async with node.client(BERND, filters=[badge(BERND)], name="late") as late:
            assert counts(await late.wait_for(badge(BERND))) == (1, 0, True)
        assert counts(node.truth(badge(BERND))) == (1, 0, True)

        heard = await bernd.ok("listenVoicemailMessage", user=BERND, message=message)
        doc = await bernd.wait_for(badge(BERND), lambda d: d["seq"] >= heard["seq"])
        assert counts(doc) == (0, 1, False)
        gone = await bernd.ok("deleteVoicemailMessage", user=BERND, message=message)
        doc = await bernd.wait_for(badge(BERND), lambda d: d["seq"] >= gone["seq"])
        assert counts(doc) == (0, 0, False)

        # Clara never got Bernd's document, though it changed three times (the broker's ACL).
        await settled(clara)
        assert clara.on(badge(BERND)) == []
        assert [counts(d) for d in clara.docs(badge(CLARA))] == [(0, 0, False)]

        # The licence taken away: no mailbox to show, the document is cleared (empty).
        start_at = len(bernd.messages)
        await tester.ok("updateAccount", name=BERND, licences=[])
        await bernd.wait_for(badge(BERND), lambda d: d is None, start=start_at)
        assert badge(BERND) not in node.running.mqtt.outbox.retained
        again = await tester.ok("updateAccount", name=BERND, licences=["voicemail"])
        doc = await bernd.wait_for(badge(BERND), lambda d: d and d["seq"] >= again["seq"])
        assert counts(doc) == (0, 0, False)

        # A message for Clara, then her account removed: her mailbox goes, and its document.
        left = await leave(tester, ANNA, CLARA)
        await clara.wait_for(badge(CLARA), lambda d: d and d["seq"] >= left["seq"])
        assert counts(node.truth(badge(CLARA))) == (1, 0, True)
        await tester.ok("removeAccount", name=CLARA)
    # Cleared in the removal's batch (an empty retained message; only Clara could read it,
    # and her account is gone: the node's record of what it published stands for the broker).
    assert badge(CLARA) not in node.running.mqtt.outbox.retained
    async with node.client(BERND, filters=[badge(BERND)], name="fresh") as fresh:
        assert counts(await fresh.wait_for(badge(BERND))) == (0, 0, False)
