"""Scenario tests of the chat's requests (cti.api.chat.ChatService) on a node of the example
office with the injected clock: each IM rule, the exact messages published (topic, document,
retained) in order, and what is stored. The publisher is the recorder the MQTT face's place
takes here; tests/chat/test_chat_mqtt.py runs the same through a real Mosquitto."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.accounts.commands import SeedAccounts
from cti.api import execute
from cti.api.chat import ChatService
from cti.api.requests import BadRequest, parse_action
from cti.app.clock import ManualClock
from cti.app.config import load_config, load_site
from cti.app.engine import Engine
from cti.app.node import Node
from cti.chat.chat_db import ChatDb
from cti.chat.sessions import MAX_SESSIONS, TIMEOUT_MS
from cti.store import MemoryStore

B = "cti/node1"


class Chat:
    def __init__(self, engine: Engine, service: ChatService, clock: ManualClock) -> None:
        self.engine, self.service, self.clock = engine, service, clock
        self.sent: list[tuple[str, Any, bool]] = []
        service.connected(self.record)

    def record(self, topic: str, body: bytes, retain: bool) -> None:
        self.sent.append((topic, json.loads(body) if body else None, retain))

    def take(self) -> list[tuple[str, Any, bool]]:
        out, self.sent = self.sent, []
        return out

    async def ask(self, principal: str | None, service: str, **fields: Any) -> dict[str, Any]:
        action = parse_action(service, fields)
        return await execute.execute(self.engine, action, principal, chat=self.service)

    async def ok(self, principal: str, service: str, **fields: Any) -> Any:
        reply = await self.ask(principal, service, **fields)
        assert reply["ok"] is True, reply
        return reply["result"]

    async def refused(self, principal: str | None, service: str, **fields: Any) -> Any:
        reply = await self.ask(principal, service, **fields)
        assert reply["ok"] is False, reply
        return reply["error"]

    def sign_in(self, user: str, client: str = "tab") -> None:
        self.service.on_session(f"{B}/users/{user}/sessions/{client}", b'{"client":"x"}')

    def sign_out(self, user: str, client: str = "tab") -> None:
        self.service.on_session(f"{B}/users/{user}/sessions/{client}", b"")


@functools.cache
def seeds() -> SeedAccounts:
    """The example office's accounts, hashed once (argon2 is slow on purpose)."""
    return SeedAccounts(accounts=tuple(u.seed() for u in load_config().users))


def make_node() -> tuple[Node, ManualClock]:
    clock = ManualClock()
    node = Node(load_site(), MemoryStore(), clock)
    node.execute(seeds())
    return node, clock


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    node, clock = make_node()
    engine = Engine(node)
    await engine.start()
    service = ChatService(node, ChatDb.sqlite(tmp_path / "node1.chat.db", "node1"), clock)
    await service.start()
    yield Chat(engine, service, clock)
    await service.stop()
    await engine.stop()


def msg(partner: str, seq: int, sender: str, recipient: str, text: str, at: int, cid: str) -> Any:
    return {
        "event": "chatMessage",
        "partner": partner,
        "seq": seq,
        "sender": sender,
        "recipient": recipient,
        "text": text,
        "at": at,
        "clientId": cid,
    }


async def test_im01_im02_a_dialogue_with_an_online_partner_an_offline_one_refused(
    chat: Chat,
) -> None:
    t0 = chat.clock.now_ms()
    # IM-02: 331 is signed in nowhere: refused, nothing stored, nothing published.
    error = await chat.refused("330", "sendChatMessage", to="331", text="Hallo", clientId="m1")
    assert (error["code"], error["details"]) == ("partnerOffline", {"partner": "331"})
    assert chat.service.db.stored() == 0 and chat.take() == []
    # 331 signs in on a client: everyone may see 331 online (IM-01).
    chat.sign_in("331")
    assert chat.take() == [(f"{B}/online/331", {"user": "331", "online": True}, True)]
    sent = await chat.ok("330", "sendChatMessage", to="331", text="Hallo", clientId="m1")
    assert sent == {
        "partner": "331",
        "seq": 1,
        "at": t0,
        "clientId": "m1",
        "duplicate": False,
        "partnerOnline": True,
    }
    chat.clock.advance(2)
    chat.sign_in("330")
    reply = "Hi Anna!\nWas gibt's?"
    await chat.ok("331", "sendChatMessage", to="330", text=reply, clientId="q")
    # Persist, then publish: to the sender's and the recipient's topic, each seen from its user.
    assert chat.take() == [
        (f"{B}/users/330/chat", msg("331", 1, "330", "331", "Hallo", t0, "m1"), False),
        (f"{B}/users/331/chat", msg("330", 1, "330", "331", "Hallo", t0, "m1"), False),
        (f"{B}/online/330", {"user": "330", "online": True}, True),
        (f"{B}/users/331/chat", msg("330", 2, "331", "330", reply, t0 + 2000, "q"), False),
        (f"{B}/users/330/chat", msg("331", 2, "331", "330", reply, t0 + 2000, "q"), False),
    ]
    page = await chat.ok("331", "getChatMessages", partner="330")
    assert [(m["seq"], m["sender"], m["partner"]) for m in page["messages"]] == [
        (1, "330", "330"),
        (2, "331", "330"),
    ]
    assert (page["lastSeq"], page["readSeq"], page["partnerOnline"]) == (2, 0, True)
    since = await chat.ok("331", "getChatMessages", partner="330", sinceSeq=1)
    assert [m["seq"] for m in since["messages"]] == [2]
    # 331 leaves (its last client's Will): offline, and refused again.
    chat.sign_out("331")
    assert chat.take() == [(f"{B}/online/331", {"user": "331", "online": False}, True)]
    error = await chat.refused("330", "sendChatMessage", to="331", text="Noch da?", clientId="m2")
    assert error["code"] == "partnerOffline"


