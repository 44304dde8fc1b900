"""VM-07: each new message is mailed with its WAV attached, date, time, duration, sender number
and name; through a real SMTP server in-process (aiosmtpd), parsed with ``email``. A server
that is down is tried again until it is back; a message is mailed once; short messages and
mailboxes without an address are not mailed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import attrs
import pytest
from structlog.testing import capture_logs

from cti.accounts.commands import SeedAccounts, SetProfileChecked
from cti.api.execute import execute
from cti.api.requests import parse_action
from cti.api.voicemail import AUDIO
from cti.app.clock import Clock, ManualClock
from cti.app.config import load_site
from cti.app.config.smtp import SmtpSettings
from cti.app.engine import Engine
from cti.app.feed import LogReader
from cti.app.node import Node, Outcome, Refused
from cti.calls.errors import CstaError
from cti.kernel.messages import Command
from cti.store import SqliteStore
from cti.voicemail import mail_outbox
from cti.voicemail.audio_db import AudioStore
from cti.voicemail.commands import MarkMailFailed
from cti.voicemail.mail_outbox import MailOutbox
from tests.presence.helpers import seeds
from tests.voicemail.helpers import tone
from tests.voicemail.smtp import SmtpServer, free_port, until


@attrs.define
class Rig:
    node: Node
    engine: Engine
    audio: AudioStore
    store: SqliteStore
    data: Path

    async def mail_to_clara(self) -> ManualClock:
        """332 (Clara) gets her voicemail by e-mail; the node's clock, to move by hand."""
        await self.engine.execute(
            SetProfileChecked(name="332", email="clara@example.com", voicemail_to_email=True)
        )
        assert isinstance(self.node.clock, ManualClock)
        return self.node.clock

    async def ok(self, service: str, **fields: object) -> dict[str, object]:
        reply = await execute(self.engine, parse_action(service, fields), None)
        assert reply["ok"], reply
        result: dict[str, object] = reply["result"]
        return result

    async def message(self, caller: str, user: str, seconds: float) -> bytes:
        call = (await self.ok("makeCall", calling=caller, called=user))["call"]
        await self.ok("deflectCall", call=call, device=user, to="351")
        wav = tone(seconds)
        audio = base64.b64encode(wav).decode()
        await self.ok("leaveVoicemailMessage", call=call, device=caller, audio=audio)
        await self.ok("clearCall", call=call)
        return wav

    def outbox(self, port: int, clock: Clock | None = None, **more: float) -> MailOutbox:
        settings = SmtpSettings(
            host="127.0.0.1", port=port, sender="Voicemail <vm@example.com>", **more
        )
        reader = LogReader(self.node.feed, self.store.sibling(readonly=True))
        return MailOutbox(
            self.engine,
            reader,
            self.audio,
            settings,
            self.data / "mail.db",
            self.store.epoch,
            first_pause=0.05,
            clock=clock,
        )


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    store = SqliteStore(tmp_path / "node1.db")
    node = Node(load_site(), store, ManualClock())
    audio = AudioStore(tmp_path / "audio")
    node.read_models[AUDIO] = audio
    engine = Engine(node)
    await engine.start()
    ready = tuple(attrs.evolve(s, must_change=False) for s in seeds())
    await engine.execute(SeedAccounts(accounts=ready))
    await engine.execute(
        SetProfileChecked(name="331", email="Bernd@Example.com", voicemail_to_email=True)
    )
    try:
        yield Rig(node, engine, audio, store, tmp_path)
    finally:
        await engine.stop()
        store.close()


def rescheduled(outbox: MailOutbox, clock: ManualClock, attempts: int) -> bool:
    """The one waiting message was refused ``attempts`` times and has its next try set (the
    server's count is no sign: it counts before the outbox has handled the refusal)."""
    waiting = list(outbox.waiting.values())
    return [w.attempts for w in waiting] == [attempts] and waiting[0].due_ms > clock.now_ms()


def kinds(rig: Rig) -> list[str]:
    """The kinds of the events committed and applied (the state shows them)."""
    return [r.kind for r in rig.store.iter_from(1) if r.seq <= rig.node.state.seq]


