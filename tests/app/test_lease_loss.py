"""An active node whose PostgreSQL goes out of reach (cti/app/standby.py, LeaseWatch;
specs/store.md "Hot standby", specs/operations.md "Hot standby"): /healthz shows the store
down while its lease is unknown, and the node exits 1 with one line in words once the lease
could not be confirmed for longer than a standby needs to take it over; a command that finds
the writer's connection lost ends the same way. The network between the node and the server
is a TCP proxy in a thread that the test cuts; time moves by the node's injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from cti.app.bootstrap import ServeOptions, start
from cti.app.clock import ManualClock
from cti.app.standby import CHECK_WAIT, LEASE_CHECK, LeaseWatch
from cti.mqtt.broker import free_port
from cti.store.postgres import LEASE_TIMEOUT, PostgresStore, where
from cti.tools.serve import serve
from tests.mqtt.conftest import TIMEOUT, CtiClient, Mosquitto, mosquitto, site_with_tester  # noqa: F401
from tests.ops.test_endpoint import get


class Proxy:
    """A TCP proxy to the PostgreSQL server of ``dsn``, in threads of its own (the node talks
    to its store synchronously, partly on the event loop). ``cut()`` is the network between
    them gone: every connection reset, new ones refused; ``frozen``, a partition: nothing
    arrives, nothing is refused (a query waits for TCP to give up, minutes)."""

    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        user = f"{parts.username}@" if parts.username else ""
        self.dsn = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False
        self.frozen = False  # data is dropped, connections stay open: packets lost
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed by cut()
                return
            with self._lock:
                if self._cut:
                    client.close()
                    return
                server = socket.create_connection(self._upstream)
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._copy, args=(a, b), daemon=True).start()

    def _copy(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if not self.frozen:
                    sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            self._listener.close()
            for s in self._sockets:
                with contextlib.suppress(OSError):
                    # RST, as a proxy killed: no orderly goodbye from either side.
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


@pytest.fixture
def proxy(pg_dsn: str) -> Iterator[Proxy]:
    proxy = Proxy(pg_dsn)
    try:
        yield proxy
    finally:
        proxy.cut()


def options(tmp_path: Path, broker: Mosquitto, proxy: Proxy, http_port: int) -> ServeOptions:
    return ServeOptions(
        site=site_with_tester(tmp_path),
        data_dir=tmp_path / "data",
        store=proxy.dsn,
        mqtt_url=broker.url,
        csta_port=0,
        http_port=http_port,
    )


async def healthz_until(
    port: int, wanted: Callable[[int, dict[str, Any]], bool]
) -> tuple[int, dict[str, Any]]:
    """/healthz asked until ``wanted`` holds (bounded; before the node listens: asked again)."""
    seen: tuple[int, dict[str, Any]] | None = None
    try:
        async with asyncio.timeout(3 * TIMEOUT):
            while True:
                with contextlib.suppress(ConnectionError):
                    status, _, body = await get(port, "/healthz")
                    seen = status, json.loads(body)
                    if wanted(*seen):
                        return seen
                await asyncio.sleep(0.05)  # polling a condition, bounded: not a timing sleep
    except TimeoutError:
        raise AssertionError(f"/healthz never as wanted; last: {seen}") from None


@contextlib.contextmanager
def signal_handlers_restored() -> Iterator[None]:
    """serve() installs SIGINT/SIGTERM handlers on the loop; the test's runner keeps its own."""
    try:
        yield
    finally:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def test_healthz_shows_the_store_down_while_the_lease_is_unknown(
    tmp_path: Path,
    mosquitto: Mosquitto,  # noqa: F811
    proxy: Proxy,
) -> None:
    clock = ManualClock()
    running = await start(options(tmp_path, mosquitto, proxy, free_port()), clock)
    try:
        assert running.http is not None and running.lease is not None
        port = running.http.address[1]
        status, doc = await healthz_until(port, lambda s, d: True)
        assert status == 200 and doc["parts"]["store"] == {"up": True, "required": True}, doc
        proxy.cut()
        # Before: 200 with the store up for as long as the database was away.
        status, doc = await healthz_until(port, lambda s, d: s == 503)
        assert doc["status"] == "down" and "store" in doc["down"], doc
        store = doc["parts"]["store"]
        assert store["up"] is False and f"node node1 in {where(proxy.dsn)}" in store["error"]
        assert await running.lease.holds()  # not yet: no standby can hold it so soon
        assert not running.lease.ended
        # It stops before a standby could take over, even learning of the silence a check's
        # wait and a pause late: LEASE_TIMEOUT after the last answer, the earliest.
        assert running.lease.timeout + CHECK_WAIT + LEASE_CHECK < LEASE_TIMEOUT
        clock.advance(running.lease.timeout + 0.5)
        why = await asyncio.wait_for(running.lease.lost, 3 * TIMEOUT)
        silent = running.lease.timeout + 0.5
        assert why.startswith(
            f"its lease could not be confirmed for {silent:.1f} s; a standby may take it over "
            f"{LEASE_TIMEOUT:g} s after the last confirmation ("
        ), why
        assert not await running.lease.holds()  # nor would the MQTT face connect again
        assert not running.lease.fenced.done()  # no one said it was taken: it is unknown
    finally:
        await running.stop()


