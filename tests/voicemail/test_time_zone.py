"""Times in the mailbox owner's time zone (UC-LESSONS "Voicemail and e-mail"): the site's
``[location] time_zone`` (IANA, zoneinfo; UTC when absent) for the greeting's return time
(VM-08) and the e-mail's date and time (VM-07), in winter, summer and across both DST changes;
a zone the system does not know is a clear startup error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest

from cti.accounts.commands import SeedAccounts, SetProfileChecked
from cti.api.voicemail import AUDIO
from cti.app.bootstrap import ServeOptions, StartupError, start
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.config.site_file import site_from_dict
from cti.app.engine import Engine
from cti.app.node import Node
from cti.calls import commands as c
from cti.presence.commands import SetPresence
from cti.presence.model import Status
from cti.site import Site, SiteError
from cti.store import SqliteStore
from cti.voicemail import mail
from cti.voicemail.audio_db import AudioStore
from cti.voicemail.events import MessageRecorded
from tests.app.test_codec_and_site import site_dict
from tests.office import Office
from tests.presence.helpers import seeds
from tests.security.conftest import EXAMPLE
from tests.voicemail.helpers import Voicemail, tone
from tests.voicemail.smtp import SmtpServer, until
from tests.voicemail.test_mail import Rig, kinds

BERLIN = "Europe/Berlin"
BER = BERLIN


def ms(text: str) -> int:
    """Milliseconds of an ISO time in UTC."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1000)


def site_in(zone: str | None) -> Site:
    site = load_site()
    if zone is None:
        return site
    return attrs.evolve(site, location=attrs.evolve(site.location, time_zone=zone))


def voicemail_in(tmp_path: Path, zone: str | None) -> Voicemail:
    office = Office(site_in(zone))
    ready = tuple(
        attrs.evolve(s, password="argon2-hash", broker_password="broker-hash", must_change=False)
        for s in seeds()
    )
    office.do(SeedAccounts(accounts=ready))
    return Voicemail(tmp_path, office)


def spoken_return(vm: Voicemail, return_at: int) -> str:
    """The greeting an internal caller hears while 331 is on vacation until ``return_at``."""
    vm.office.do(SetPresence(user="331", status=Status.VACATION, return_at=return_at))
    seq = vm.node.state.seq
    call = vm.office.call_of(c.MakeCall(calling="330", called="331"))  # status-forwarded
    [line] = [e for e in vm.events_since(seq) if e.startswith("greetingPlayed")]
    vm.office.do(c.ClearCall(call=call))
    return line.split(" is on vacation until ")[1].split(". Please")[0]


@pytest.mark.parametrize(
    ("zone", "utc", "spoken"),
    [
        (None, "2026-01-01T12:00", "Thursday 01 January 2026, 12:00 UTC"),  # no zone: UTC
        (BERLIN, "2026-01-01T12:00", "Thursday 01 January 2026, 13:00 CET"),
        (BERLIN, "2026-01-01T23:30", "Friday 02 January 2026, 00:30 CET"),  # the next day there
        (BERLIN, "2026-07-01T10:00", "Wednesday 01 July 2026, 12:00 CEST"),
        # Spring forward, 29 March 2026 01:00 UTC: 02:00 CET becomes 03:00 CEST.
        (BERLIN, "2026-03-29T00:59", "Sunday 29 March 2026, 01:59 CET"),
        (BERLIN, "2026-03-29T01:00", "Sunday 29 March 2026, 03:00 CEST"),
        # Fall back, 25 October 2026 01:00 UTC: 02:30 comes twice, told apart by the zone.
        (BERLIN, "2026-10-25T00:30", "Sunday 25 October 2026, 02:30 CEST"),
        (BERLIN, "2026-10-25T01:30", "Sunday 25 October 2026, 02:30 CET"),
        ("America/New_York", "2026-01-01T12:00", "Thursday 01 January 2026, 07:00 EST"),
    ],
)
def test_vm_08_the_return_time_is_spoken_in_the_sites_time_zone(
    tmp_path: Path, zone: str | None, utc: str, spoken: str
) -> None:
    vm = voicemail_in(tmp_path, zone)
    assert spoken_return(vm, ms(utc)) == spoken


def recorded(received_at: int) -> MessageRecorded:
    return MessageRecorded(
        mailbox="331",
        message=1,
        call=1,
        caller="330",
        caller_name="Anna Berger",
        received_at=received_at,
        sha256="0" * 64,
        length=100,
        duration_ms=3000,
        mail_to="bernd@example.com",
    )


