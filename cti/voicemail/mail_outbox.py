"""Voicemail to e-mail (VM-07): an outbox that follows the log and mails each new message.

Position: a low-water mark in its own SQLite file (``<data>/<node>.voicemail-mail.db``, with
the log's epoch: another log starts it afresh): every message at or before it was mailed,
given up or needs no mail. For each ``messageRecorded`` with a ``mailTo`` it builds the e-mail
(cti.voicemail.mail), sends it with smtplib in a worker thread, and once the server has
accepted it (250 after DATA) records ``messageMailed`` in the log (the sent marker). A message
already marked, or deleted meanwhile, is skipped.

Two kinds of failure, because they call for different waits:

- the **server** fails (down, TLS, sign-in, the sender refused): no e-mail could go, so the
  follower waits and tries the same one again, the pause doubling from ``first_pause`` to the
  site's ``retry_max``; later messages wait behind it, in order.
- the server refuses **this e-mail** (its recipient or its data, e.g. ``452`` at RCPT): the
  message gets its own back-off schedule (on the injected clock) and later messages go on. A
  4xx keeps it queued until it is ``max_age`` old (from when it was recorded, like an MTA's
  queue lifetime); a 5xx three times in a row (a bad address) gives up at once. Giving up
  records ``messageMailFailed`` for its owner to see and logs one line
  (``voicemail.mail_expired`` / ``voicemail.mail_refused``: mailbox, message, the server's
  reply; never the password).

Each failure is logged (``voicemail.mail_failed``) and shown on /healthz.

Guarantee: **at least once** per message (one deleted before its turn is not sent). A
duplicate is possible only when the node dies after the server accepted an e-mail and before
``messageMailed`` is committed; the copy then carries the same Message-ID, so the recipient's
mail system can tell. Nothing is lost: the position never passes a message that was not
accepted or given up; after a restart the messages from the position on are looked at again
(those marked meanwhile are skipped) and the waiting ones are tried at once.
"""

from __future__ import annotations

import asyncio
import random
import smtplib
import ssl
from email.message import EmailMessage
from enum import Enum
from pathlib import Path
from typing import Any

import attrs
import structlog

from cti.app.clock import Clock, SystemClock
from cti.app.config.smtp import SmtpSettings
from cti.app.engine import Executor
from cti.app.feed import LogReader
from cti.app.follower import FollowerHealth, supervised
from cti.app.node import Refused
from cti.app.read_model_db import open_wal
from cti.voicemail import mail
from cti.voicemail.audio_db import AudioMissing, AudioStore
from cti.voicemail.commands import MarkMailFailed, MarkMessageMailed
from cti.voicemail.events import MessageRecorded

log = structlog.get_logger(__name__)


GIVE_UP = 3  # permanent refusals (5xx) of one e-mail in a row before it is given up


class Failure(Enum):
    SERVER = "server"  # nothing could be sent now: wait, keep the order
    MESSAGE = "message"  # this e-mail was refused for now (4xx): its own schedule
    PERMANENT = "permanent"  # this e-mail was refused for good (5xx)


def permanent(exc: BaseException) -> bool:
    """A 5xx reply: the server will not take this e-mail however often it is sent (a bad
    address). Anything else (down, 4xx, TLS) may pass later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return (
        isinstance(code, int) and code >= 500 and not isinstance(exc, smtplib.SMTPNotSupportedError)
    )


def classify(exc: BaseException) -> Failure:
    """Whose failure: the refusal of one e-mail's recipient or data is that e-mail's; anything
    else (connection, TLS, greeting, sign-in, the sender, which is the same for every e-mail)
    is the server's."""
    if permanent(exc):
        return Failure.PERMANENT
    # A recording missing or damaged on disk is this message's (a standby machine without
    # the files, a restored backup): it must not hold up everyone else's mail.
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError | AudioMissing):
        return Failure.MESSAGE
    return Failure.SERVER


class MailPosition:
    """The outbox's position in its own file, with the epoch of the log it follows."""

    def __init__(self, path: Path, epoch: str) -> None:
        self.conn = open_wal(path, synchronous="FULL")
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


