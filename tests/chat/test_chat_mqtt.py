"""Chat end to end over MQTT (IM-01..03, specs/chat.md): a real node with its embedded
Mosquitto checking the node's password and ACL files; two signed-in users with cti.client; the
broker's ACLs keeping each user's chat to that user (UC-LESSONS: "user A cannot subscribe to
B's conversation"), each "nothing arrives" shown with a positive control.

One node for the module: each test closes its clients (their session markers go with them)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from cti.api.chat import SendChatMessage
from cti.client import ChatMessage, ChatRead, CtiClient, Online, Refused
from tests.client.conftest import Collector, collecting, relay_to
from tests.mqtt.conftest import TESTER, TIMEOUT
from tests.security.conftest import PASSWORDS, SecureNode, settled, topic

pytestmark = pytest.mark.asyncio(loop_scope="module")


@contextlib.asynccontextmanager
async def ui(n: SecureNode, user: str, url: str | None = None) -> AsyncIterator[CtiClient]:
    where = url or f"mqtt://{n.host}:{n.port}"
    async with CtiClient(where, user=user, password=PASSWORDS[user]) as cti:
        yield cti


async def online(seen: Collector, user: str, state: bool) -> None:
    await seen.wait_for(lambda u: isinstance(u, Online) and u.user == user and u.online == state)


def chat_of(seen: Collector) -> list[tuple[str, int, str, str]]:
    return [(m.partner, m.seq, m.doc["sender"], m.text) for m in seen.of(ChatMessage)]


async def test_a_dialogue_between_two_signed_in_users(secure_node: SecureNode) -> None:
    """IM-01/02 through cti.client: Anna sees Bernd online, they write, a retry is one
    message, Bernd's read mark reaches both of his clients, and once Bernd has signed out
    everywhere Anna sees him offline and her message is refused."""
    n = secure_node
    async with ui(n, "330") as anna, collecting(anna) as a:
        await anna.watch_chat()
        await anna.watch_online("331")
        await online(a, "331", False)  # retained: the node publishes every person's
        with pytest.raises(Refused) as caught:
            await anna.send_chat("331", "Bist du da?")
        assert caught.value.code == "partnerOffline"
        async with (
            ui(n, "331") as bernd,
            collecting(bernd) as b,
            ui(n, "331") as bernd2,  # a second client of Bernd's (the phone app)
            collecting(bernd2) as b2,
        ):
            await bernd.watch_chat()
            await bernd2.watch_chat()
            await online(a, "331", True)
            sent = await anna.send_chat("331", "Hallo Bernd", client_id="m-1")
            assert (sent["seq"], sent["duplicate"], sent["partnerOnline"]) == (1, False, True)
            again = await anna.send_chat("331", "Hallo Bernd", client_id="m-1")
            assert again == {**sent, "duplicate": True}
            await b.wait_for(lambda u: isinstance(u, ChatMessage))
            answer = await bernd.send_chat("330", "Hallo Anna, ja?")
            assert answer["seq"] == 2
            for seen in (a, b, b2):
                await seen.wait_for(lambda u: isinstance(u, ChatMessage) and u.seq == 2)
            expected = [("330", 1, "330", "Hallo Bernd"), ("330", 2, "331", "Hallo Anna, ja?")]
            assert chat_of(b) == chat_of(b2) == expected
            assert chat_of(a) == [("331", s, f, t) for _, s, f, t in expected]
            assert await bernd.mark_chat_read("330", 2) == 2
            for seen in (b, b2):  # the watermark on every client of Bernd's
                read = await seen.wait_for(lambda u: isinstance(u, ChatRead))
                assert isinstance(read, ChatRead) and (read.partner, read.read_seq) == ("330", 2)
            assert a.of(ChatRead) == []
            page = await anna.chat_messages("331", since_seq=1)
            assert [m["text"] for m in page["messages"]] == ["Hallo Anna, ja?"]
            [conv] = (await bernd.chat_conversations())["conversations"]
            assert (conv["partner"], conv["readSeq"], conv["unread"]) == ("330", 2, 0)
        await online(a, "331", False)  # both closed: their markers are gone
        with pytest.raises(Refused) as caught:
            await anna.send_chat("331", "Noch da?")
        assert caught.value.code == "partnerOffline"


async def test_a_reconnecting_client_fetches_what_it_missed(secure_node: SecureNode) -> None:
    """Clara's laptop loses its network while Dieter writes (Clara stays online on her phone);
    back, it fetches the missed messages since the last seq it had: each once, in order."""
    n = secure_node
    async with (
        ui(n, "333") as dieter,
        ui(n, "332") as phone,
        relay_to(n.host, n.port) as relay,
        ui(n, "332", relay.url) as laptop,
        collecting(laptop) as seen,
    ):
        await laptop.watch_chat()
        await dieter.send_chat("332", "eins")
        await seen.wait_for(lambda u: isinstance(u, ChatMessage) and u.text == "eins")
        await relay.cut()
        for text in ("zwei", "drei", "vier"):
            await dieter.send_chat("332", text)  # Clara is online: her phone's session
        await relay.restore()
        await seen.wait_for(lambda u: isinstance(u, ChatMessage) and u.text == "vier")
        await dieter.send_chat("332", "fünf")
        await seen.wait_for(lambda u: isinstance(u, ChatMessage) and u.text == "fünf")
        assert [(m.seq, m.text) for m in seen.of(ChatMessage)] == [
            (1, "eins"),
            (2, "zwei"),
            (3, "drei"),
            (4, "vier"),
            (5, "fünf"),
        ]
        assert phone.connected


async def test_a_message_the_node_could_not_publish_is_fetched_at_the_next(
    secure_node: SecureNode,
) -> None:
    """A message stored while the node's broker connection was down as the commit completed
    was never published (and its sender's retry answers a duplicate, published nothing). The
    recipient's client, connected all along, sees the gap in seq at the next message and
    fetches what it missed: each message once, in order."""
    n = secure_node
    chat = n.running.chat
    assert chat is not None
    async with ui(n, "333") as dieter, ui(n, "332") as clara, collecting(clara) as seen:
        await clara.watch_chat()
        await dieter.send_chat("332", "eins")
        await seen.wait_for(lambda u: isinstance(u, ChatMessage) and u.text == "eins")
        publish, chat.publish = chat.publish, None  # the node's broker connection is down
        try:
            action = SendChatMessage(to="332", text="zwei", client_id="z-2")
            assert (await chat.execute(action, "333"))["ok"] is True
        finally:
            chat.publish = publish
        await dieter.send_chat("332", "drei")
        await seen.wait_for(lambda u: isinstance(u, ChatMessage) and u.text == "drei")
        got = [(m.seq, m.text) for m in seen.of(ChatMessage)]
        first = got[0][0]  # the module's node: earlier tests wrote in this conversation
        assert got == [(first, "eins"), (first + 1, "zwei"), (first + 2, "drei")]


async def test_a_vanished_client_goes_offline_by_its_will(secure_node: SecureNode) -> None:
    """Rule 2: Eva's only client loses its network (no goodbye): the broker publishes its Will,
    which clears the session marker, and Anna sees Eva offline; back, Eva's client announces
    its session again on its own."""
    n = secure_node
    async with (
        ui(n, "330") as anna,
        collecting(anna) as a,
        relay_to(n.host, n.port) as relay,
        ui(n, "335", relay.url) as eva,
    ):
        await anna.watch_online("335")
        await online(a, "335", True)
        start = len(a.updates)
        await relay.cut()
        await a.wait_for(
            lambda u: isinstance(u, Online) and u.user == "335" and not u.online, start=start
        )
        with pytest.raises(Refused) as caught:
            await anna.send_chat("335", "Hallo?")
        assert caught.value.code == "partnerOffline"
        start = len(a.updates)
        await relay.restore()
        await a.wait_for(
            lambda u: isinstance(u, Online) and u.user == "335" and u.online, start=start
        )
        assert (await anna.send_chat("335", "Da bist du ja"))["partnerOnline"] is True
        assert eva.connected


async def test_user_a_cannot_read_or_fake_b_s_conversation(secure_node: SecureNode) -> None:
    """The broker's side: 331 (A) subscribes to 332's chat topic, to every chat topic, and to
    the session markers; 332 and 333 chat. A receives none of it while 332 does (positive
    control); A's retained marker on 335's session topic is dropped (335 stays offline) while
    A's own marker is taken; the integrator, who reads every call topic, reads no chat."""
    n = secure_node
    spy_filters = [
        topic("users", "332", "chat"),
        topic("users", "+", "chat"),
        topic("users", "+", "sessions", "+"),
    ]
    async with (
        n.client("331", filters=spy_filters, name="spy") as spy,
        n.client(TESTER, filters=[topic("#")], name="integrator") as integrator,
        n.client("332", filters=[topic("users", "332", "chat")], name="b") as b,
        ui(n, "332") as clara,
        ui(n, "333") as dieter,
    ):
        await dieter.send_chat("332", "nur für Clara")
        await clara.send_chat("333", "danke")
        await b.wait_for(topic("users", "332", "chat"), lambda d: d["text"] == "danke")
        # A writes a session marker for 335: the broker drops it.
        await spy.publish(topic("users", "335", "sessions", "fake"), b"{}", retain=True)
        await spy.publish(topic("users", "331", "sessions", "own"), b"{}", retain=True)
        await n_online(n, "331")  # A's own marker arrived, so the fake one came before
        assert not n.running.chat.online("335")  # type: ignore[union-attr]
        await settled(spy)
        await settled(integrator)
        assert spy.on(topic("users", "+", "chat")) == []
        # Markers are written by their user and read by the node alone: not even A's own.
        assert spy.on(topic("users", "+", "sessions", "+")) == []
        assert integrator.on(topic("users", "+", "chat")) == []
        await spy.publish(topic("users", "331", "sessions", "own"), b"", retain=True)
        # The node refuses A's request about B's conversation (the node's side).
        reply = await spy.request("getChatMessages", user="332", partner="333")
        assert reply["error"]["code"] == "notPermitted"
        reply = await integrator.request("getChatMessages", user="332", partner="333")
        assert reply["error"]["code"] == "notPermitted"


async def n_online(n: SecureNode, user: str) -> None:
    """Until the node counts ``user`` online (its retained online document says so)."""
    async with aiomqtt.Client(
        n.host,
        n.port,
        identifier=f"watch-{uuid.uuid4().hex[:8]}",
        username="330",
        password=PASSWORDS["330"],
        timeout=TIMEOUT,
    ) as watcher:
        await watcher.subscribe(topic("online", user))
        async with asyncio_timeout(TIMEOUT):
            async for message in watcher.messages:
                if json.loads(bytes(message.payload))["online"]:  # type: ignore[arg-type]
                    return


def asyncio_timeout(seconds: float) -> contextlib.AbstractAsyncContextManager[None]:
    import asyncio

    return asyncio.timeout(seconds)


async def test_no_user_can_make_another_look_online(secure_node: SecureNode) -> None:
    """`online/{user}` is the node's alone: a retained document a user publishes there is
    dropped by the broker. The spy, subscribed there itself, would get its own message back
    if the broker took it; it gets the node's document alone (the positive control), and so
    does a later reader."""
    n = secure_node
    fake = json.dumps({"user": "335", "online": True}).encode()
    async with n.client("331", filters=[topic("online", "335")], name="spy") as spy:
        doc = await spy.wait_for(topic("online", "335"))
        assert doc == {"user": "335", "online": False}
        await spy.publish(topic("online", "335"), fake, retain=True)
        await settled(spy)
        assert [m.doc for m in spy.on(topic("online", "335"))] == [doc]
    async with n.client("330", filters=[topic("online", "335")], name="reader") as reader:
        assert await reader.wait_for(topic("online", "335")) == doc
        await settled(reader)
        assert [m.doc for m in reader.on(topic("online", "335"))] == [doc]
    assert not n.running.chat.online("335")  # type: ignore[union-attr]
