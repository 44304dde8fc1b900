"""Voicemail to e-mail (VM-07): an outbox that follows the log and mails each new message.

Position: the last seq it has handled, in its own SQLite file
(``<data>/<node>.voicemail-mail.db``, with the log's epoch: another log starts it afresh).
For each ``messageRecorded`` with a ``mailTo`` it builds the e-mail (cti.voicemail.mail), sends
it with smtplib in a worker thread, and once the server has accepted it (250 after DATA)
records ``messageMailed`` in the log (the sent marker) and then its position. A message already
marked, or deleted meanwhile, is skipped. A server that is down or refuses is tried again and
again, the pause doubling from ``first_pause`` to the site's ``retry_max``, each failure logged
(``voicemail.mail_failed``, no password) and shown on /healthz; later messages wait behind it,
in order. An e-mail the server refuses for good (a 5xx reply three times in a row: a bad
address) is given up and recorded as ``messageMailFailed`` for its owner to see, so one bad
address cannot hold up everyone's mail.

Guarantee: **at least once** per message (one deleted before its turn is not sent). A
duplicate is possible only when the node dies after the server accepted an e-mail and before
``messageMailed`` is committed; the copy then carries the same Message-ID, so the recipient's
mail system can tell. Nothing is lost: the position never passes a message that was not
accepted.
"""

from __future__ import annotations

import asyncio
import random
import smtplib
import sqlite3
import ssl
from email.message import EmailMessage
from pathlib import Path

import structlog

from cti.app.config.smtp import SmtpSettings
from cti.app.engine import Executor
from cti.app.feed import LogReader
from cti.app.follower import FollowerHealth, supervised
from cti.voicemail import mail
from cti.voicemail.audio_db import AudioMissing, AudioStore
from cti.voicemail.commands import MarkMailFailed, MarkMessageMailed
from cti.voicemail.events import MessageRecorded

log = structlog.get_logger(__name__)


GIVE_UP = 3  # permanent refusals (5xx) of one e-mail in a row before it is given up


def permanent(exc: BaseException) -> bool:
    """A 5xx reply: the server will not take this e-mail however often it is sent (a bad
    address). Anything else (down, 4xx, TLS) may pass later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return (
        isinstance(code, int) and code >= 500 and not isinstance(exc, smtplib.SMTPNotSupportedError)
    )


class MailPosition:
    """The outbox's position in its own file, with the epoch of the log it follows."""

    def __init__(self, path: Path, epoch: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self.conn.execute("SELECT value FROM meta WHERE key='epoch'").fetchone()
        if row is None or row[0] != epoch:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('epoch', ?)", (epoch,))
            self.save(0)

    def get(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key='position'").fetchone()
        return int(row[0]) if row else 0

    def save(self, seq: int) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('position', ?)", (str(seq),))

    def close(self) -> None:
        self.conn.close()


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """One e-mail over one SMTP session (blocking: runs in a worker thread)."""
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.user is not None and settings.password is not None:
            smtp.login(settings.user, settings.password)
        smtp.send_message(message)


class MailOutbox:
    """The follower as a face of ``cti serve`` (start, stop, health)."""

    name = "voicemail-mail"

    def __init__(
        self,
        engine: Executor,
        reader: LogReader,
        audio: AudioStore,
        settings: SmtpSettings,
        path: Path,
        epoch: str,
        *,
        first_pause: float = 1.0,
    ) -> None:
        self.engine = engine
        self.reader = reader
        self.audio = audio
        self.settings = settings
        self.epoch = epoch
        self.position = MailPosition(path, epoch)
        self.first_pause = first_pause
        self.health = FollowerHealth()
        self.sent = 0  # e-mails the server accepted since start
        self.failures = 0  # failed attempts since start
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(
            supervised(self.name, self.run, health=self.health), name=self.name
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.position.close()

    async def run(self) -> None:
        position = self.position.get()
        if position > self.reader.feed.last_seq:  # the log was restored from an older backup
            position = 0
        self.health.position = position
        async for batch in self.reader.batches(position + 1):
            for item in batch:
                if isinstance(item.event, MessageRecorded) and item.event.mail_to is not None:
                    await self._deliver(item.event)
                    self.position.save(item.seq)
            self.position.save(batch[-1].seq)
            self.health.position = batch[-1].seq

    def _pending(self, e: MessageRecorded) -> bool:
        msg = self.engine.node.state.voicemail.of(e.mailbox).messages.get(e.message)
        return msg is not None and not msg.mailed and msg.mail_to is not None and msg.call == e.call

    async def _deliver(self, e: MessageRecorded) -> None:
        node = self.engine.node
        msgid = mail.message_id(node.site.node, self.epoch, e.mailbox, e.message)
        pause = self.first_pause
        refused = 0  # permanent refusals (5xx) in a row
        while self._pending(e):
            try:
                try:
                    wav = await asyncio.to_thread(self.audio.get, e.sha256)
                except AudioMissing:
                    if not self._pending(e):  # deleted meanwhile, and its file swept
                        return
                    raise
                account = node.state.accounts.account(e.mailbox)
                owner = account.display_name if account is not None else e.mailbox
                message = mail.build(
                    e,
                    wav,
                    sender=self.settings.sender,
                    owner=owner,
                    msgid=msgid,
                    zone=node.site.location.zone,
                )
                await asyncio.to_thread(send, self.settings, message)
            except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
                refused = refused + 1 if permanent(exc) else 0
                if refused >= GIVE_UP:
                    error = f"{type(exc).__name__}: {exc}"
                    log.error("voicemail.mail_refused", mailbox=e.mailbox, message=e.message,
                              error=error)  # fmt: skip
                    failed = MarkMailFailed(user=e.mailbox, message=e.message, error=error)
                    await self.engine.execute(failed)
                    return
                self.failures += 1
                self.health.failures += 1
                self.health.last_error = type(exc).__name__
                log.warning(
                    "voicemail.mail_failed",
                    mailbox=e.mailbox,
                    message=e.message,
                    error=f"{type(exc).__name__}: {exc}",
                    retry_in=round(pause, 2),
                )
                await asyncio.sleep(pause * random.uniform(0.8, 1.2))
                pause = min(pause * 2, self.settings.retry_max)
                continue
            self.sent += 1
            log.info("voicemail.mailed", mailbox=e.mailbox, message=e.message, message_id=msgid)
            command = MarkMessageMailed(user=e.mailbox, message=e.message, message_id=msgid)
            outcome = await self.engine.execute(command)
            if not outcome.ok:  # pragma: no cover - the command refuses nothing
                log.error("voicemail.mail_not_marked", mailbox=e.mailbox, message=e.message)
            return