async def test_idempotent_send_one_message_for_the_same_client_id(chat: Chat) -> None:
    chat.sign_in("331")
    chat.take()
    first = await chat.ok("330", "sendChatMessage", to="331", text="Angebot?", clientId="c-7")
    assert len(chat.take()) == 2
    chat.clock.advance(5)
    again = await chat.ok("330", "sendChatMessage", to="331", text="Angebot?", clientId="c-7")
    assert again == {**first, "duplicate": True}  # the stored one: same seq, same time
    assert chat.take() == []  # published once only
    # The retry of an acknowledged send is answered even when the partner has left since.
    chat.sign_out("331")
    chat.take()
    late = await chat.ok("330", "sendChatMessage", to="331", text="Angebot?", clientId="c-7")
    assert late["duplicate"] is True and late["seq"] == 1
    assert chat.service.db.stored() == 1
    error = await chat.refused("330", "sendChatMessage", to="331", text="anders", clientId="c-7")
    assert (error["code"], error["details"]["reason"]) == ("invalidParameterValue", "reused")


async def test_im03_a_user_keeps_the_last_100_messages(chat: Chat) -> None:
    chat.sign_in("331")
    for i in range(101):
        await chat.ok("330", "sendChatMessage", to="331", text=f"#{i}", clientId=f"c{i}")
    page = await chat.ok("331", "getChatMessages", partner="330")
    assert [m["seq"] for m in page["messages"]] == list(range(2, 102))
    assert page["lastSeq"] == 101
    [conv] = (await chat.ok("331", "getChatConversations"))["conversations"]
    assert (conv["partner"], conv["kept"], conv["unread"]) == ("330", 100, 100)
    assert conv["lastSeq"] == 101
    assert chat.service.db.stored() == 100


async def test_read_watermark_goes_to_every_client_of_the_reader_alone(chat: Chat) -> None:
    chat.sign_in("331")
    for i in range(3):
        await chat.ok("330", "sendChatMessage", to="331", text=f"#{i}", clientId=f"c{i}")
    chat.take()
    assert await chat.ok("331", "markChatRead", partner="330", seq=2) == {
        "partner": "330",
        "readSeq": 2,
    }
    assert await chat.ok("331", "markChatRead", partner="330", seq=1) == {
        "partner": "330",
        "readSeq": 2,
    }
    readmark = {"event": "chatRead", "partner": "330", "readSeq": 2}
    assert chat.take() == [(f"{B}/users/331/chat", readmark, False)] * 2
    [conv] = (await chat.ok("331", "getChatConversations"))["conversations"]
    assert (conv["readSeq"], conv["unread"]) == (2, 1)
    error = await chat.refused("331", "markChatRead", partner="330", seq=4)
    assert error["details"] == {"field": "seq", "reason": "beyondLast"}


async def test_only_the_two_users_read_a_conversation(chat: Chat) -> None:
    chat.sign_in("331")
    await chat.ok("330", "sendChatMessage", to="331", text="vertraulich", clientId="c1")
    for principal, service, fields in [
        ("332", "getChatMessages", {"user": "330", "partner": "331"}),
        ("332", "getChatConversations", {"user": "331"}),
        ("332", "markChatRead", {"user": "331", "partner": "330", "seq": 1}),
        ("332", "sendChatMessage", {"user": "330", "to": "331", "text": "x", "clientId": "y"}),
        # Integrators see every call, not chats; monitors read everything else.
        ("phone-sim", "getChatMessages", {"user": "330", "partner": "331"}),
        ("phone-sim", "getChatMessages", {"partner": "331"}),
        ("monitor", "getChatConversations", {"user": "330"}),
    ]:
        error = await chat.refused(principal, service, **fields)
        assert error["code"] == "notPermitted", (principal, service, error)
    # 332's own conversation with 330 is another one: empty.
    page = await chat.ok("332", "getChatMessages", partner="330")
    assert page["messages"] == [] and page["lastSeq"] == 0
    assert (await chat.ok("332", "getChatConversations"))["conversations"] == []
    error = await chat.refused("330", "sendChatMessage", to="phone-sim", text="x", clientId="z")
    assert error["code"] == "unknownChatPartner"
    error = await chat.refused("330", "sendChatMessage", to="330", text="x", clientId="z")
    assert error["details"] == {"field": "to", "reason": "self"}


