"""The e-mail of a new voicemail (VM-07), built with the ``email`` package (UC-LESSONS rule
8): the WAV attached as it was stored, date, time, duration, the sender's number and name.

The Message-ID is derived from the message (the log's epoch, the mailbox, the message id), so
an e-mail sent again after a crash carries the same one (specs/voicemail.md)."""

from __future__ import annotations

import datetime as dt
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from cti.voicemail.events import MessageRecorded


def message_id(node: str, epoch: str, mailbox: str, message: int) -> str:
    safe = "".join(c for c in epoch if c.isalnum())[:32] or "log"
    return f"<vm.{safe}.{mailbox}.{message}@{node}.cti>"


def duration(ms: int) -> str:
    seconds = round(ms / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def build(
    e: MessageRecorded,
    wav: bytes,
    *,
    sender: str,
    owner: str,
    msgid: str,
    zone: dt.tzinfo = dt.UTC,
) -> EmailMessage:
    """The e-mail of ``e`` to ``e.mail_to``; ``owner``: the mailbox owner's name; dates and
    times in ``zone``, the site's (UC-LESSONS: the owner's time zone)."""
    assert e.mail_to is not None
    when = dt.datetime.fromtimestamp(e.received_at / 1000, zone)
    who = f"{e.caller_name} ({e.caller})" if e.caller_name else e.caller
    msg = EmailMessage()
    msg["Subject"] = f"Voicemail from {who}, {duration(e.duration_ms)}"
    msg["From"] = sender
    msg["To"] = Address(display_name=owner, addr_spec=e.mail_to)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = msgid
    msg["X-CTI-Voicemail"] = f"{e.mailbox}/{e.message}"
    msg.set_content(
        "\n".join(
            [
                f"A new voicemail for {owner} ({e.mailbox}).",
                "",
                f"From:     {who}",
                f"Date:     {when:%Y-%m-%d}",
                f"Time:     {when:%H:%M:%S %Z}",
                f"Duration: {duration(e.duration_ms)} ({e.duration_ms} ms)",
                "",
                "The recording is attached (WAV, 16-bit mono).",
            ]
        )
        + "\n"
    )
    msg.add_attachment(
        wav, maintype="audio", subtype="wav", filename=f"voicemail-{e.mailbox}-{e.message}.wav"
    )
    return msg
