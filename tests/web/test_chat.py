"""Chat in the browser (IM-01..03, specs/web.md#chat): two signed-in browsers chat, unread
counts and the read watermark follow live; the partner closes the browser, the page's Last
Will clears its session marker, the node says the partner is offline and a send is refused
with the message shown. Every wait is for a DOM condition, never a sleep."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from cti.app.bootstrap import Running

from .conftest import signed_in
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