async def test_plain_text_only_and_bad_requests_change_nothing(chat: Chat) -> None:
    chat.sign_in("331")
    chat.take()
    link = "\x1b]8;;javascript:alert(1)\x1b\\x"  # a terminal hyperlink escape
    for text, reason in [(link, "controlCharacter"), (" ", "empty")]:
        error = await chat.refused("330", "sendChatMessage", to="331", text=text, clientId="c")
        assert error["details"] == {"field": "text", "reason": reason}
    with pytest.raises(BadRequest, match="at most 2000"):  # the request parser's limit
        parse_action("sendChatMessage", {"to": "331", "text": "x" * 2001, "clientId": "c"})
    error = await chat.refused("330", "sendChatMessage", to="331", text="ok", clientId="a b")
    assert error["details"]["field"] == "clientId"
    assert chat.service.db.stored() == 0 and chat.take() == []


async def test_a_session_not_refreshed_times_out(chat: Chat) -> None:
    """Rule 2: a marker whose Will was lost (a broker restart) does not keep its user online:
    after 90 s without a refresh the node drops the session and clears its marker."""
    chat.sign_in("331", "lost")
    chat.clock.advance(60)
    chat.sign_in("331", "lost")  # refreshed at 60 s
    chat.take()
    chat.clock.advance(89.999)
    chat.service.expire()
    assert chat.take() == [] and chat.service.online("331")
    chat.clock.advance(0.001)
    chat.service.expire()
    assert chat.take() == [
        (f"{B}/users/331/sessions/lost", None, True),  # cleared on the broker
        (f"{B}/online/331", {"user": "331", "online": False}, True),
    ]
    error = await chat.refused("330", "sendChatMessage", to="331", text="?", clientId="c")
    assert error["code"] == "partnerOffline"
    assert TIMEOUT_MS == 90_000


async def test_online_is_recomputed_on_restart_and_reconnect(tmp_path: Path) -> None:
    """Nothing about sessions is stored: a new node knows no one online until the retained
    markers come with its subscription; on a reconnect, sessions whose markers are no longer
    retained (cleared while the node was away) are dropped when the markers are settled."""
    node, clock = make_node()
    service = ChatService(node, ChatDb.sqlite(tmp_path / "c.db", "node1"), clock)
    published: list[tuple[str, bytes]] = []
    service.connected(lambda topic, body, retain: published.append((topic, body)))
    assert not service.online("331")
    service.on_session(f"{B}/users/331/sessions/a", b"{}")  # retained, after the SUBACK
    service.on_session(f"{B}/users/332/sessions/b", b"{}")
    service.on_session(f"{B}/users/phone-sim/sessions/p", b"{}")  # a machine: ignored
    service.settled()
    online = {
        json.loads(body)["user"]: json.loads(body)["online"]
        for topic, body in published
        if topic.startswith(f"{B}/online/")
    }
    people = sorted(u.name for u in load_config().users if u.name not in ("phone-sim", "monitor"))
    assert sorted(online) == people  # every person's document, after the changes
    assert {u for u, on in online.items() if on} == {"331", "332"}
    published.clear()
    # The broker connection drops; meanwhile 332's client went (its Will cleared the marker).
    service.disconnected()
    service.connected(lambda topic, body, retain: published.append((topic, body)))
    service.on_session(f"{B}/users/331/sessions/a", b"{}")
    service.settled()
    assert service.online("331") and not service.online("332")
    assert (f"{B}/online/332", b'{"user":"332","online":false}') in published
    service.db.close()


async def test_store_and_forward_is_a_site_option(tmp_path: Path) -> None:
    node, clock = make_node()
    service = ChatService(
        node, ChatDb.sqlite(tmp_path / "c.db", "node1"), clock, store_and_forward=True
    )
    await service.start()
    engine = Engine(node)
    await engine.start()
    chat = Chat(engine, service, clock)
    try:
        sent = await chat.ok("330", "sendChatMessage", to="331", text="Ruf mich an", clientId="x")
        assert (sent["seq"], sent["partnerOnline"]) == (1, False)
        chat.sign_in("331")  # later: 331 finds it
        [conv] = (await chat.ok("331", "getChatConversations"))["conversations"]
        assert (conv["partner"], conv["unread"]) == ("330", 1)
    finally:
        await service.stop()
        await engine.stop()


