"""Voicemail in the browser (VM-01/02/04, specs/web.md#views): a caller leaves a message in
Clara's mailbox; her page shows it with the new-message badge (from messageWaiting, the same
count as the phone's lamp); Play fetches the stored bytes from the node and plays them in the
page (the very bytes: the page checks them against the node's hash); first playback moves it
to the heard folder and the badge goes; Delete empties the list. The settings (VM-03/06/07):
the PIN changed in the page over the proxy's TLS leg, a policy refusal shown rule by rule;
recording off and voicemail to e-mail on, as the node's mailbox and profile then say. DOM
conditions, no sleeps."""

from __future__ import annotations

import base64
import hashlib
import io
import math
import struct
import wave
from pathlib import Path

from playwright.async_api import Browser, expect

from cti.accounts import passwords
from cti.app.bootstrap import Running
from cti.calls import commands as c
from cti.client import CtiClient

from .conftest import PASSWORDS, signed_in
from .test_web import SCREENSHOTS


def tone(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """16-bit mono WAV (VM-07), a 440 Hz tone: speech enough for a mailbox."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    return out.getvalue()


async def test_a_message_is_listed_with_the_badge_played_in_the_page_and_deleted(
    node: Running, browser: Browser, tmp_path: Path
) -> None:
    clara = await signed_in(browser, node, "332")
    box = clara.locator("#voicemail")
    await expect(box.locator("#vm-list li.empty")).to_have_text("No messages")
    await expect(clara.locator("#vm-badge")).to_have_text("")

    # Bernd calls Clara; the call goes to her mailbox; Bernd's phone speaks a message.
    made = await node.engine.execute(c.MakeCall(calling="331", called="332"))
    call: int = made.result["call"]  # type: ignore[index]
    assert (await node.engine.execute(c.DeflectCall(call=call, device="332", to="351"))).ok
    wav = tone()
    broker = node.broker
    assert broker is not None
    url = f"mqtt://{broker.host}:{broker.port}"
    async with CtiClient(url, user="331", password=PASSWORDS["331"]) as bernd:
        audio = base64.b64encode(wav).decode()
        await bernd.request("leaveVoicemailMessage", call=call, device="331", audio=audio)

    message = box.locator("#vm-list li[data-message]")
    await expect(message).to_have_attribute("data-folder", "new")
    await expect(message.locator("strong")).to_have_text("Bernd Vogel · 331")
    await expect(clara.locator("#vm-badge")).to_have_text("1")

    await message.get_by_role("button", name="Play: Bernd Vogel · 331").click()
    await expect(message.locator("audio")).to_have_count(1)
    # The page checked the bytes it plays against the node's hash, and so do we.
    await expect(message.locator("audio")).to_have_attribute(
        "data-sha256", hashlib.sha256(wav).hexdigest()
    )
    assert (await message.locator("audio").get_attribute("src") or "").startswith("blob:")
    # First playback: heard (VM-02); the badge and the lamp's count follow.
    await expect(message).to_have_attribute("data-folder", "old")
    await expect(clara.locator("#vm-badge")).to_have_text("")
    path = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    await box.screenshot(path=path / "web-voicemail.png")

    await message.get_by_role("button", name="Delete: Bernd Vogel · 331").click()
    await expect(box.locator("#vm-list li.empty")).to_have_text("No messages")
    assert clara.errors == []  # type: ignore[attr-defined]


async def test_settings_pin_change_with_a_policy_refusal_recording_off_and_mail_on(
    node: Running, browser: Browser
) -> None:
    broker = node.broker
    assert broker is not None
    url = f"mqtt://{broker.host}:{broker.port}"
    # VM-03: the first change of the default PIN is made on the phone (dialling the voicemail).
    async with CtiClient(url, user="332", password=PASSWORDS["332"]) as phone:
        call = (await phone.request("makeCall", calling="332", called="351"))["call"]
        await phone.request("enterVoicemailPin", call=call, device="332", pin="123456")
        await phone.request("changeVoicemailPinOnPhone", call=call, device="332", newPin="135790")
        await phone.request("clearConnection", call=call, device="332")

    clara = await signed_in(browser, node, "332")
    settings = clara.locator("#vm-settings")
    await expect(settings).to_have_attribute("data-recording", "true")
    await expect(clara.get_by_label("Callers can leave messages")).to_be_checked()
    result = clara.locator("#vm-pin-result")

    async def change(old: str, new: str) -> None:
        await clara.get_by_label("Current PIN").fill(old)
        await clara.get_by_label("New PIN", exact=True).fill(new)
        await clara.get_by_label("Repeat the new PIN").fill(new)
        await clara.get_by_role("button", name="Change PIN").click()

    # A PIN the rules refuse: the node names the rule, the page says it in words.
    await change("135790", "111111")
    await expect(result).to_have_attribute("data-code", "pinPolicy")
    await expect(result).to_have_text("The new PIN must be: not all the same digit")
    await change("135790", "246813")
    await expect(result).to_have_attribute("data-code", "ok")
    await expect(result).to_have_text("The PIN was changed.")
    pin_hash = node.node.state.voicemail.of("332").pin_hash
    assert pin_hash is not None and passwords.verify_password(pin_hash, "246813")
    # Nothing of a PIN stays in the page: the fields are empty, the storage holds none.
    for label in ("Current PIN", "Repeat the new PIN"):
        await expect(clara.get_by_label(label)).to_have_value("")
    stored = await clara.evaluate("JSON.stringify([localStorage, sessionStorage])")
    assert "246813" not in stored and "135790" not in stored

    # VM-06: recording off; the page shows what the node's mailbox then says.
    await clara.get_by_label("Callers can leave messages").uncheck()
    await expect(settings).to_have_attribute("data-recording", "false")
    await expect(clara.get_by_label("Callers can leave messages")).not_to_be_checked()
    async with CtiClient(url, user="332", password=PASSWORDS["332"]) as client:
        assert (await client.request("getMailbox", user="332"))["recording"] is False
        # VM-07: voicemail to e-mail, the profile's switch.
        await clara.get_by_label("Send new messages by e-mail").check()
        await expect(settings).to_have_attribute("data-mail", "true")
        await expect(clara.get_by_label("Send new messages by e-mail")).to_be_checked()
        assert (await client.request("getProfile", name="332"))["voicemailToEmail"] is True
    assert clara.errors == []  # type: ignore[attr-defined]
