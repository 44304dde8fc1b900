"""The example office with its people's accounts, for conference scenarios: 330 (Anna) and
332 (Clara) have the conference licence, 331 (Bernd) has not."""

from __future__ import annotations

import attrs

from cti.accounts.commands import SeedAccounts
from cti.app.config import load_site
from cti.conferences import pins
from cti.conferences.model import Conference
from cti.site import Site
from cti.site.model import Device, DeviceKind
from tests.office import Office
from tests.presence.helpers import seeds

KEY = b"test-conference-key"


def site(channels: int | None = None, phones: int = 0) -> Site:
    """The example office with the test key, ``channels`` and ``phones`` more phones (400...)."""
    s = load_site()
    if phones:
        extra = {f"4{i:02}": Device(f"4{i:02}", DeviceKind.SYSTEM_PHONE) for i in range(phones)}
        s = attrs.evolve(s, devices={**s.devices, **extra})
    assert s.conferences is not None
    plan = attrs.evolve(s.conferences, pin_key=KEY)
    if channels is not None:
        plan = attrs.evolve(plan, channels=channels)
    return attrs.evolve(s, conferences=plan)


def office(channels: int | None = None, phones: int = 0) -> Office:
    o = Office(site(channels, phones))
    o.do(SeedAccounts(accounts=seeds()))
    return o


def conference(o: Office, cid: int) -> Conference:
    conf = o.state.conferences.conference(cid)
    assert conf is not None
    return conf


def pin_of(o: Office, cid: int, pid: int) -> str:
    p = conference(o, cid).participant(pid)
    assert p is not None
    return pins.pin(KEY, cid, pid, p.pin_round)


def guest_pin(o: Office, cid: int) -> str:
    conf = conference(o, cid)
    assert conf.guest_round is not None
    return pins.pin(KEY, cid, pins.GUEST, conf.guest_round)
