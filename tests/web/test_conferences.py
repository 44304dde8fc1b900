"""Application conferences in the browser (CONF-01..08, specs/web.md#views): the moderator
creates one, adds a colleague, calls the participants out; both pages show every
participant's state live from the retained conferences document (CONF-04: being called,
waiting alone, in the conference), and a disconnect (CONF-05). No sleeps: DOM conditions."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from cti.app.bootstrap import Running

from .conftest import signed_in


async def test_a_moderator_calls_out_and_both_pages_follow_the_participant_states(
    node: Running, browser: Browser
) -> None:
    anna = await signed_in(browser, node, "330")  # an administrator with the conference licence
    clara = await signed_in(browser, node, "332")
    await anna.get_by_label("New conference").fill("Jour fixe")
    await anna.get_by_role("button", name="Create", exact=True).click()
    room = anna.locator("#conf-list li.conference")
    await expect(room.locator("strong")).to_have_text("Jour fixe")
    await room.get_by_label("Add participant (number) to Jour fixe").fill("332")
    await room.get_by_role("button", name="Add", exact=True).click()

    # Clara is a member now: the conference reaches her page (not as moderator).
    theirs = clara.locator("#conf-list li.conference")
    await expect(theirs.locator("strong")).to_have_text("Jour fixe")
    clara_in = theirs.locator("li[data-number='332']")
    anna_in = theirs.locator("li[data-number='330']")
    await expect(clara_in).to_have_attribute("data-state", "inactive")
    await expect(theirs.get_by_role("button", name="Call participants")).to_have_count(0)

    await room.get_by_role("button", name="Call participants").click()
    await expect(clara_in).to_have_attribute("data-state", "diallingIn")
    await expect(clara_in.locator(".conf-state")).to_have_text("being called")
    ringing = "#calls li[data-state=alerting]"
    await clara.locator(ringing).get_by_role("button", name="Answer").click()
    await expect(clara_in).to_have_attribute("data-state", "waiting")  # alone in the room
    await anna.locator(ringing).get_by_role("button", name="Answer").click()
    await expect(clara_in).to_have_attribute("data-state", "active")
    await expect(anna_in).to_have_attribute("data-state", "active")
    await expect(room.locator("li[data-number='332'] .conf-state")).to_have_text(
        "in the conference"
    )

    # The moderator disconnects Clara: she stays in the list, out of the call (CONF-05).
    await room.get_by_role("button", name="Disconnect: Clara Wolf").click()
    await expect(clara_in).to_have_attribute("data-state", "inactive")
    await expect(anna_in).to_have_attribute("data-state", "waiting")
    # Her own invitation: the dial-in and her personal PIN, for her alone (CONF-07).
    await theirs.get_by_role("button", name="Invitation").click()
    await expect(theirs.locator("pre.invitation")).to_contain_text("391")
    assert anna.errors == [] and clara.errors == []  # type: ignore[attr-defined]