async def test_vm_07_a_new_message_is_mailed_with_its_wav(rig: Rig) -> None:
    server = SmtpServer()
    server.start()
    outbox = rig.outbox(server.port)
    await outbox.start()
    try:
        wav = await rig.message("330", "331", 3.0)
        await until(lambda: "messageMailed" in kinds(rig), "the message is mailed")
    finally:
        await outbox.stop()
        server.stop()
    [mail] = server.inbox.messages
    assert server.inbox.envelopes == [("vm@example.com", ["Bernd@example.com"])]
    assert mail["To"] == "Bernd Vogel <Bernd@example.com>"
    assert mail["Subject"] == "Voicemail from Anna Berger (330), 0:03"
    assert mail["Date"] == "Thu, 01 Jan 2026 00:00:00 +0000"
    epoch = "".join(ch for ch in rig.store.epoch if ch.isalnum())[:32]
    assert mail["Message-ID"] == f"<vm.{epoch}.331.1@node1.cti>"
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    for line in ("From:     Anna Berger (330)", "Date:     2026-01-01", "Time:     00:00:00 UTC"):
        assert line in text
    assert "Duration: 0:03 (3000 ms)" in text
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "audio/wav"
    assert attachment.get_filename() == "voicemail-331-1.wav"
    assert attachment.get_content() == wav  # exactly the stored bytes
    assert hashlib.sha256(attachment.get_content()).hexdigest() == hashlib.sha256(wav).hexdigest()
    box = rig.node.state.voicemail.of("331")
    assert box.messages[1].mailed


async def test_vm_07_a_server_down_is_tried_again_until_it_is_back(rig: Rig) -> None:
    port = free_port()
    outbox = rig.outbox(port)
    await outbox.start()
    server = SmtpServer(port)
    try:
        await rig.message("330", "331", 3.0)
        await rig.message("332", "331", 4.0)
        await until(lambda: outbox.failures >= 2, "two attempts failed")
        assert "messageMailed" not in kinds(rig)
        assert outbox.health.last_error == "ConnectionRefusedError"
        server.start()
        await until(lambda: kinds(rig).count("messageMailed") == 2, "both are mailed")
    finally:
        await outbox.stop()
        server.stop()
    subjects = [m["Subject"] for m in server.inbox.messages]
    assert subjects == [
        "Voicemail from Anna Berger (330), 0:03",
        "Voicemail from Clara Wolf (332), 0:04",
    ]


async def test_vm_07_restarted_it_sends_nothing_twice_and_resumes_after_its_position(
    rig: Rig,
) -> None:
    server = SmtpServer()
    server.start()
    try:
        outbox = rig.outbox(server.port)
        await outbox.start()
        await rig.message("330", "331", 3.0)
        await until(lambda: "messageMailed" in kinds(rig), "the first is mailed")
        await outbox.stop()
        await rig.message("332", "331", 3.0)
        again = rig.outbox(server.port)
        await again.start()
        await until(lambda: kinds(rig).count("messageMailed") == 2, "the second is mailed")
        await again.stop()
    finally:
        server.stop()
    assert [m["X-CTI-Voicemail"] for m in server.inbox.messages] == ["331/1", "331/2"]


async def test_vm_07_short_messages_and_mailboxes_without_mail_are_not_mailed(rig: Rig) -> None:
    server = SmtpServer()
    server.start()
    outbox = rig.outbox(server.port)
    await outbox.start()
    try:
        await rig.message("330", "331", 1.5)  # under 2 s: not mailed (UC-LESSONS)
        await rig.message("330", "332", 3.0)  # Clara has no address
        await rig.message("332", "331", 3.0)
        await until(lambda: "messageMailed" in kinds(rig), "the long one is mailed")
        await until(lambda: outbox.health.position == rig.node.state.seq, "all looked at")
    finally:
        await outbox.stop()
        server.stop()
    assert [m["X-CTI-Voicemail"] for m in server.inbox.messages] == ["331/2"]
    recorded = rig.node.state.voicemail.of("331").messages
    assert (recorded[1].mail_to, recorded[2].mail_to) == (None, "Bernd@example.com")


