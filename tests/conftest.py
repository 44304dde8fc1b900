import os
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, settings

from tests.office import Office

# Timing health checks and deadlines fail on a loaded machine, not on a slow strategy.
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def office() -> Office:
    return Office()


@pytest.fixture(autouse=True)
def _isolated_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command lines' ``main`` configure structlog globally, caching loggers on first use
    with the stderr of that moment (pytest's capture); keep that from leaking into later tests
    (a cached logger also escapes ``structlog.testing.capture_logs``)."""
    saved = structlog.get_config()
    real_configure = structlog.configure

    def configure(**kwargs: Any) -> None:
        real_configure(**{**kwargs, "cache_logger_on_first_use": False})

    monkeypatch.setattr(structlog, "configure", configure)
    yield
    real_configure(**saved)


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A PostgreSQL connection string to a private schema (tests/postgres.py); fails, never
    skips, when the server is missing."""
    from tests.postgres import private_schema

    with private_schema() as dsn:
        yield dsn
