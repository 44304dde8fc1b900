"""Chat in the browser (IM-01..03, specs/web.md#chat): two signed-in browsers chat, unread
counts and the read watermark follow live; the partner closes the browser, the page's Last
Will clears its session marker, the node says the partner is offline and a send is refused
with the message shown. Every wait is for a DOM condition, never a sleep."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, WebSocketRoute, expect

from cti.app.bootstrap import Running
from cti.client import CtiClient

from .conftest import PASSWORDS, open_page, sign_in, signed_in
from .test_web import SCREENSHOTS


async def test_two_browsers_chat_and_a_closed_partner_makes_a_send_refused(
    node: Running, browser: Browser, tmp_path: Path
) -> None:
    bernd = await signed_in(browser, node, "331")
    clara = await signed_in(browser, node, "332")

    await bernd.get_by_label("Chat with (number)").fill("332")
    await bernd.get_by_role("button", name="Open", exact=True).click()
    # Clara's page announced its session (retained marker): the node counts her online.
    await expect(bernd.locator("#chat-online")).to_have_attribute("data-online", "true")
    await bernd.get_by_label("Message", exact=True).fill("Hast du kurz Zeit?")
    await bernd.get_by_role("button", name="Send", exact=True).click()
    await expect(bernd.locator("#chat-messages li .text")).to_have_text(["Hast du kurz Zeit?"])
    await expect(bernd.get_by_label("Message", exact=True)).to_have_value("")

    # Clara: the conversation with one unread message and the badge, live.
    talk = clara.locator("#conversations li[data-partner='331']")
    await expect(talk).to_have_attribute("data-unread", "1")
    await expect(clara.locator("#chat-badge")).to_have_text("1")
    await talk.get_by_role("button").click()
    await expect(clara.locator("#chat-messages li .text")).to_have_text(["Hast du kurz Zeit?"])
    # Shown is read: the watermark moves, the count and the badge go.
    await expect(talk).to_have_attribute("data-unread", "0")
    await expect(clara.locator("#chat-badge")).to_have_text("")
    await clara.get_by_label("Message", exact=True).fill("Ja, <b>gleich</b>.")
    await clara.get_by_role("button", name="Send", exact=True).click()
    # Plain text, never HTML (specs/chat.md); Bernd's dialogue is open, so nothing unread.
    await expect(bernd.locator("#chat-messages li .text")).to_have_text(
        ["Hast du kurz Zeit?", "Ja, <b>gleich</b>."]
    )
    await expect(bernd.locator("#chat-messages li[data-sender='332']")).to_have_attribute(
        "data-seq", "2"
    )
    await expect(bernd.locator("#conversations li[data-partner='332']")).to_have_attribute(
        "data-unread", "0"
    )
    assert bernd.errors == [] and clara.errors == []  # type: ignore[attr-defined]
    path = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    await bernd.locator("#chat").screenshot(path=path / "web-chat.png")

    # Clara closes her browser: the broker sends her tab's empty Will, the node clears her
    # session and publishes her offline; Bernd sees it, and a send to her is refused (IM-02).
    await clara.context.close()
    await expect(bernd.locator("#chat-online")).to_have_attribute("data-online", "false")
    await bernd.get_by_label("Message", exact=True).fill("Noch da?")
    await bernd.get_by_role("button", name="Send", exact=True).click()
    await expect(bernd.locator("#chat-error")).to_have_text(
        "332 is not signed in: the message was not sent."
    )
    await expect(bernd.locator("#chat-messages li")).to_have_count(2)  # nothing stored
    await expect(bernd.get_by_label("Message", exact=True)).to_have_value("Noch da?")


async def test_a_message_missed_while_cut_off_is_fetched_after_the_reconnect(
    node: Running, browser: Browser
) -> None:
    """The page's WebSocket is cut (Playwright routes it) while Bernd stays online on another
    client: Clara's message reaches that client, not the page; once the page may reconnect,
    it fetches the dialogue from its highest seq and shows the message once."""
    blocked = False
    open_routes: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    async def route(ws: WebSocketRoute) -> None:
        if blocked:
            await ws.close()
            return
        open_routes.append((ws, ws.connect_to_server()))

    page = await open_page(browser, node)
    await page.route_web_socket(re.compile(r".*/mqtt$"), route)
    await sign_in(page, "331")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    broker = node.broker
    assert broker is not None
    url = f"mqtt://{broker.host}:{broker.port}"
    async with (
        CtiClient(url, user="331", password=PASSWORDS["331"]) as bernd_elsewhere,
        CtiClient(url, user="332", password=PASSWORDS["332"]) as clara,
    ):
        await page.get_by_label("Chat with (number)").fill("332")
        await page.get_by_role("button", name="Open", exact=True).click()
        await expect(page.locator("#chat-online")).to_have_attribute("data-online", "true")
        await clara.send_chat("331", "Erste")
        texts = page.locator("#chat-messages li .text")
        await expect(texts).to_have_text(["Erste"])

        blocked = True
        for to_page, to_server in open_routes:
            await to_server.close()
            await to_page.close()
        await expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
        sent = await clara.send_chat("331", "Verpasst")  # Bernd is online elsewhere
        assert sent["partnerOnline"] is True and sent["seq"] == 2
        assert await bernd_elsewhere.request("getChatConversations") is not None

        blocked = False  # the page's back-off (jittered, up to 15 s) decides when
        await expect(page.locator("#connection")).to_have_attribute(
            "data-state", "online", timeout=60_000
        )
        await expect(texts).to_have_text(["Erste", "Verpasst"])
        talk = page.locator("#conversations li[data-partner='332']")
        await expect(talk).to_have_attribute("data-unread", "0")  # shown, so read
    assert page.errors == []  # type: ignore[attr-defined]


async def test_a_send_whose_reply_was_lost_is_sent_again_with_its_id_and_stored_once(
    node: Running, browser: Browser
) -> None:
    """UC rule 5: the reply to Bernd's send and its live copy on his chat topic are dropped
    on their way to the page (Playwright routes the WebSocket), as with a connection that
    died; the page says it was not sent and keeps text and client id; Send again is answered
    as a duplicate: Clara has the message once."""
    dropped: dict[str, bytes] = {}

    async def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_page(message: str | bytes) -> None:
            data = message.encode() if isinstance(message, str) else message
            kind = (
                "reply"
                if b"/inbox/" in data and b'"clientId"' in data
                else "event"
                if b'"chatMessage"' in data
                else None
            )
            if kind is not None and kind not in dropped:
                dropped[kind] = data  # the first send's reply and event never arrive
                return
            ws.send(message)

        server.on_message(to_page)

    bernd = await open_page(browser, node)
    await bernd.route_web_socket(re.compile(r".*/mqtt$"), route)
    await sign_in(bernd, "331")
    await expect(bernd.locator("#connection")).to_have_attribute("data-state", "online")
    clara = await signed_in(browser, node, "332")
    await bernd.get_by_label("Chat with (number)").fill("332")
    await bernd.get_by_role("button", name="Open", exact=True).click()
    await expect(bernd.locator("#chat-online")).to_have_attribute("data-online", "true")
    await bernd.get_by_label("Message", exact=True).fill("Einmal")
    await bernd.get_by_role("button", name="Send", exact=True).click()
    await expect(bernd.locator("#chat-error")).to_contain_text("Not sent")  # no reply in 10 s
    assert b'"duplicate":false' in dropped["reply"].replace(b" ", b"")
    await expect(bernd.locator("#chat-messages li")).to_have_count(0)
    await expect(bernd.get_by_label("Message", exact=True)).to_have_value("Einmal")
    await bernd.get_by_role("button", name="Send", exact=True).click()
    await expect(bernd.get_by_label("Message", exact=True)).to_have_value("")
    await expect(bernd.locator("#chat-error")).to_have_text("")
    await expect(bernd.locator("#chat-messages li .text")).to_have_text(["Einmal"])
    talk = clara.locator("#conversations li[data-partner='331']")
    await expect(talk).to_have_attribute("data-unread", "1")
    await talk.get_by_role("button").click()
    await expect(clara.locator("#chat-messages li .text")).to_have_text(["Einmal"])
    assert bernd.errors == [] and clara.errors == []  # type: ignore[attr-defined]