async def test_vm_07_an_address_refused_for_good_is_given_up_and_shown(rig: Rig) -> None:
    await rig.engine.execute(
        SetProfileChecked(name="332", email="nobody@example.com", voicemail_to_email=True)
    )
    server = SmtpServer()
    server.inbox.unknown.add("nobody@example.com")
    server.start()
    outbox = rig.outbox(server.port)
    await outbox.start()
    try:
        await rig.message("330", "332", 3.0)  # to the bad address: refused with 550
        await rig.message("330", "331", 3.0)  # not held up behind it
        await until(lambda: "messageMailed" in kinds(rig), "the good one is mailed")
    finally:
        await outbox.stop()
        server.stop()
    assert "messageMailFailed" in kinds(rig)
    assert [m["X-CTI-Voicemail"] for m in server.inbox.messages] == ["331/1"]
    assert rig.node.state.voicemail.of("332").messages[1].mail_to is None  # given up
    failed = [r for r in rig.store.iter_from(1) if r.kind == "messageMailFailed"]
    assert len(failed) == 1 and "550" in str(failed[0].data)


async def test_vm_07_a_recipient_refused_for_now_waits_on_its_own_and_holds_up_no_one(
    rig: Rig,
) -> None:
    """A 452 at RCPT for one recipient: the later e-mail to another goes at once; the refused
    one is tried again on its own schedule (the injected clock) and goes once it is taken."""
    clock = await rig.mail_to_clara()
    server = SmtpServer()
    server.inbox.busy.add("clara@example.com")
    server.start()
    outbox = rig.outbox(server.port, clock, retry_max=600.0)
    await outbox.start()
    try:
        await rig.message("330", "332", 3.0)  # to Clara: 452, for now
        await rig.message("330", "331", 3.0)  # to Bernd: not held up behind it
        await until(lambda: "messageMailed" in kinds(rig), "Bernd's is mailed")
        assert [m["X-CTI-Voicemail"] for m in server.inbox.messages] == ["331/1"]
        assert server.inbox.deferred == ["clara@example.com"]
        [clara] = list(outbox.waiting)  # the seq of its messageRecorded
        assert outbox.position.get() == clara - 1  # a restart looks at it again
        clock.advance(0.03)  # before its first pause (0.05 s, -20 % at most) is over: no try
        await until(lambda: outbox.health.position == rig.node.state.seq, "all looked at")
        assert server.inbox.deferred == ["clara@example.com"]
        clock.advance(0.1)  # due: tried again, refused again; its pause doubles
        await until(lambda: rescheduled(outbox, clock, 2), "Clara's tried again")
        assert len(server.inbox.deferred) == 2
        server.inbox.busy.clear()
        clock.advance(0.2)
        await until(lambda: kinds(rig).count("messageMailed") == 2, "Clara's is mailed")
        await until(lambda: outbox.waiting == {}, "none waits")
        await until(lambda: outbox.position.get() == rig.node.state.seq, "the position moves on")
    finally:
        await outbox.stop()
        server.stop()
    assert [m["X-CTI-Voicemail"] for m in server.inbox.messages] == ["331/1", "332/1"]
    epoch = "".join(ch for ch in rig.store.epoch if ch.isalnum())[:32]
    assert server.inbox.messages[1]["Message-ID"] == f"<vm.{epoch}.332.1@node1.cti>"
    assert "messageMailFailed" not in kinds(rig)
    assert rig.node.state.voicemail.of("332").messages[1].mailed


