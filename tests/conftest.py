import os
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, settings

from tests.office import Office

settings.register_profile("dev", max_examples=100)
settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def office() -> Office:
    return Office()


@pytest.fixture(autouse=True)
def _isolated_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests that run ``main`` (the cti command line) configure structlog globally, and with
    ``cache_logger_on_first_use`` a module's logger keeps the processors and the stderr of that
    moment (pytest's capture, closed later) for good: later tests then lose their
    ``capture_logs`` and print to a closed file. No caching in tests, and the configuration
    is put back after each one."""
    saved = structlog.get_config()
    real_configure = structlog.configure

    def configure(**kwargs: Any) -> None:
        real_configure(**{**kwargs, "cache_logger_on_first_use": False})

    monkeypatch.setattr(structlog, "configure", configure)
    yield
    real_configure(**saved)
