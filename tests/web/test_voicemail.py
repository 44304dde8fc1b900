"""Voicemail in the browser (VM-01/02/04, specs/web.md#views): a caller leaves a message in
Clara's mailbox; her page shows it with the new-message badge (from messageWaiting, the same
count as the phone's lamp); Play fetches the stored bytes from the node and plays them in the
page (the very bytes: the page checks them against the node's hash); first playback moves it
to the heard folder and the badge goes; Delete empties the list. DOM conditions, no sleeps."""

from __future__ import annotations

import base64
import hashlib
import io
import math
import struct
import wave
from pathlib import Path

from playwright.async_api import Browser, expect

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