async def test_vm_07_a_recording_missing_on_disk_waits_on_its_own_and_holds_up_no_one(
    rig: Rig,
) -> None:
    """Clara's recording is gone from the disk (a standby without the files, a restored
    backup): her e-mail waits on its own schedule instead of stopping all mail (the follower
    used to fail and restart on it forever); Bernd's goes; Clara's goes once the file is back."""
    clock = await rig.mail_to_clara()
    wav = await rig.message("330", "332", 3.0)
    await rig.message("330", "331", 2.0)  # other bytes: recordings are stored by their hash
    path = rig.audio.path(hashlib.sha256(wav).hexdigest())
    path.unlink()
    server = SmtpServer()
    server.start()
    outbox = rig.outbox(server.port, clock, retry_max=600.0)
    await outbox.start()
    try:
        await until(lambda: "messageMailed" in kinds(rig), "Bernd's is mailed")
        await until(lambda: rescheduled(outbox, clock, 1), "Clara's waits on its own")
        assert [m["X-CTI-Voicemail"] for m in server.inbox.messages] == ["331/1"]
        assert outbox.health.failures == 1 and outbox.health.last_error == "AudioMissing"
        path.write_bytes(wav)  # the file is back
        clock.advance(1.0)
        await until(lambda: kinds(rig).count("messageMailed") == 2, "Clara's is mailed")
    finally:
        await outbox.stop()
        server.stop()
    assert [m["X-CTI-Voicemail"] for m in server.inbox.messages] == ["331/1", "332/1"]


async def test_vm_07_a_recipient_refused_for_now_is_given_up_at_max_age(rig: Rig) -> None:
    clock = await rig.mail_to_clara()
    server = SmtpServer()
    server.inbox.busy.add("clara@example.com")
    server.start()
    outbox = rig.outbox(server.port, clock, retry_max=60.0, max_age=600.0)
    await outbox.start()
    try:
        with capture_logs() as logs:
            await rig.message("330", "332", 3.0)
            await until(lambda: rescheduled(outbox, clock, 1), "Clara's refused")
            clock.advance(599)  # tried again up to its age, never given up before
            await until(lambda: rescheduled(outbox, clock, 2), "tried again")
            assert "messageMailFailed" not in kinds(rig)
            clock.advance(1)  # 600 s old: the last try, refused again, is the end
            await until(lambda: "messageMailFailed" in kinds(rig), "given up")
    finally:
        await outbox.stop()
        server.stop()
    assert server.inbox.messages == []
    assert outbox.waiting == {}
    assert rig.node.state.voicemail.of("332").messages[1].mail_to is None  # given up, shown
    [failed] = [r for r in rig.store.iter_from(1) if r.kind == "messageMailFailed"]
    assert "452" in str(failed.data)
    [expired] = [entry for entry in logs if entry["event"] == "voicemail.mail_expired"]
    assert (expired["mailbox"], expired["message"], expired["max_age"]) == ("332", 1, 600.0)
    assert expired["attempts"] == 3 and "452" in expired["error"]


async def test_vm_07_restarted_with_one_waiting_it_tries_that_one_and_sends_none_twice(
    rig: Rig,
) -> None:
    clock = await rig.mail_to_clara()
    server = SmtpServer()
    server.inbox.busy.add("clara@example.com")
    server.start()
    try:
        outbox = rig.outbox(server.port, clock)
        await outbox.start()
        await rig.message("330", "332", 3.0)
        await rig.message("330", "331", 3.0)
        await until(lambda: "messageMailed" in kinds(rig), "Bernd's is mailed")
        await outbox.stop()  # Clara's waits: the position stays before it
        server.inbox.busy.clear()
        again = rig.outbox(server.port, clock)
        await again.start()  # no clock moved: tried at once after a restart
        await until(lambda: kinds(rig).count("messageMailed") == 2, "Clara's is mailed")
        await again.stop()
    finally:
        server.stop()
    assert [m["X-CTI-Voicemail"] for m in server.inbox.messages] == ["331/1", "332/1"]


@attrs.define
class FailingStore:
    """The engine, but commands of the kinds in ``refuse`` are refused as when the node's
    store fails (resourceOutOfService), nothing recorded."""

    engine: Engine
    refuse: set[type[Command]]

    @property
    def node(self) -> Node:
        return self.engine.node

    async def execute(self, command: Command, principal: str | None = None) -> Outcome:
        if type(command) in self.refuse:
            return Refused(CstaError("resourceOutOfService", "the store failed"))
        return await self.engine.execute(command, principal)


