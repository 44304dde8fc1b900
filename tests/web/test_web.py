"""The web client end to end (specs/web.md): two signed-in browsers call each other, consult
and transfer, see busy lamps and presence change live; wrong password; first-sign-in password
change with the policy's errors; reconnect after the broker restarts with no event missing.
Every wait is for a DOM condition (Playwright's expect), never a sleep."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import aiomqtt
import pytest
from playwright.async_api import Browser, Page, expect

from cti.app.bootstrap import Running
from cti.calls import commands as c
from cti.client import CtiClient

from .conftest import PASSWORDS, open_page, sign_in, signed_in

SCREENSHOTS = os.environ.get("CTI_WEB_SCREENSHOTS")  # docs/ to refresh the README's pictures


async def shot(page: Page, tmp_path: Path, name: str) -> None:
    path = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=path / f"{name}.png")


def call_of(page: Page, state: str | None = None):  # type: ignore[no-untyped-def]
    calls = page.locator("#calls li[data-call]")
    return calls if state is None else page.locator(f"#calls li[data-state={state}]")


async def test_wrong_password_is_refused_in_the_browsers_language(
    node: Running, browser: Browser
) -> None:
    page = await open_page(browser, node, locale="de-DE")
    await page.get_by_label("Rufnummer").fill("331")
    await page.get_by_label("Passwort").fill("Bernd-2025!")
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page.get_by_role("alert")).to_have_text("Rufnummer oder Passwort ist falsch.")
    await expect(page.locator("#connection")).to_have_count(0)  # never got in
    await sign_in_de(page)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    await expect(page.get_by_role("heading", name="Mein Telefon")).to_be_visible()
    # The user's choice wins over the browser's language, and is kept.
    await page.get_by_label("Sprache").select_option("en")
    await expect(page.get_by_role("heading", name="My phone")).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]


async def test_dutch_from_the_browser_and_the_users_choice_over_it(
    node: Running, browser: Browser
) -> None:
    page = await open_page(browser, node, locale="nl-NL")
    await page.get_by_label("Telefoonnummer").fill("331")
    await page.get_by_label("Wachtwoord").fill(PASSWORDS["331"])
    await page.get_by_role("button", name="Aanmelden").click()
    await expect(page.locator("#connection")).to_have_text("Verbonden")
    # The Dutch guide's words: Logboek and its folders, Directe berichten, the statuses.
    await expect(page.get_by_role("heading", name="Mijn telefoon")).to_be_visible()
    await expect(page.get_by_role("heading", name="Logboek")).to_be_visible()
    await expect(page.locator("#folders button[data-folder=missed]")).to_contain_text("Gemist")
    await expect(page.get_by_role("heading", name="Directe berichten")).to_be_visible()
    await expect(page.locator("#presence-status option[value=meeting]")).to_have_text("Bespreking")
    await page.get_by_label("Taal").select_option("de")
    await expect(page.get_by_role("heading", name="Mein Telefon")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]


async def sign_in_de(page: Page) -> None:
    await page.get_by_label("Rufnummer").fill("331")
    await page.get_by_label("Passwort").fill(PASSWORDS["331"])
    await page.get_by_role("button", name="Anmelden").click()


async def test_two_browsers_call_consult_transfer_with_live_lamps_and_presence(
    node: Running, browser: Browser, tmp_path: Path
) -> None:
    bernd = await signed_in(browser, node, "331")
    clara = await signed_in(browser, node, "332")
    assert await bernd.evaluate("window.ctiLevel()") == 5  # MQTT 5 where the broker has it

    # Bernd finds Clara while typing and makes her a favourite: her lamp shows at once.
    await bernd.get_by_label("Search name or number").fill("Clar")
    await bernd.get_by_role("button", name="Add to favourites: Clara Wolf").click()
    clara_fav = bernd.locator("#fav-list li[data-number='332']")
    await expect(clara_fav).to_have_attribute("data-lamp", "idle")
    await expect(clara_fav.locator(".lamp-text")).to_have_text("available")

    # Clara's presence reaches Bernd's favourites live.
    await clara.get_by_label("Status", exact=True).select_option("meeting")
    await clara.get_by_label("Info").fill("Board room")
    await clara.get_by_role("button", name="Save").first.click()
    await expect(clara.locator("#presence-now")).to_have_text("In a meeting · Board room")
    await expect(clara_fav.locator(".presence")).to_have_text("In a meeting · Board room")
    # Back in the office (absent statuses forward calls to voicemail, PRES-02).
    await clara.get_by_label("Status", exact=True).select_option("office")
    await clara.get_by_label("Info").fill("")
    await clara.get_by_role("button", name="Save").first.click()
    await expect(clara_fav.locator(".presence")).to_have_count(0)

    # Bernd dials Clara with the dial box: her phone rings and shows him (her own device's
    # events carry the caller; his lamp for her tells nobody who calls, CALL-10), her lamp
    # in his favourites blinks ringing, and only the allowed services are buttons.
    await bernd.get_by_label("Number to dial").fill("332")
    await expect(bernd.locator("#dial-hint")).to_have_text("Internal number")
    await bernd.get_by_role("button", name="Call", exact=True).click()
    ringing = call_of(clara, "alerting")
    await expect(ringing.locator(".peer")).to_have_text("Bernd Vogel · 331")
    await expect(clara_fav).to_have_attribute("data-lamp", "incoming-internal")
    await expect(ringing.get_by_role("button")).to_have_text(
        ["Answer", "Deflect", "To voicemail", "Hang up"]
    )
    await shot(clara, tmp_path, "web-ringing")

    await ringing.get_by_role("button", name="Answer").click()
    talking = call_of(clara, "connected")
    await expect(talking.locator(".peer")).to_have_text("Bernd Vogel · 331")
    await expect(clara_fav).to_have_attribute("data-lamp", "talking-internal")
    await expect(clara_fav.locator(".lamp-text")).to_have_text("on an internal call")

    # Bernd consults Dieter (333, a phone nobody watches here), then transfers Clara to him.
    await bernd.get_by_label("Number to dial").fill("333")
    await call_of(bernd, "connected").get_by_role("button", name="Consult").click()
    await expect(call_of(bernd, "hold")).to_have_count(1)
    await expect(call_of(bernd)).to_have_count(2)
    await shot(bernd, tmp_path, "web-consultation")
    first = await call_of(bernd, "hold").get_attribute("data-call")
    transfer = bernd.locator("#calls button[data-service=transferCall]").first
    await transfer.click()
    await expect(bernd.locator("#calls li.empty")).to_have_text("No calls")
    await expect(call_of(clara).locator(".peer")).to_contain_text("333")

    # The call as a ladder (from replay: Bernd's own call), the consultation merged in.
    await bernd.get_by_label("Call ID").fill(first or "")
    await bernd.get_by_role("button", name="Draw").click()
    ladder = bernd.locator("#ladder svg")
    await expect(ladder.locator("text.device")).to_have_text(["331", "332", "333"])
    await expect(ladder.locator("g.event[data-event=transferred]")).to_have_count(1)
    await expect(ladder.locator("g.event[data-event=delivered]")).to_have_count(2)
    # Bernd's phone as it was when the consultation call rang at 333, then after the transfer.
    consulting = (
        await ladder.locator("g.event[data-event=delivered]").nth(1).get_attribute("data-seq")
    )
    await bernd.get_by_label("At seq").fill(consulting or "")
    await bernd.get_by_role("button", name="Show").click()
    past = bernd.locator("#past li")
    await expect(past).to_have_text(
        [
            f"331 @ {consulting}: #{first} on hold with 332",
            f"331 @ {consulting}: #2 connected with 333",
        ]
    )
    transferred = await ladder.locator("g.event[data-event=transferred]").get_attribute("data-seq")
    await bernd.get_by_label("At seq").fill(transferred or "")
    await bernd.get_by_role("button", name="Show").click()
    await expect(past).to_have_text([f"331 @ {transferred}: No calls"])
    path = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    await bernd.locator("#trace").screenshot(path=path / "web-ladder.png")

    # Bad input in the dial box is named before anything is sent.
    await bernd.get_by_label("Number to dial").fill("33a")
    await expect(bernd.locator("#dial-hint")).to_have_text("Not a number: a")
    await shot(bernd, tmp_path, "web-main")
    assert bernd.errors == [] and clara.errors == []  # type: ignore[attr-defined]


async def test_first_sign_in_asks_for_a_new_password_and_names_failed_rules(
    node: Running, browser: Browser
) -> None:
    host, port = node.broker.host, node.broker.port  # type: ignore[union-attr]
    # Dieter's live session ends when the broker has reloaded its files with the new password
    # (specs/security.md): then, and not before, the new password signs in.
    async with aiomqtt.Client(host, port, username="333", password=PASSWORDS["333"]) as dieter:
        await dieter.subscribe("cti/node1/status")
        async with CtiClient(
            f"mqtt://{host}:{port}", user="330", password=PASSWORDS["330"]
        ) as anna:
            await anna.request("setPassword", name="333", password="Reset-2026!")
        with pytest.raises(aiomqtt.MqttError):
            async for _ in dieter.messages:
                pass
    page = await open_page(browser, node)
    await sign_in(page, "333", "Reset-2026!")
    await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    await page.get_by_label("New password", exact=True).fill("short")
    await page.get_by_label("Repeat the new password").fill("short")
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "The password needs: 8 to 16 characters, an upper-case letter, a digit, a special character"
    )
    await page.get_by_label("New password", exact=True).fill("Mine-2026?")
    await page.get_by_label("Repeat the new password").fill("Mine-2026?")
    await page.get_by_role("button", name="Change password").click()
    await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    await expect(page.locator("#who")).to_have_text("333")


async def test_reconnect_after_the_broker_restarts_misses_no_event(
    node: Running, browser: Browser
) -> None:
    bernd = await signed_in(browser, node, "331")
    await bernd.get_by_label("Number to dial").fill("332")
    await bernd.get_by_role("button", name="Call", exact=True).click()
    await expect(call_of(bernd)).to_have_count(1)
    broker = node.broker
    assert broker is not None and broker.pid is not None
    connection = bernd.locator("#connection")
    connects = await connection.get_attribute("data-connects")
    os.kill(broker.pid, signal.SIGKILL)  # the node starts it again on the same ports
    # While the page is cut off, the call goes on: Clara answers and hangs up, Bernd's
    # phone sees it all (events committed in the node's log, not yet in the browser).
    call = int(await call_of(bernd).get_attribute("data-call") or 0)
    assert (await node.engine.execute(c.AnswerCall(call=call, device="332"))).ok
    assert (await node.engine.execute(c.ClearConnection(call=call, device="332"))).ok
    # The node restarts the broker; the page's back-off (0.5 s doubling, jittered) may have
    # grown while it was away: a wider bound than the other waits, still not a sleep.
    await expect(connection).not_to_have_attribute("data-connects", connects or "", timeout=60_000)
    await expect(connection).to_have_attribute("data-state", "online")
    await expect(bernd.locator("#calls li.empty")).to_have_text("No calls")
    # Every event of Bernd's phone in the log reached the page exactly once.
    host, port = broker.host, broker.port
    async with CtiClient(f"mqtt://{host}:{port}", user="331", password=PASSWORDS["331"]) as me:
        page = await me.request("replay", fromSeq=1, limit=1000)
    expected = sorted(e["seq"] for e in page["events"])
    await expect(bernd.locator("#events")).to_have_attribute("data-count", str(len(expected)))
    assert sorted(await bernd.evaluate("window.ctiSeenSeqs()")) == expected


UNLABELLED = """() => [...document.querySelectorAll('input, select, button')].filter((el) => {
  if (el.getAttribute('aria-label')) return false;
  if (el.tagName === 'BUTTON') return el.textContent.trim() === '';
  return el.labels === null || el.labels.length === 0;
}).map((el) => el.outerHTML)"""


async def test_keyboard_only_on_a_phone_sized_screen(
    node: Running, browser: Browser, tmp_path: Path
) -> None:
    page = await open_page(browser, node, viewport=(390, 844))
    await expect(page.get_by_label("Internal number")).to_be_focused()  # on load
    await page.keyboard.type("331")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORDS["331"])
    await page.keyboard.press("Enter")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    for _ in range(10):  # header controls first, then the dial box
        await page.keyboard.press("Tab")
        if await page.evaluate("() => document.activeElement.id") == "dial":
            break
    await page.keyboard.type("332")
    await page.keyboard.press("Enter")
    await expect(call_of(page)).to_have_count(1)
    await expect(call_of(page).locator(".peer")).to_have_text("Clara Wolf · 332")
    assert await page.evaluate(UNLABELLED) == []
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    await shot(page, tmp_path, "web-phone")


async def test_pickup_keeps_the_caller_hidden_and_the_journal_follows_live(
    node: Running, browser: Browser
) -> None:
    bernd = await signed_in(browser, node, "331")
    clara = await signed_in(browser, node, "332")
    # First a call Clara sends to her voicemail while it rings.
    await bernd.get_by_label("Number to dial").fill("332")
    await bernd.get_by_role("button", name="Call", exact=True).click()
    await call_of(clara, "alerting").get_by_role("button", name="To voicemail").click()
    await expect(clara.locator("#calls li.empty")).to_have_text("No calls")
    await expect(call_of(bernd).locator(".peer")).to_contain_text("351")
    await call_of(bernd).get_by_role("button", name="Hang up").click()
    await expect(bernd.locator("#calls li.empty")).to_have_text("No calls")

    await clara.get_by_label("Search name or number").fill("Diet")
    await clara.get_by_role("button", name="Add to favourites: Dieter Klein").click()
    dieter = clara.locator("#fav-list li[data-number='333']")
    await expect(dieter).to_have_attribute("data-lamp", "idle")

    await bernd.get_by_label("Number to dial").fill("333")
    await bernd.get_by_role("button", name="Call", exact=True).click()
    await expect(dieter).to_have_attribute("data-lamp", "incoming-internal")
    await expect(dieter).not_to_contain_text("331")  # a lamp says nothing about the caller
    await dieter.get_by_role("button", name="Pick up Dieter Klein").click()
    picked = call_of(clara, "connected")
    await expect(picked.locator(".peer")).to_have_text("Bernd Vogel · 331")
    await expect(dieter).to_have_attribute("data-lamp", "idle")
    await picked.get_by_role("button", name="Hang up").click()
    await expect(clara.locator("#calls li.empty")).to_have_text("No calls")

    # Bernd's journal counts come live; a note is kept by the node.
    await expect(bernd.locator("#folders button[data-folder=all] .count")).to_have_text("2")
    await bernd.locator("#folders button[data-folder=answered]").click()
    entry = bernd.locator("#journal-entries li[data-entry]")
    await expect(entry).to_have_count(1)
    # Dates in the browser's locale (en-GB: day first, 24 hours), the outcome in words.
    await expect(entry).to_contain_text(re.compile(r"\d\d/\d\d/\d{4}, \d\d:\d\d · answered"))
    await entry.get_by_role("textbox", name="Note").fill("Angebot besprechen")
    await entry.get_by_role("button", name="Save").click()
    await bernd.locator("#folders button[data-folder=answered]").click()
    await expect(bernd.locator("#folders button[data-folder=answered]")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(entry.get_by_role("textbox", name="Note")).to_have_value("Angebot besprechen")
    assert bernd.errors == [] and clara.errors == []  # type: ignore[attr-defined]