@attrs.define
class Waiting:
    """A message the server refused for now, with its own schedule."""

    seq: int
    event: MessageRecorded
    due_ms: int
    pause: float  # seconds: the next pause after this attempt
    refused: int = 0  # permanent refusals (5xx) in a row
    attempts: int = 1


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
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.reader = reader
        self.audio = audio
        self.settings = settings
        self.epoch = epoch
        self.position = MailPosition(path, epoch)
        self.first_pause = first_pause
        self.clock: Clock = clock or SystemClock()
        self.health = FollowerHealth()
        self.sent = 0  # e-mails the server accepted since start
        self.failures = 0  # failed attempts since start
        self.waiting: dict[int, Waiting] = {}  # by seq: messages on their own schedule
        self._read = 0  # the last seq the follower has handled
        self._wake = asyncio.Event()  # a message started waiting (maybe sooner than the rest)
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
        self.waiting.clear()  # the position is before them all: they are read again
        self._read = position
        self.health.position = position
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._retry())
                async for batch in self.reader.batches(position + 1):
                    for item in batch:
                        event = item.event
                        if isinstance(event, MessageRecorded) and event.mail_to is not None:
                            await self._first(item.seq, event)
                        self._read = item.seq
                    self._save()
                    self.health.position = batch[-1].seq
        except ExceptionGroup as failed:
            # One of the two failed (the other was cancelled): its own error, so that the
            # supervisor's log and /healthz name it, not "ExceptionGroup".
            raise failed.exceptions[0] from None

    def _save(self) -> None:
        """The low-water mark: before the first message still waiting, else what was read."""
        mark = min(self.waiting, default=self._read + 1) - 1
        self.position.save(min(mark, self._read))

    def _pending(self, e: MessageRecorded) -> bool:
        msg = self.engine.node.state.voicemail.of(e.mailbox).messages.get(e.message)
        return msg is not None and not msg.mailed and msg.mail_to is not None and msg.call == e.call

    async def _first(self, seq: int, e: MessageRecorded) -> None:
        """A message in log order: sent, or on its own schedule, or (the server failing)
        tried again after a pause while the later ones wait."""
        pause = self.first_pause
        while True:
            failed = await self._attempt(e, pause)
            if failed is None:
                return
            failure, error = failed
            if failure is Failure.SERVER:
                await self.clock.sleep_until(self._due(pause))
                pause = min(pause * 2, self.settings.retry_max)
                continue
            waiting = Waiting(seq, e, due_ms=0, pause=pause)
            if failure is Failure.PERMANENT:
                waiting.refused = 1
            await self._reschedule(waiting, failure, error)
            return

    async def _retry(self) -> None:
        """Messages on their own schedule, each tried again when it is due."""
        while True:
            self._wake.clear()
            due = [w for w in self.waiting.values() if w.due_ms <= self.clock.now_ms()]
            for waiting in sorted(due, key=lambda w: w.seq):
                waiting.attempts += 1
                failed = await self._attempt(waiting.event, waiting.pause)
                if failed is None:
                    self.waiting.pop(waiting.seq, None)
                    self._save()
                else:
                    failure, error = failed
                    waiting.refused = waiting.refused + 1 if failure is Failure.PERMANENT else 0
                    await self._reschedule(waiting, failure, error)
            if due:
                continue
            soonest = min((w.due_ms for w in self.waiting.values()), default=None)
            await self._sleep(soonest)

    async def _sleep(self, due_ms: int | None) -> None:
        """Until ``due_ms`` on the clock (never, for None) or until a message starts waiting."""
        waits: list[asyncio.Task[Any]] = [asyncio.ensure_future(self._wake.wait())]
        if due_ms is not None:
            waits.append(asyncio.ensure_future(self.clock.sleep_until(due_ms)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def _reschedule(self, waiting: Waiting, failure: Failure, error: str) -> None:
        """After a failed attempt of a waiting message: give it up, or its next try."""
        e = waiting.event
        expires = e.received_at + round(self.settings.max_age * 1000)
        last = failure is not Failure.SERVER  # its last try is when it expires: at max_age
        if waiting.refused >= GIVE_UP or (
            failure is not Failure.SERVER and self.clock.now_ms() >= expires
        ):
            if waiting.refused >= GIVE_UP:
                log.error("voicemail.mail_refused", mailbox=e.mailbox, message=e.message,
                          error=error, attempts=waiting.attempts)  # fmt: skip
            else:
                log.error("voicemail.mail_expired", mailbox=e.mailbox, message=e.message,
                          error=error, attempts=waiting.attempts,
                          max_age=self.settings.max_age)  # fmt: skip
            outcome = await self.engine.execute(
                MarkMailFailed(user=e.mailbox, message=e.message, error=error)
            )
            if outcome.ok or not self._pending(e):
                self.waiting.pop(waiting.seq, None)
                self._save()
                return
            # Not recorded (the node's store failed): the position must not pass it, or it
            # is neither mailed nor given up, and no restart looks at it again. It waits its
            # pause (not capped by its age: that is past) and its next try ends the same way
            # once the node records again.
            reason = outcome.error.message if isinstance(outcome, Refused) else ""
            log.error("voicemail.mail_failed_not_recorded", mailbox=e.mailbox,
                      message=e.message, reason=reason)  # fmt: skip
            last = False
        waiting.due_ms = self._due(waiting.pause)
        if last:
            waiting.due_ms = min(waiting.due_ms, expires)
        waiting.pause = min(waiting.pause * 2, self.settings.retry_max)
        self.waiting[waiting.seq] = waiting
        self._wake.set()

    def _due(self, pause: float) -> int:
        return self.clock.now_ms() + round(pause * random.uniform(0.8, 1.2) * 1000)

    async def _attempt(self, e: MessageRecorded, pause: float) -> tuple[Failure, str] | None:
        """One try of one e-mail: None when it was sent (and marked) or is no longer due,
        else whose failure it was and the error (for the log and a give-up record)."""
        if not self._pending(e):
            return None
        node = self.engine.node
        msgid = mail.message_id(node.site.node, self.epoch, e.mailbox, e.message)
        stopping = False  # cancelled while the e-mail was being sent
        try:
            try:
                wav = await asyncio.to_thread(self.audio.get, e.sha256)
            except AudioMissing:
                if not self._pending(e):  # deleted meanwhile, and its file swept
                    return None
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
            work = asyncio.ensure_future(asyncio.to_thread(send, self.settings, message))
            stopping = await _through(work)
            work.result()
        except (OSError, smtplib.SMTPException, ssl.SSLError, AudioMissing) as exc:
            if stopping:
                raise asyncio.CancelledError from None
            failure = classify(exc)
            error = f"{type(exc).__name__}: {exc}"
            self.failures += 1
            self.health.failures += 1
            self.health.last_error = type(exc).__name__
            log.warning(
                "voicemail.mail_failed",
                mailbox=e.mailbox,
                message=e.message,
                error=error,
                failure=failure.value,
                retry_in=round(pause, 2),
            )
            return failure, error
        self.sent += 1
        log.info("voicemail.mailed", mailbox=e.mailbox, message=e.message, message_id=msgid)
        command = MarkMessageMailed(user=e.mailbox, message=e.message, message_id=msgid)
        outcome = await self.engine.execute(command)
        if not outcome.ok:  # the node failed: the e-mail went, unmarked (a duplicate later)
            log.error("voicemail.mail_not_marked", mailbox=e.mailbox, message=e.message)
        if stopping:
            raise asyncio.CancelledError
        return None


async def _through(work: asyncio.Future[None]) -> bool:
    """Wait for ``work`` (a send in a worker thread, which cannot be stopped) however often
    the waiter is cancelled meanwhile (the node stopping, the other task of the outbox
    failing); whether it was. An e-mail the server accepted is then still marked before the
    cancellation goes on: else the next start would send it again (specs/voicemail.md allows
    a duplicate only when the node dies in that window)."""
    cancelled = False
    while not work.done():
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            cancelled = True
        except Exception:  # the send's own failure: work.result() raises it
            pass
    return cancelled
