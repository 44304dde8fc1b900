"""The operators' HTTP endpoint: ``GET /healthz`` and ``GET /metrics`` (specs/operations.md).

Served on the node's event loop with the standard library's ``asyncio.start_server``: two
read-only GETs, answered and closed, need no framework (aiohttp would bring six packages for
it). What a client can do is bounded: one request per connection, a head of at most 8 KiB
read within a few seconds, at most 32 connections at once. Loopback by default: the
endpoint has no sign-in, so it says nothing an account could not see, and never a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import orjson
import structlog

from cti.ops.health import Probe, StandbyProbe, report
from cti.ops.metrics import CONTENT_TYPE, NodeMetrics

log = structlog.get_logger(__name__)
HEAD_LIMIT = 8192  # bytes of request line and headers
READ_TIMEOUT = 5.0  # seconds to send them
MAX_CONNECTIONS = 32
DEFAULT_PORT = 9180
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


class HttpFace:
    """A Face (cti/app/bootstrap.py): listens on ``host:port`` (0: any free port)."""

    name = "http"

    def __init__(
        self, host: str, port: int, metrics: NodeMetrics, probe: Probe | StandbyProbe
    ) -> None:
        self.host, self.port = host, port
        self.metrics, self.probe = metrics, probe
        self._server: asyncio.Server | None = None
        self._open = 0

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "not started"
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> None:
        """Raises OSError when the address cannot be listened on (busy port)."""
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=HEAD_LIMIT
        )
        log.info("http.listening", address=self.address)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), READ_TIMEOUT)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._open >= MAX_CONNECTIONS:
            writer.close()
            return
        self._open += 1
        try:
            status, ctype, body = await self._answer(reader)
            head = (
                f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode("ascii") + body)
            await asyncio.wait_for(writer.drain(), READ_TIMEOUT)
        except (OSError, TimeoutError):
            pass  # the client went away or reads too slowly: nothing to answer
        except Exception:  # a bug in a probe costs this request, never the endpoint
            log.exception("http.request_crashed")
        finally:
            self._open -= 1
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), READ_TIMEOUT)

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, str, bytes]:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return _text(400, "bad request\n")
        parts = head.split(b"\r\n", 1)[0].split()
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            return _text(400, "bad request\n")
        method, target = parts[0], parts[1].split(b"?", 1)[0]
        route: Callable[[], tuple[int, str, bytes]] | None = {
            b"/healthz": self._healthz,
            b"/metrics": self._metrics,
        }.get(target)
        if route is None:
            return _text(404, "not found: GET /healthz or /metrics\n")
        if method != b"GET":
            return _text(405, "only GET\n")
        return route()

    def _healthz(self) -> tuple[int, str, bytes]:
        healthy, doc = report(self.probe)
        return 200 if healthy else 503, "application/json", orjson.dumps(doc) + b"\n"

    def _metrics(self) -> tuple[int, str, bytes]:
        return 200, CONTENT_TYPE, self.metrics.render()


def _text(status: int, text: str) -> tuple[int, str, bytes]:
    return status, "text/plain; charset=utf-8", text.encode()