async def test_a_first_password_must_be_changed_first(chat: Chat) -> None:
    """USER-01: an account with an administrator-set password does nothing else first."""
    created = await chat.ask(None, "createAccount", name="334", password="Start-2026!")
    assert created["ok"] is True, created
    error = await chat.refused("334", "getChatConversations")
    assert error["code"] == "passwordChangeRequired"


async def test_a_removed_account_s_online_document_is_cleared(chat: Chat) -> None:
    chat.sign_in("336")
    chat.take()
    removed = await chat.ask(None, "removeAccount", name="336")
    assert removed["ok"] is True, removed
    chat.service.expire()  # the sweep, every 10 s
    assert chat.take() == [(f"{B}/online/336", None, True)]
    chat.sign_out("336")  # its client goes later: no document comes back
    assert chat.take() == []


async def test_a_marker_looks_at_its_own_user_only(chat: Chat) -> None:
    """Markers arrive all the time (every client refreshes every 30 s): each one recomputes
    its own user's online state, not everyone's (1,000 users online would make that a
    thousand checks per marker, a million per second of refreshes: the event loop's)."""
    for user in ("330", "331", "332", "333"):
        chat.sign_in(user)
    chat.take()
    checked: list[str] = []
    online = chat.service.sessions.online

    def counting(user: str, now: int) -> bool:
        checked.append(user)
        return online(user, now)

    chat.service.sessions.online = counting  # type: ignore[method-assign]
    chat.sign_in("331")  # a refresh
    chat.sign_out("332")  # a goodbye
    assert checked == ["331", "332"]
    assert chat.take() == [(f"{B}/online/332", {"user": "332", "online": False}, True)]


async def forgotten(service: ChatService, user: str) -> None:
    """Until the chat has forgotten ``user`` (its follower of the log runs beside the test):
    each round trip through the writer lets it go on; it needs a few, never a hundred."""
    for _ in range(100):
        if user not in await service.writer.submit(lambda db: db.owners()):
            return
    raise AssertionError(f"{user}'s chat is still there")


async def test_a_removed_account_s_chat_goes_with_it(chat: Chat) -> None:
    """An internal number is handed on: whoever gets account 331 next must not read what the
    old 331 wrote and received. 330 keeps their side of the conversation."""
    chat.sign_in("330")
    chat.sign_in("331")
    await chat.ok("330", "sendChatMessage", to="331", text="vertraulich", clientId="c1")
    await chat.ok("331", "sendChatMessage", to="330", text="Antwort", clientId="c2")
    await chat.ok("331", "markChatRead", partner="330", seq=2)
    assert (await chat.ask(None, "removeAccount", name="331"))["ok"] is True
    await forgotten(chat.service, "331")
    created = await chat.ask(None, "createAccount", name="331", password="Start-2026!")
    assert created["ok"] is True, created
    page = await chat.ok(None, "getChatMessages", user="331", partner="330")
    assert (page["messages"], page["readSeq"]) == ([], 0)
    assert (await chat.ok(None, "getChatConversations", user="331"))["conversations"] == []
    [conv] = (await chat.ok("330", "getChatConversations"))["conversations"]
    assert (conv["partner"], conv["kept"]) == ("331", 2)
    assert chat.service.db.stored() == 2  # 330 keeps both


async def test_at_start_the_chat_of_accounts_removed_meanwhile_is_forgotten(
    tmp_path: Path,
) -> None:
    """Removed while the node was down, or before its chat had caught up with the removal."""
    db = ChatDb.sqlite(tmp_path / "c.db", "node1")
    db.send("330", "gone", "c1", "an einen, den es nicht mehr gibt", 1)
    db.send("gone", "331", "c2", "von einem, den es nicht mehr gibt", 2)
    db.mark_read("gone", "331", 1)
    db.commit()
    node, clock = make_node()
    service = ChatService(node, db, clock)
    await service.start()
    try:
        await forgotten(service, "gone")
        assert await service.writer.submit(lambda d: d.owners()) == {"330", "331"}
        assert service.db.stored() == 2  # 330 and 331 keep theirs
    finally:
        await service.stop()


async def test_a_session_beyond_the_limit_clears_the_oldest_marker(chat: Chat) -> None:
    for i in range(MAX_SESSIONS):
        chat.sign_in("331", f"tab-{i}")
        chat.clock.advance(1)
    chat.take()
    chat.sign_in("331", "one-too-many")
    assert chat.take() == [(f"{B}/users/331/sessions/tab-0", None, True)]
    assert len(chat.service.sessions.clients("331")) == MAX_SESSIONS
    assert chat.service.online("331")
