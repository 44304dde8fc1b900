"""crossRefIdentifiers: 4 octets, never 0, never one still in use, also after the counter wraps;
they are freed when a monitor stops or its association ends."""

from __future__ import annotations

import itertools

import pytest

from cti.csta.link import monitors as monitors_module
from cti.csta.link.monitors import Monitors
from tests.csta.conftest import Link
from tests.csta.test_link_session import _wait


def test_xref_skips_zero_and_ids_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitors_module, "_next_xref", itertools.count(1))
    monkeypatch.setattr(monitors_module, "_in_use", set())
    older = Monitors()
    first = older.start("330", None)
    assert first.xref == b"\x00\x00\x00\x01"
    monkeypatch.setattr(monitors_module, "_next_xref", itertools.count(2**32 - 1))
    newer = Monitors()
    assert newer.start("331", None).xref == b"\xff\xff\xff\xff"
    # wraps: 0 is skipped, 1 is still in use by the older association
    assert newer.start("331", None).xref == b"\x00\x00\x00\x02"
    older.stop(first.xref)
    monkeypatch.setattr(monitors_module, "_next_xref", itertools.count(2**32))
    assert newer.start("332", None).xref == b"\x00\x00\x00\x01"  # freed by the stop
    newer.clear()
    assert monitors_module._in_use == set()


async def test_monitors_end_with_their_association(link: Link) -> None:
    async with link.client() as app:
        xref = await app.monitor_start("330")
        assert xref in monitors_module._in_use
    await _wait(lambda: not link.server.sessions)
    assert xref not in monitors_module._in_use