@pytest.mark.parametrize(
    ("zone", "utc", "header", "date", "time"),
    [
        (None, "2026-01-01T00:00", "Thu, 01 Jan 2026 00:00:00 +0000", "2026-01-01", "00:00:00 UTC"),
        (BER, "2026-01-01T00:00", "Thu, 01 Jan 2026 01:00:00 +0100", "2026-01-01", "01:00:00 CET"),
        (BER, "2025-12-31T23:30", "Thu, 01 Jan 2026 00:30:00 +0100", "2026-01-01", "00:30:00 CET"),
        (BER, "2026-07-01T10:00", "Wed, 01 Jul 2026 12:00:00 +0200", "2026-07-01", "12:00:00 CEST"),
        (BER, "2026-03-29T01:00", "Sun, 29 Mar 2026 03:00:00 +0200", "2026-03-29", "03:00:00 CEST"),
        (BER, "2026-10-25T00:30", "Sun, 25 Oct 2026 02:30:00 +0200", "2026-10-25", "02:30:00 CEST"),
        (BER, "2026-10-25T01:30", "Sun, 25 Oct 2026 02:30:00 +0100", "2026-10-25", "02:30:00 CET"),
    ],
)  # fmt: skip
def test_vm_07_the_e_mail_gives_date_and_time_in_the_sites_time_zone(
    zone: str | None, utc: str, header: str, date: str, time: str
) -> None:
    site = site_in(zone)
    e = recorded(ms(utc))
    message = mail.build(
        e, tone(0.1), sender="vm@example.com", owner="Bernd Vogel", msgid="<x@y>",
        zone=site.location.zone,
    )  # fmt: skip
    assert message["Date"] == header
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert f"Date:     {date}\n" in text and f"Time:     {time}\n" in text
    # The same instant whatever the zone: the header parses back to the received time.
    assert message["Date"].datetime.timestamp() * 1000 == e.received_at


def test_the_time_zone_comes_from_the_site_file_utc_when_absent() -> None:
    assert site_from_dict(site_dict()).location.time_zone == "UTC"
    raw = site_dict()
    raw["location"]["time_zone"] = BERLIN
    site = site_from_dict(raw)
    assert (site.location.time_zone, str(site.location.zone)) == (BERLIN, BERLIN)


@pytest.mark.parametrize("bad", ["Europe/Munich", "", "../../etc/passwd", "CET+1", 1])
def test_a_time_zone_the_system_does_not_know_is_refused(bad: object) -> None:
    raw = site_dict()
    raw["location"]["time_zone"] = bad
    with pytest.raises(SiteError) as err:
        site_from_dict(raw)
    assert str(err.value) == (
        f'[location]: time_zone {bad!r} is no time zone (an IANA name such as "Europe/Berlin")'
    )


async def test_a_bad_time_zone_is_a_startup_error_naming_it(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("[location]\n", '[location]\ntime_zone = "Mars/Olympus"\n')
    site = tmp_path / "office.toml"
    site.write_text(text)
    with pytest.raises(StartupError, match=r"time_zone 'Mars/Olympus' is no time zone"):
        await start(ServeOptions(site=site, data_dir=tmp_path / "data", csta_port=0))
    assert not (tmp_path / "data").exists()  # refused before anything was made


async def test_vm_07_the_outbox_mails_in_the_sites_time_zone(tmp_path: Path) -> None:
    """Through the outbox and a real SMTP server: the node's site in Berlin, a message
    received at 2026-01-01 00:00 UTC is dated 01:00 CET."""
    store = SqliteStore(tmp_path / "node1.db")
    node = Node(site_in(BERLIN), store, ManualClock())
    audio = node.read_models[AUDIO] = AudioStore(tmp_path / "audio")
    engine = Engine(node)
    await engine.start()
    try:
        ready = tuple(attrs.evolve(s, must_change=False) for s in seeds())
        await engine.execute(SeedAccounts(accounts=ready))
        await engine.execute(
            SetProfileChecked(name="331", email="bernd@example.com", voicemail_to_email=True)
        )
        rig = Rig(node, engine, audio, store, tmp_path)
        server = SmtpServer()
        server.start()
        outbox = rig.outbox(server.port)
        await outbox.start()
        try:
            await rig.message("330", "331", 3.0)
            await until(lambda: "messageMailed" in kinds(rig), "the message is mailed")
        finally:
            await outbox.stop()
            server.stop()
        [sent] = server.inbox.messages
        assert sent["Date"] == "Thu, 01 Jan 2026 01:00:00 +0100"
        body = sent.get_body(("plain",))
        assert body is not None and "Time:     01:00:00 CET\r\n" in body.get_content()
    finally:
        await engine.stop()
        store.close()
