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
from playwright.async_api import Browser, Page, expect

from cti.app.bootstrap import Running, ServeOptions, start
from cti.mqtt.broker import free_port
from tests.mqtt.conftest import Nats

from .conftest import WAIT_MS, signed_in


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
        assert await page.evaluate("window.ctiFallbacks()") == 1

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


async def reconnected(page: Page, connects: int) -> None:
    """Wait for the page's next connection (its back-off may have grown while the node was
    away: the test tells it the network is back, which reconnects at once)."""
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await page.wait_for_function(
        "(n) => window.ctiConnects() === n", arg=connects, timeout=2 * WAIT_MS
    )
    await expect(page.locator("#connection")).to_have_attribute("data-state", "online")


async def test_a_tab_on_mqtt_311_asks_for_mqtt_5_again_after_its_connection_is_lost(
    template: Path, tmp_path: Path, browser: Browser
) -> None:
    """A tab that fell back to 3.1.1 is not stuck there: when its connection is lost, the next
    attempt asks for MQTT 5 first. On the same nats-server that costs one refused CONNECT
    per lost connection; after the operator moved the node to Mosquitto, the tab speaks
    MQTT 5 without a reload (the bundle that kept level 4 for good fails it: checked)."""
    workdir = tmp_path / "nats"
    workdir.mkdir()
    nats = Nats(workdir)
    await nats.start()
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir)
    web_port = free_port()
    on_nats = ServeOptions(
        data_dir=data_dir, broker="external", mqtt_url=nats.url, csta_port=0, web_port=web_port
    )
    node: Running | None = await start(on_nats)
    try:
        assert node is not None
        bernd = await signed_in(browser, node, "331")
        assert await bernd.evaluate("[ctiLevel(), ctiConnects(), ctiFallbacks()]") == [4, 1, 1]

        # The node restarts on the same nats-server: the WebSocket drops; the next connect
        # asks for MQTT 5, is refused once more, and speaks 3.1.1 again.
        await node.stop()
        node = None
        node = await start(on_nats)
        await reconnected(bernd, 2)
        assert await bernd.evaluate("[ctiLevel(), ctiFallbacks()]") == [4, 2]

        # The operator moves the node to Mosquitto (the embedded broker): the tab's next
        # connect is MQTT 5 and is not refused.
        await node.stop()
        node = None
        node = await start(
            ServeOptions(
                data_dir=data_dir,
                broker="embedded",
                broker_port=free_port(),
                tls_port=free_port(),
                csta_port=0,
                web_port=web_port,
            )
        )
        await reconnected(bernd, 3)
        assert await bernd.evaluate("[ctiLevel(), ctiFallbacks()]") == [5, 2]
        # Requests work at level 5 (the reply address as MQTT 5's Response Topic).
        await bernd.get_by_label("Search name or number").fill("Clar")
        await expect(
            bernd.get_by_role("button", name="Add to favourites: Clara Wolf")
        ).to_be_visible()
        assert bernd.errors == []  # type: ignore[attr-defined]
    finally:
        if node is not None:
            await node.stop()
        nats.stop()