async def test_vm_07_a_give_up_the_node_did_not_record_keeps_the_message_waiting(
    rig: Rig,
) -> None:
    """At max_age the outbox records messageMailFailed; if the node refuses it (its store
    failed), the message is neither mailed nor given up: it keeps waiting and the position
    stays before it (else no restart would look at it again), and it is given up once the
    node records again."""
    clock = await rig.mail_to_clara()
    server = SmtpServer()
    server.inbox.busy.add("clara@example.com")
    server.start()
    outbox = rig.outbox(server.port, clock, retry_max=60.0, max_age=600.0)
    failing = FailingStore(rig.engine, {MarkMailFailed})
    outbox.engine = failing
    await outbox.start()
    try:
        await rig.message("330", "332", 3.0)
        await until(lambda: rescheduled(outbox, clock, 1), "Clara's refused")
        [clara] = list(outbox.waiting)
        clock.advance(600)  # expired and refused again: given up, but not recorded
        await until(lambda: rescheduled(outbox, clock, 2), "still waiting, its next try set")
        await until(lambda: outbox.health.position == rig.node.state.seq, "all looked at")
        assert "messageMailFailed" not in kinds(rig)
        assert outbox.position.get() == clara - 1  # a restart looks at it again
        failing.refuse.clear()  # the node records again
        clock.advance(60)
        await until(lambda: "messageMailFailed" in kinds(rig), "given up, recorded")
        await until(lambda: outbox.waiting == {}, "none waits")
        await until(lambda: outbox.position.get() == rig.node.state.seq, "the position moves on")
    finally:
        await outbox.stop()
        server.stop()
    assert server.inbox.messages == []
    assert rig.node.state.voicemail.of("332").messages[1].mail_to is None


async def test_vm_07_an_e_mail_sent_while_the_outbox_stops_is_marked_and_not_sent_again(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The send runs in a worker thread, which a stop (or the failure of the outbox's other
    task) cannot stop: the server accepts the e-mail anyway. The outbox waits for it and
    marks it, so the next start does not send it again."""
    server = SmtpServer()
    server.start()
    entered, release = threading.Event(), threading.Event()
    send = mail_outbox.send

    def slow_send(settings: SmtpSettings, message: EmailMessage) -> None:
        entered.set()
        release.wait(10)
        send(settings, message)

    monkeypatch.setattr(mail_outbox, "send", slow_send)
    outbox = rig.outbox(server.port)
    await outbox.start()
    try:
        await rig.message("330", "331", 3.0)
        await until(entered.is_set, "the send started")
        task = outbox._task
        assert task is not None
        stopping = asyncio.create_task(outbox.stop())
        await until(lambda: task.cancelling() > 0, "the outbox is cancelled")
        release.set()  # the server takes the e-mail after the cancellation
        await stopping
        assert len(server.inbox.messages) == 1
        assert "messageMailed" in kinds(rig)
        monkeypatch.undo()
        again = rig.outbox(server.port)
        await again.start()
        await until(lambda: again.health.position == rig.node.state.seq, "all looked at")
        await again.stop()
    finally:
        release.set()
        server.stop()
    assert len(server.inbox.messages) == 1


async def test_vm_07_a_failing_retry_task_takes_the_outbox_down_and_it_restarts(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task that retries waiting messages runs in a TaskGroup with the one that reads
    the log: if it fails, both stop, the supervisor logs the failure by its own name (on
    /healthz too) and starts the outbox again, which then mails as before."""
    server = SmtpServer()
    server.start()
    outbox = rig.outbox(server.port)
    retry = outbox._retry
    calls = [0]

    async def failing_once() -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("the retry task failed")
        await retry()

    monkeypatch.setattr(outbox, "_retry", failing_once)
    with capture_logs() as logs:
        await outbox.start()
        try:
            await until(lambda: calls[0] == 2 and outbox.health.up, "started again")
            await rig.message("330", "331", 3.0)
            await until(lambda: "messageMailed" in kinds(rig), "mailed after the restart")
        finally:
            await outbox.stop()
            server.stop()
    assert (outbox.health.failures, outbox.health.last_error) == (1, "RuntimeError")
    [failed] = [entry for entry in logs if entry["event"] == "follower.failed"]
    assert failed["follower"] == "voicemail-mail"
