"""The web client's face: the built page (``cti/web/static``, made from ``web/`` by esbuild)
and ``/mqtt``, a WebSocket that carries the browser's MQTT to the broker byte for byte.

Why a proxy rather than Mosquitto's own websockets listener (specs/web.md): Debian's 2.0.11
starts that listener only beside a plain TCP one and ignores its bind address (it would listen
on every interface), and an operator's broker or a NATS cluster may have none. Here the page
and its MQTT share one origin on one port, loopback by default, and the browser signs in to
the broker with the user's own account, so the broker's ACLs apply as to any client: the
proxy reads nothing, decides nothing and holds no secret.

The websockets library does the RFC 6455 framing (masking, fragments, ping/pong, the closing
handshake) that own code would have to get right; its ``process_request`` hook serves the
few static files.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import attrs
import orjson
import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

log = structlog.get_logger(__name__)
DEFAULT_PORT = 8180
MQTT_PATH = "/mqtt"
# The largest request (a contacts file part, specs/mqtt.md) is below 1.5 MiB.
MAX_MESSAGE = 2 * 1024 * 1024
MAX_SESSIONS = 1000  # WebSockets at once; one more is refused 503
CONNECT_TIMEOUT = 5.0
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".map": "application/json",
}
# The page loads only its own files and talks only to its own origin.
SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        # mqtt.js keeps its timers in a blob: worker, which background tabs do not throttle;
        # a voicemail message plays from a blob: made of the bytes the node answered.
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; worker-src 'self' blob:; "
        "media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]


@attrs.frozen
class Upstream:
    """Where the proxy dials: a broker member, plain or TLS (then ``ca`` verifies it)."""

    host: str
    port: int
    ca: Path | None = None
    server_name: str = "localhost"

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.ca is None:
            return None
        context = ssl.create_default_context(cafile=str(self.ca))
        return context


def static_files() -> dict[str, tuple[bytes, str]]:
    """The built assets by URL path, read once (a few hundred KiB)."""
    root = resources.files("cti.web") / "static"
    out: dict[str, tuple[bytes, str]] = {}
    for entry in root.iterdir():
        suffix = Path(entry.name).suffix
        if entry.is_file() and suffix in TYPES:
            out["/" + entry.name] = (entry.read_bytes(), TYPES[suffix])
    if "/index.html" in out:
        out["/"] = out["/index.html"]
    return out


class WebFace:
    """A Face (cti/app/bootstrap.py): the web client on ``host:port`` (0: any free port)."""

    name = "web"

    def __init__(
        self, host: str, port: int, node: str, upstreams: Sequence[Upstream], *, secure: bool
    ) -> None:
        self.host, self.port, self.node = host, port, node
        self.upstreams = list(upstreams)
        self.secure = secure  # the broker leg is TLS: the `secure` request topic works
        self.files = static_files()
        config = {"node": node, "mqttPath": MQTT_PATH, "secureRequests": secure}
        self.files["/config.json"] = (orjson.dumps(config), TYPES[".json"])
        self.sessions = 0
        self._server: Server | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "not started"
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> None:
        """Raises OSError when the address cannot be listened on (busy port)."""
        self._server = await serve(
            self._proxy,
            self.host,
            self.port,
            process_request=self._request,
            subprotocols=[
                Subprotocol("mqtt")
            ],  # mqtt.js asks for it; a browser insists on the echo
            max_size=MAX_MESSAGE,
            ping_interval=20,  # keeps idle connections through proxies that drop them at 60 s
            compression=None,  # MQTT payloads are small JSON; deflate costs more than it saves
        )
        log.info("web.listening", address=self.address, secure=self.secure)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def _request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if not same_origin(request.headers):
            return respond(403, b"cross-origin request refused\n", "text/plain")
        if path == MQTT_PATH:
            if self.sessions >= MAX_SESSIONS:
                return respond(503, b"too many connections\n", "text/plain")
            return None  # the WebSocket handshake goes on
        found = self.files.get(path)
        if found is None:
            return respond(404, b"not found\n", "text/plain")
        body, content_type = found
        return respond(200, body, content_type)

    async def _proxy(self, ws: ServerConnection) -> None:
        self.sessions += 1
        try:
            streams = await self._dial()
            if streams is None:
                await ws.close(1013, "broker not reachable")  # try again later
                return
            reader, writer = streams
            try:
                await pump(ws, reader, writer)
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        finally:
            self.sessions -= 1

    async def _dial(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for upstream in self.upstreams:
            context = upstream.ssl_context()
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(
                        upstream.host,
                        upstream.port,
                        ssl=context,
                        server_hostname=upstream.server_name if context else None,
                    ),
                    CONNECT_TIMEOUT,
                )
            except (OSError, TimeoutError) as exc:
                log.info(
                    "web.broker_unreachable", host=upstream.host, port=upstream.port, error=str(exc)
                )
        return None


async def pump(
    ws: ServerConnection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Bytes both ways until either side ends; then both end (the browser reconnects)."""

    async def up() -> None:
        async for message in ws:
            writer.write(message if isinstance(message, bytes) else message.encode())
            await writer.drain()

    async def down() -> None:
        while data := await reader.read(65536):
            await ws.send(data)

    tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await ws.close()


def same_origin(headers: Headers) -> bool:
    """A page of another site may not open our WebSocket (it could not sign in without the
    password, but it has no business trying). Requests without Origin (tools) pass."""
    origin = headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == headers.get("Host", "")


def respond(status: int, body: bytes, content_type: str) -> Response:
    reason = {200: "OK", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable"}
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-cache"),
            *SECURITY_HEADERS,
        ]
    )
    return Response(status, reason[status], headers, body)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
