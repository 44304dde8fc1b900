"""The web client against a broker that speaks only MQTT 3.1.1 (a private nats-server's MQTT
listener, specs/web.md#mqtt-311-brokers): the page asks for MQTT 5, is refused, connects again
at level 4 and everything it does works there: requests with the reply address in the
payload, live lamps and the own phone's events, chat with the session marker and its Will.
Every wait is for a DOM condition, never a sleep."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from cti.app.bootstrap import Running, ServeOptions, start
from cti.mqtt.broker import free_port
from tests.mqtt.conftest import Nats

from .conftest import signed_in


@pytest.fixture
async def nats_node(template: Path, tmp_path: Path) -> AsyncIterator[Running]:
    """The example office with `--broker external --mqtt-url` a private nats-server."""
    workdir = tmp_path / "nats"
    workdir.mkdir()
    nats = Nats(workdir)
    await nats.start()
    try:
        data_dir = tmp_path / "data"
        shutil.copytree(template, data_dir)
        running = await start(
            ServeOptions(
                data_dir=data_dir,
                broker="external",
                mqtt_url=nats.url,
                csta_port=0,
                web_port=free_port(),
            )
        )
        try:
            assert running.mqtt.version == 4  # the node itself fell back to 3.1.1
            yield running
        finally:
            await running.stop()
    finally:
        nats.stop()


async def test_two_browsers_call_and_chat_over_mqtt_311(
    nats_node: Running, browser: Browser
) -> None:
    node = nats_node
    bernd = await signed_in(browser, node, "331")
    clara = await signed_in(browser, node, "332")
    for page in (bernd, clara):  # refused MQTT 5, connected at level 4, once
        assert await page.evaluate("window.ctiLevel()") == 4
        assert await page.evaluate("window.ctiConnects()") == 1

    # Requests and their replies (searchDirectory, addFavourite), retained documents: Bernd
    # makes Clara a favourite and her lamp shows.
    await bernd.get_by_label("Search name or number").fill("Clar")
    await bernd.get_by_role("button", name="Add to favourites: Clara Wolf").click()
    clara_fav = bernd.locator("#fav-list li[data-number='332']")
    await expect(clara_fav).to_have_attribute("data-lamp", "idle")

    # A call: Clara's phone rings with the caller (her own device's events), Bernd's lamp for
    # her follows live, she answers.
    await bernd.get_by_label("Number to dial").fill("332")
    await bernd.get_by_role("button", name="Call", exact=True).click()
    ringing = clara.locator("#calls li[data-state=alerting]")
    await expect(ringing.locator(".peer")).to_have_text("Bernd Vogel · 331")
    await expect(clara_fav).to_have_attribute("data-lamp", "incoming-internal")
    await expect(clara.locator("#events li[data-event=delivered]")).to_have_count(1)
    await ringing.get_by_role("button", name="Answer").click()
    await expect(clara.locator("#calls li[data-state=connected] .peer")).to_have_text(
        "Bernd Vogel · 331"
    )
    await expect(clara_fav).to_have_attribute("data-lamp", "talking-internal")
    await expect(bernd.locator("#events li[data-event=established]")).to_have_count(1)

    # Chat: Clara's tab announced its session marker, so she is online; a message reaches her.
    await bernd.get_by_label("Chat with (number)").fill("332")
    await bernd.get_by_role("button", name="Open", exact=True).click()
    await expect(bernd.locator("#chat-online")).to_have_attribute("data-online", "true")
    await bernd.get_by_label("Message", exact=True).fill("Über NATS")
    await bernd.get_by_role("button", name="Send", exact=True).click()
    await expect(bernd.locator("#chat-messages li .text")).to_have_text(["Über NATS"])
    talk = clara.locator("#conversations li[data-partner='331']")
    await expect(talk).to_have_attribute("data-unread", "1")
    assert bernd.errors == [] and clara.errors == []  # type: ignore[attr-defined]

    # Clara's browser goes: NATS sends her tab's Will, which clears the marker: offline.
    await clara.context.close()
    await expect(bernd.locator("#chat-online")).to_have_attribute("data-online", "false")
