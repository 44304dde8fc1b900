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


def test_a_plan_given_no_key_has_the_process_random_one_never_a_known_one() -> None:
    """A node not started by ``cti serve`` (built in a test, embedded) derives PINs with the
    process's random key: nobody can compute them from the site file (they change with a
    restart); an empty key is refused wherever it would come from."""
    import attrs
    import pytest
    from structlog.testing import capture_logs

    from cti.app.clock import ManualClock
    from cti.app.node import Node
    from cti.conferences import pins
    from cti.site import SiteError
    from cti.site.model import PROCESS_PIN_KEY, ConferencePlan
    from cti.store import MemoryStore

    plan = load_site().conferences
    assert plan is not None
    assert plan.pin_key is PROCESS_PIN_KEY and len(plan.pin_key) >= 32
    assert ConferencePlan(dial_in="391", channels=2).pin_key == PROCESS_PIN_KEY
    with pytest.raises(SiteError, match="must not be empty"):
        attrs.evolve(plan, pin_key=b"")
    with pytest.raises(ValueError, match="need a key"):
        pins.pin(b"", 1, 1, 1)
    with capture_logs() as logs:
        Node(load_site(), MemoryStore(), ManualClock())
    assert {
        "event": "node.conference_key_ephemeral",
        "node": "node1",
        "log_level": "warning",
    } in logs
