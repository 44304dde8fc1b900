import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, settings

from tests.hung import dump_tasks
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


@pytest.fixture(scope="session", autouse=True)
def _no_logging_configured_at_import() -> None:
    """No module may configure structlog when imported: the configuration is global, and a
    filtering one (bench/__main__.py's, imported for its table) hid the info logs that later
    tests assert, depending on which tests ran first in a worker. (A fixture, not a
    collection hook: under xdist a hook's error is an INTERNALERROR without its words.)"""
    if structlog.is_configured():
        pytest.fail("a module imported by the tests configured structlog at import", False)


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


@pytest.fixture(autouse=True)
def _umask_restored() -> Iterator[None]:
    """``cti.cli.main`` sets the process umask (at least 027, specs/security.md "Files"); a
    test calling it in-process must not change the modes of what later tests create."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A PostgreSQL connection string to a private schema (tests/postgres.py); fails, never
    skips, when the server is missing."""
    from tests.postgres import private_schema

    with private_schema() as dsn:
        yield dsn


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> None:
    """Shortly before pytest-timeout ends a hung test, print what its asyncio tasks await
    (tests/hung.py): the threads' stacks it prints show only a loop idle in select. Returns
    None so that pytest-timeout's own timer is set as well."""
    timeout = float(settings.timeout or 0)
    if timeout <= 0:
        return
    item.stash[_HUNG] = _Hung(item, max(timeout - 10, timeout * 0.9))


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> None:
    hung = item.stash.get(_HUNG, None)
    if hung is not None:
        hung.cancel()


class _Hung:
    """A timer that, unless the test ends first, starts tests/reaper.py (it kills the test's
    child processes once pytest-timeout has ended the run with ``os._exit``) and prints the
    asyncio tasks."""

    def __init__(self, item: pytest.Item, delay: float) -> None:
        self._lock = threading.Lock()  # a test ending as the timer fires leaves no reaper
        self._cancelled = False
        self._reaper: subprocess.Popen[bytes] | None = None
        self._timer = threading.Timer(delay, self._fire, args=(item,))
        self._timer.daemon = True
        self._timer.start()

    def _fire(self, item: pytest.Item) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._reaper = subprocess.Popen(
                [sys.executable, "-I", "-S", str(_REAPER), str(os.getpid())],
                stdin=subprocess.DEVNULL,
            )
        _dump_hung(item)

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._cancelled = True
            reaper, self._reaper = self._reaper, None
        if reaper is not None:
            reaper.kill()
            reaper.wait()


_HUNG = pytest.StashKey[_Hung]()
_REAPER = Path(__file__).with_name("reaper.py")


def _dump_hung(item: pytest.Item) -> None:
    out = sys.__stderr__ or sys.stderr
    print(f"\n++++ {item.nodeid} is about to time out: its asyncio tasks ++++", file=out)
    dump_tasks(out)