async def test_a_lease_check_that_hangs_is_unknown_and_times_out(proxy: Proxy) -> None:
    """A partition: the check's query waits for an answer that never comes. It is answered
    "unknown" after CHECK_WAIT, not asked again while it hangs, and the lease times out.
    (The store alone: a node's loop would block too, in the outbox's position save.)"""
    clock = ManualClock()
    writer = PostgresStore(proxy.dsn, "node1")
    try:
        lease = LeaseWatch(writer.sibling(readonly=True), clock)
        assert await lease.holds() and lease.error is None
        proxy.frozen = True
        assert await lease.holds()  # after CHECK_WAIT: unknown, and not for long yet
        error = f"the lease check on {where(proxy.dsn)} got no answer within {CHECK_WAIT:g} s"
        assert lease.error == error
        hanging = lease._check
        clock.advance(LEASE_TIMEOUT + 1)
        assert not await lease.holds()
        assert lease._check is hanging  # waited for again, not a second query behind it
        why = await asyncio.wait_for(lease.lost, TIMEOUT)
        assert why.endswith(f"({error})") and not lease.fenced.done(), why
    finally:
        proxy.cut()  # the hung query fails now: nothing waits for TCP's own timeout
        writer.close()


async def test_an_idle_node_that_lost_its_postgres_exits_1_with_one_line(
    tmp_path: Path,
    mosquitto: Mosquitto,  # noqa: F811
    proxy: Proxy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: the node stayed up, healthy, until the database was back (then fenced)."""
    clock, port = ManualClock(), free_port()
    with signal_handlers_restored():
        serving = asyncio.create_task(serve(options(tmp_path, mosquitto, proxy, port), clock))
        await healthz_until(port, lambda s, d: s == 200)
        proxy.cut()
        await healthz_until(port, lambda s, d: s == 503 and "store" in d["down"])
        assert not serving.done()
        clock.advance(LEASE_TIMEOUT + 1)
        assert await asyncio.wait_for(serving, 3 * TIMEOUT) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith(
        f"cti serve: lost its PostgreSQL log {where(proxy.dsn)}: its lease could not be "
        f"confirmed for {LEASE_TIMEOUT + 1:.1f} s; a standby may take it over "
        f"{LEASE_TIMEOUT:g} s after the last confirmation ("
    ), lines
    assert [line for line in lines if line.startswith("cti serve:")] == lines[-1:], lines


async def test_a_command_that_finds_the_log_lost_ends_in_one_line_of_words(
    tmp_path: Path,
    mosquitto: Mosquitto,  # noqa: F811
    proxy: Proxy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: the last line was ``the node failed: StoreLost('...')``, a Python repr."""
    clock, port = ManualClock(), free_port()
    with signal_handlers_restored():
        serving = asyncio.create_task(serve(options(tmp_path, mosquitto, proxy, port), clock))
        await healthz_until(port, lambda s, d: s == 200)
        async with CtiClient(mosquitto.host, mosquitto.port) as ui:
            proxy.cut()
            reply = await ui.request("setDoNotDisturb", device="330", on=True)
        assert reply["error"]["code"] == "resourceOutOfService", reply
        assert await asyncio.wait_for(serving, 3 * TIMEOUT) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith(
        f"cti serve: lost its PostgreSQL log {where(proxy.dsn)}: append of seq "
    ), lines
    assert "the connection is lost" in lines[-1] and "StoreLost" not in lines[-1], lines
    assert [line for line in lines if line.startswith("cti serve:")] == lines[-1:], lines
