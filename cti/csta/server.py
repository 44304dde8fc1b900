"""The CSTA link's TCP server: one task per connection (a :class:`Session`), shared limits.

Event reports come from the node's commit listener, after the events are durable, in seq
order, to every associated session with a monitor on a device concerned.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Sequence

import attrs
import structlog

from cti.app.engine import Engine
from cti.app.node import Committed
from cti.csta.framing import MAX_PAYLOAD, Style
from cti.csta.session import Session
from cti.domain.site import CstaSettings

log = structlog.get_logger(__name__)


@attrs.frozen
class Limits:
    max_frame: int = MAX_PAYLOAD  # larger frames are a framing error (ABRT, close)
    max_write_buffer: int = 1 << 20  # bytes queued for a slow reader before it is cut off
    max_connections: int = 256
    max_monitors: int = 1000  # per association
    associate_timeout: float = 30.0  # seconds from connect to AARQ
    send_buffer: int | None = None  # SO_SNDBUF of accepted sockets (None: the OS default)


class CstaServer:
    def __init__(
        self, engine: Engine, settings: CstaSettings, limits: Limits | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.limits = limits or Limits()
        self.framing: Style = "length2" if settings.framing == "length2" else "siemens"
        self.sessions: set[Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        engine.node.subscribe(self._on_commit)

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "not started"
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self, port: int | None = None) -> None:
        """Listen on ``settings.host`` and ``port`` (default ``settings.port``; 0 = any free)."""
        self._server = await asyncio.start_server(
            self._accept, self.settings.host, self.settings.port if port is None else port
        )
        log.info("csta.listening", address=self.address, framing=self.framing)

    async def stop(self) -> None:
        """Stop accepting, abort every association (ABRT), wait for the sessions to end."""
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            session.abort("no-reason-given")
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        for task in self._tasks:
            task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self.sessions) >= self.limits.max_connections:
            log.warning("csta.too_many_connections", limit=self.limits.max_connections)
            writer.close()
            return
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.limits.send_buffer is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.limits.send_buffer)
        session = Session(self, reader, writer)
        self.sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        except Exception:  # whatever a peer sends, the server and other links stay up
            log.exception("csta.session_crashed", peer=session.peer)
            session.close()
        finally:
            self.sessions.discard(session)
            if task is not None:
                self._tasks.discard(task)

    def _on_commit(self, batch: Sequence[Committed]) -> None:
        for session in list(self.sessions):
            try:
                session.on_commit(batch)
            except Exception:
                log.exception("csta.report_failed", peer=session.peer)
                session.close()
