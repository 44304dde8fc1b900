"""Voicemail through the access-controlled broker (VM-02, VM-03): a PIN is changed from a
client over the TLS listener only, and only once the default was changed on the phone; a user
reads and changes their own mailbox alone; no PIN reaches any topic."""

from __future__ import annotations

import base64
import json

import pytest

from tests.security.conftest import SecureNode, secure_node, settled
from tests.voicemail.helpers import tone

__all__ = ["secure_node"]
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_vm_03_the_pin_from_the_phone_first_then_from_a_client_over_tls(
    secure_node: SecureNode,
) -> None:
    n = secure_node
    change = {"user": "332", "oldPin": "135790", "newPin": "246813"}
    async with n.client("monitor", filters=["cti/node1/#"], name="all") as everything:
        await settled(everything)
        async with n.client("332") as clara:
            plain = await clara.request("changeVoicemailPin", **change)
            assert plain["error"]["code"] == "encryptionRequired", plain
            call = (await clara.ok("makeCall", calling="332", called="351"))["result"]["call"]
            opened = await clara.ok("enterVoicemailPin", call=call, device="332", pin="123456")
            assert opened["result"] == {"open": True, "pinChangeRequired": True}
            await clara.ok("changeVoicemailPinOnPhone", call=call, device="332", newPin="135790")
            await clara.ok("clearConnection", call=call, device="332")
        async with n.client("332", tls=True) as clara:
            reply = await clara.raw_request(
                clara.topic("changeVoicemailPin", secure=True), json.dumps(change).encode()
            )
            assert reply["ok"] is True, reply
        await settled(everything)
        seen = [m.payload for m in everything.messages]
    assert seen, "the monitor saw the node's topics"
    for secret in (b'"135790"', b'"246813"', b'"123456"'):  # as a JSON string would hold it
        leaked = [m for m in everything.messages if secret in m.payload]
        assert not leaked, [(m.topic, m.payload[:300]) for m in leaked]


async def test_vm_02_a_user_has_their_own_mailbox_only(secure_node: SecureNode) -> None:
    n = secure_node
    async with n.client("330") as anna, n.client("331") as bernd:
        call = (await anna.ok("makeCall", calling="330", called="331"))["result"]["call"]
        await bernd.ok("deflectCall", call=call, device="331", to="351")
        audio = base64.b64encode(tone(1.0)).decode()
        # Bernd cannot speak for Anna's phone; Anna can.
        refused = await bernd.request("leaveVoicemailMessage", call=call, device="330", audio=audio)
        assert refused["error"]["code"] == "notYourDevice", refused
        await anna.ok("leaveVoicemailMessage", call=call, device="330", audio=audio)
        await anna.ok("clearConnection", call=call, device="330")
        for service, fields in (
            ("getMailbox", {"user": "331"}),
            ("listenVoicemailMessage", {"user": "331", "message": 1}),
            ("deleteVoicemailMessage", {"user": "331", "message": 1}),
        ):
            reply = await anna.request(service, **fields)
            assert reply["error"]["code"] == "notPermitted", (service, reply)
        box = (await bernd.ok("getMailbox", user="331"))["result"]
        assert (box["new"], box["messages"][0]["caller"]) == (1, "330")
