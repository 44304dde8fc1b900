"""Fixtures of the application-layer tests: the example site and a manual clock."""

from __future__ import annotations

import pytest

from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.site.model import Site


@pytest.fixture(scope="session")
def site() -> Site:
    """The example office (immutable, so one instance serves every test)."""
    return load_site()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
