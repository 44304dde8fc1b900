"""The conference key lives beside the log, never in it: made once, kept private, the same
at every start (else every PIN would change with a restart)."""

from __future__ import annotations

import stat
from pathlib import Path

from cti.app.config import load_site
from cti.app.keys import with_conference_key


def test_the_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    site = load_site()
    first = with_conference_key(site, tmp_path)
    again = with_conference_key(site, tmp_path)
    assert first.conferences is not None and again.conferences is not None
    assert len(first.conferences.pin_key) >= 32
    assert first.conferences.pin_key == again.conferences.pin_key
    path = tmp_path / "node1.conference-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "pin_key" not in repr(first.conferences)  # never in a log line


def test_a_site_without_conferences_needs_no_key(tmp_path: Path) -> None:
    import attrs

    site = attrs.evolve(load_site(), conferences=None)
    assert with_conference_key(site, tmp_path) is site
    assert not list(tmp_path.iterdir())
