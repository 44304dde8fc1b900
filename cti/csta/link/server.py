"""The CSTA link's TCP server: one task per connection (a :class:`Session`), shared limits.

Event reports come from the node's commit listener, after the events are durable, in seq
order, to every associated session with a monitor on a device concerned. The same listener
notices a change of the node's accounts and has every association whose account's sign-in no
longer holds aborted (removed, a new password), as the broker's reload ends MQTT sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import weakref
from collections.abc import Sequence

import attrs
import structlog

from cti.app.config import CstaSettings
from cti.app.engine import Engine
from cti.app.feed import LogReader
from cti.app.follower import LiveFollower
from cti.csta.codec.framing import Style
from cti.csta.link.session import Session
from cti.csta.link.throttle import Throttle
from cti.kernel.messages import Committed
from cti.store import EventStore

log = structlog.get_logger(__name__)


class UnsafeSettings(ValueError):
    """The [csta] settings would expose the link (see CstaSettings.unsafe); not started."""


@attrs.frozen
class Limits:
    # Frames over these sizes are a framing error (ABRT, close). Before the association only
    # an AARQ (~100 bytes) is acceptable; a CSTA invoke is a few hundred bytes at most.
    max_frame_unassociated: int = 2048
    max_frame: int = 4096
    max_rejects: int = 16  # consecutive Rejects (nothing usable in between): ABRT, close
    max_write_buffer: int = 1 << 20  # bytes queued for a slow reader before it is cut off
    max_connections: int = 256
    # Per source address: connections in all, and those not associated yet (a legitimate
    # application associates at once), so one address cannot take the whole link.
    max_per_address: int = 64
    max_unassociated_per_address: int = 8
    max_monitors: int = 1000  # per association
    associate_timeout: float = 10.0  # seconds from connect to AARQ
    keepalive_interval: float = 60.0  # silent this long: the switch probes (systemStatus)
    keepalive_timeout: float = 30.0  # no answer to the probe this long: ABRT
    max_password_checks: int = 4  # argon2 verifications at a time (64 MiB each)
    send_buffer: int | None = None  # SO_SNDBUF of accepted sockets (None: the OS default)


class CstaServer:
    name = "csta"

    def __init__(
        self,
        engine: Engine,
        settings: CstaSettings,
        limits: Limits | None = None,
        store: EventStore | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        """``store``: a connection of the link's own to the log, read when the link falls
        behind the in-memory tail (default: a sibling of the node's). ``throttle``: the
        delays of failed associations per address (default: on the node's clock)."""
        self.engine = engine
        self.settings = settings
        self.limits = limits or Limits()
        self.throttle = throttle or Throttle(engine.node.clock)
        self.password_checks = asyncio.Semaphore(self.limits.max_password_checks)
        # one credential check at a time per source address: parallel guesses wait their turn
        self._gates: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.framing: Style = settings.framing  # validated with the site
        self.sessions: set[Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        reader = LogReader(engine.node.feed, store or engine.node.store.sibling(readonly=True))
        self.reports = LiveFollower("csta-reports", reader, self._deliver)
        self._accounts = engine.node.state.accounts.accounts  # as the sessions last saw them

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "not started"
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    @property
    def listening(self) -> bool:
        """Accepting connections (for /healthz)."""
        return self._server is not None and self._server.is_serving()

    @property
    def associations(self) -> int:
        """Connections with an ACSE association up (for the metrics)."""
        return sum(1 for s in self.sessions if s.associated)

    def gate(self, address: str) -> asyncio.Lock:
        """The lock a session holds while it checks credentials from ``address`` and while
        the answer of a failure waits (forgotten when no session holds or waits for it)."""
        lock = self._gates.get(address)
        if lock is None:
            lock = asyncio.Lock()
            self._gates[address] = lock
        return lock

    async def start(self, port: int | None = None) -> None:
        """Listen on ``settings.host`` and ``port`` (default ``settings.port``; 0 = any free).

        The node's commits are followed from here until :meth:`stop` (not when listening
        fails). Raises UnsafeSettings for the default password on a non-loopback host."""
        reason = self.settings.unsafe()
        if reason is not None:
            raise UnsafeSettings(reason)
        if not self.settings.host:
            raise UnsafeSettings("[csta]: host must not be empty")
        self._server = await asyncio.start_server(
            self._accept, self.settings.host, self.settings.port if port is None else port
        )
        self.reports.start()  # reports are live: from now on
        log.info("csta.listening", address=self.address, framing=self.framing)

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, abort every association (ABRT), wait for the sessions to end
        (those still running after ``timeout`` seconds are cancelled and awaited)."""
        await self.reports.stop()
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.abort("no-reason-given")
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout)
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        refused = self._over_limit(writer)
        if refused is not None:
            log.warning("csta.connection_refused", reason=refused)
            writer.close()
            return
        try:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.limits.send_buffer is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.limits.send_buffer)
        except OSError as exc:
            log.warning("csta.socket_options_failed", error=str(exc))
            writer.close()
            return
        session = Session(self, reader, writer)
        self.sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        except Exception:  # whatever a peer sends, the server and other links stay up
            log.exception("csta.session_crashed", peer=session.peer)
        finally:
            session.close()
            self.sessions.discard(session)
            if task is not None:
                self._tasks.discard(task)

    def _over_limit(self, writer: asyncio.StreamWriter) -> str | None:
        """Why a new connection is closed at once, or None."""
        limits = self.limits
        if len(self.sessions) >= limits.max_connections:
            return f"{limits.max_connections} connections"
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        mine = [s for s in self.sessions if s.address == address]
        if len(mine) >= limits.max_per_address:
            return f"{limits.max_per_address} connections from {address}"
        waiting = sum(1 for s in mine if not s.associated)
        if waiting >= limits.max_unassociated_per_address:
            return f"{limits.max_unassociated_per_address} unassociated connections from {address}"
        return None

    # -- event reports: a live follower of the log -----------------------------------------------
    def catch_up(self) -> None:
        """Hand every batch committed since the last call to the sessions, in order.

        The follower does this after each commit; a session also does it before it handles an
        invoke or writes a result, so a result never overtakes the reports of what was
        committed before it."""
        self.reports.catch_up()

    def _deliver(self, batch: Sequence[Committed]) -> None:
        accounts = self.engine.node.state.accounts.accounts
        changed = accounts is not self._accounts  # a new map on every change: else O(1)
        self._accounts = accounts
        for session in list(self.sessions):
            try:
                if changed:
                    session.end_if_signed_out()
                session.on_commit(batch)
            except Exception:  # one association's failure costs that association only
                log.exception("csta.report_failed", peer=session.peer)
                session.close()
