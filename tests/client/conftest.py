"""Fixtures of the cti.client tests: a real node (cti.app.bootstrap) with its embedded
mosquitto, the accounts and ACL files of the example office, and its TLS listener; a TCP relay
a test can cut to give the client a network outage; a collector of the client's updates.

Starting the example office hashes the passwords of its ten demo accounts (argon2 and PBKDF2,
slow on purpose: seconds). The first start is made once per session into a template data
directory; every test then starts a node on a copy of it (same accounts, certificates and
log epoch), which takes a fraction of a second.

Nothing here sleeps for timing: every wait is for a condition, bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from cti.app.bootstrap import Running, ServeOptions, start
from cti.client import CtiClient, Update
from cti.mqtt.broker import free_port, mosquitto_binary

TIMEOUT = 10.0  # seconds any single awaited condition may take before the test fails
NODE = "node1"
# The example office's demo users (cti/sites/example.toml).
PASSWORDS = {
    "330": "Anna-2026!",
    "331": "Bernd-2026!",
    "332": "Clara-2026!",
    "333": "Dieter-2026!",
    "monitor": "Monitor-2026!",
}

U = TypeVar("U")


def options(data_dir: Path) -> ServeOptions:
    """The example office with its embedded broker on free ports, no CSTA link."""
    return ServeOptions(
        data_dir=data_dir,
        broker="embedded",
        broker_port=free_port(),
        tls_port=free_port(),
        csta_port=0,
    )


async def _make_template(data_dir: Path) -> None:
    running = await start(options(data_dir))
    await running.stop()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory in which the example office has started once (seeded, certified)."""
    if mosquitto_binary() is None:  # a missing broker fails the suite, it never skips it
        pytest.fail("mosquitto is not installed: apt-get install -y mosquitto (see README)")
    data_dir = tmp_path_factory.mktemp("template") / "data"
    asyncio.run(_make_template(data_dir))
    return data_dir


async def start_node(template: Path, data_dir: Path) -> Running:
    shutil.copytree(template, data_dir)
    return await start(options(data_dir))


@pytest.fixture
async def node(template: Path, tmp_path: Path) -> AsyncIterator[Running]:
    """The example office on a copy of the template, its broker checking accounts and ACLs."""
    running = await start_node(template, tmp_path / "data")
    try:
        yield running
    finally:
        await running.stop()


def url(running: Running, *, tls: bool = False) -> str:
    broker = running.broker
    assert broker is not None
    if tls:
        assert broker.tls is not None
        return f"mqtts://127.0.0.1:{broker.tls.port}"
    return broker.url


def client(running: Running | str, user: str, **kw: Any) -> CtiClient:
    """A client of a demo user, to the node's broker (or to the given URL)."""
    where = running if isinstance(running, str) else url(running)
    return CtiClient(where, user=user, password=PASSWORDS[user], **kw)


# -- a network outage ------------------------------------------------------------------------
class Relay:
    """A TCP relay in front of a broker. :meth:`cut` drops every connection through it and
    stops listening (the client sees a network outage; its reconnects are refused);
    :meth:`restore` listens again on the same port, relaying to ``target``, which a test may
    change (another node behind the same address). It relays bytes: TLS goes through."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        for task in pumps:
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()  # no FIN handshake: as if the cable was pulled
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def relay_to(host: str, port: int) -> AsyncIterator[Relay]:
    relay = Relay((host, port))
    await relay.start()
    try:
        yield relay
    finally:
        await relay.close()


# -- what a client receives ------------------------------------------------------------------
class Collector:
    """Reads ``client.updates()`` on a task of its own into :attr:`updates`."""

    def __init__(self, cti: CtiClient) -> None:
        self.cti = cti
        self.updates: list[Update] = []
        self.error: BaseException | None = None
        self._changed = asyncio.Condition()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for update in self.cti.updates():
                async with self._changed:
                    self.updates.append(update)
                    self._changed.notify_all()
        except Exception as exc:
            async with self._changed:
                self.error = exc
                self._changed.notify_all()

    def of(self, kind: type[U]) -> list[U]:
        return [u for u in self.updates if isinstance(u, kind)]

    async def wait_for(
        self, predicate: Callable[[Update], bool], *, start: int = 0, timeout: float = TIMEOUT
    ) -> Update:
        """The first update at index >= ``start`` that satisfies ``predicate``."""
        found: list[Update] = []

        def check() -> bool:
            found.extend(u for u in self.updates[start:] if predicate(u))
            return bool(found) or self.error is not None

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(check), timeout)
            except TimeoutError:
                tail = "\n".join(repr(u)[:160] for u in self.updates[-8:])
                raise AssertionError(f"no such update in {timeout} s; last:\n{tail}") from None
        if not found:
            raise AssertionError(f"updates() raised {self.error!r}")
        return found[0]

    async def ended(self, timeout: float = TIMEOUT) -> BaseException | None:
        """Wait for ``updates()`` to end; what it raised (None: it just ended)."""
        await asyncio.wait_for(asyncio.shield(self._task), timeout)
        return self.error

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@contextlib.asynccontextmanager
async def collecting(cti: CtiClient) -> AsyncIterator[Collector]:
    collector = Collector(cti)
    try:
        yield collector
    finally:
        await collector.close()


async def eventually(check: Callable[[], Any], *, timeout: float = TIMEOUT) -> None:
    """Until the coroutine function ``check`` returns true, trying again after each answer;
    for what the node does after its reply and announces nowhere (the broker's password
    file rewritten and reloaded after a password change)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{check.__name__} not true within {timeout} s")
        await asyncio.sleep(0.05)  # a retry interval, not a timing assumption
