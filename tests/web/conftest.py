"""The web client in a real browser: Playwright driving Debian's Chromium (headless, by
executable path: Playwright cannot download its own browsers here) against a real node with
its embedded Mosquitto, all on free loopback ports (specs/web.md#tests)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from cti.app.bootstrap import Running, ServeOptions, start
from cti.mqtt.broker import free_port, mosquitto_binary

CHROMIUM = os.environ.get("CTI_CHROMIUM", "/usr/bin/chromium")
PASSWORDS = {"330": "Anna-2026!", "331": "Bernd-2026!", "332": "Clara-2026!", "333": "Dieter-2026!"}
WAIT_MS = 15_000  # a bound for DOM conditions on a loaded 2-core machine, never a sleep
expect.set_options(timeout=WAIT_MS)


def options(data_dir: Path) -> ServeOptions:
    return ServeOptions(
        data_dir=data_dir,
        broker="embedded",
        broker_port=free_port(),
        tls_port=free_port(),
        csta_port=0,
        web_port=free_port(),
    )


async def _make_template(data_dir: Path) -> None:
    running = await start(options(data_dir))
    await running.stop()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example office started once (seeded, its certificate made): copied per test."""
    if mosquitto_binary() is None:  # a missing broker fails the suite, it never skips it
        pytest.fail("mosquitto is not installed: apt-get install -y mosquitto (see README)")
    data_dir = tmp_path_factory.mktemp("web-template") / "data"
    asyncio.run(_make_template(data_dir))
    return data_dir


@pytest.fixture
async def node(template: Path, tmp_path: Path) -> AsyncIterator[Running]:
    data_dir = tmp_path / "data"
    shutil.copytree(template, data_dir)
    running = await start(options(data_dir))
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


def url(node: Running) -> str:
    assert node.web is not None
    host, port = node.web.address
    return f"http://{host}:{port}/"


async def open_page(
    browser: Browser,
    node: Running,
    *,
    locale: str = "en-GB",
    viewport: tuple[int, int] = (1280, 800),
) -> Page:
    context = await browser.new_context(
        locale=locale, viewport={"width": viewport[0], "height": viewport[1]}
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(WAIT_MS)
    await page.goto(url(node))
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def sign_in(page: Page, user: str, password: str | None = None) -> None:
    await page.get_by_label("Internal number").fill(user)
    await page.get_by_label("Password").fill(password or PASSWORDS[user])
    await page.get_by_role("button", name="Sign in").click()


async def signed_in(browser: Browser, node: Running, user: str) -> Page:
    page = await open_page(browser, node)
    await sign_in(page, user)
    either = page.locator("#connection[data-state=online], #signin-error:not(:empty)")
    await either.first.wait_for()
    refused = page.locator("#signin-error:not(:empty)")
    if await refused.count():  # say why: the broker's reason code and its log
        code = await refused.get_attribute("data-code")
        log = ""
        if node.broker is not None:
            path = node.broker.run_dir / "mosquitto.log"
            log = path.read_text()[-2000:] if path.exists() else ""
        pytest.fail(f"{user} refused at sign-in, CONNACK reason {code}; broker log:\n{log}")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    return page
