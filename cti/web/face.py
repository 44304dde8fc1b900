"""The web client's face: the built page (``cti/web/static``, made from ``web/`` by esbuild)
and ``/mqtt``, a WebSocket that carries the browser's MQTT to the broker byte for byte.

Why a proxy rather than Mosquitto's own websockets listener (specs/web.md): Debian's 2.0.11
starts that listener only beside a plain TCP one and ignores its bind address (it would listen
on every interface), and an operator's broker or a NATS cluster may have none. Here the page
and its MQTT share one origin on one port, loopback by default, and the browser signs in to
the broker with the user's own account, so the broker's ACLs apply as to any client: the
proxy holds no secret and reads only the sign-in (cti/web/signin.py): a CONNECT must carry a
client id of the signing-in account's own, the broker is dialled only once it passed (a
socket that never signs in costs no broker connection), and a WebSocket that has not signed
in within ``sign_in_timeout`` is closed. Slots are counted from the upgrade request on, at most
``max_per_address`` per client address, so one address cannot hold them all.

The websockets library does the RFC 6455 framing (masking, fragments, ping/pong, the closing
handshake) that own code would have to get right; its ``process_request`` hook serves the
few static files.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import attrs
import orjson
import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.typing import Subprotocol

from cti.web.forwarded import LOOPBACK, Network, counted, forwarded_client
from cti.web.signin import MAX_CONNECT, Gate, Refused

log = structlog.get_logger(__name__)
DEFAULT_PORT = 8180
MQTT_PATH = "/mqtt"
# The largest request (a contacts file part, specs/mqtt.md) is below 1.5 MiB.
MAX_MESSAGE = 2 * 1024 * 1024
# Until the broker accepted the sign-in a message may hold a CONNECT only (the gate refuses
# more than MAX_CONNECT before it): the library assembles a message before anyone reads it,
# so without this bound 200 sockets signing in could hold 2 MiB each, and more while queued.
MAX_SIGN_IN_MESSAGE = MAX_CONNECT
MAX_QUEUE = 4  # messages received and not read yet (the pump reads at once; the dial waits)
MAX_SESSIONS = 1000  # WebSockets at once; one more is refused 503
MAX_PER_ADDRESS = 20  # WebSockets at once from one client address; one more is refused 429
# WebSockets at once that have not signed in yet; one more is refused 503. Far below
# MAX_SESSIONS: sockets that never sign in (from many addresses, each held until its
# deadline) cannot take the slots of those that did.
MAX_SIGNING_IN = 200
SIGN_IN_TIMEOUT = 10.0  # seconds from the WebSocket's start to the broker's CONNACK
MAX_WRITE_BUFFER = 1024 * 1024  # bytes queued for a client that does not read: it is dropped
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


class _Connection(ServerConnection):
    """A WebSocket whose peer must read what it is sent. The library answers every ping with a
    pong at once, without waiting for the peer to take them: a client sending pings and reading
    nothing (no sign-in needed) grew the server's write buffer by tens of MB a second, for as
    long as the keepalive took to give up on it. The proxy's own sends wait for the buffer to
    drain (at most 64 KiB beyond the library's high-water mark), so a buffer beyond
    MAX_WRITE_BUFFER is a peer that does not read: dropped."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            log.warning("web.peer_not_reading", address=_peer(self.remote_address))
            self.transport.abort()


class WebFace:
    """A Face (cti/app/bootstrap.py): the web client on ``host:port`` (0: any free port)."""

    name = "web"

    def __init__(
        self,
        host: str,
        port: int,
        node: str,
        upstreams: Sequence[Upstream],
        *,
        secure: bool,
        max_per_address: int = MAX_PER_ADDRESS,
        sign_in_timeout: float = SIGN_IN_TIMEOUT,
        deadline: Callable[[], Awaitable[object]] | None = None,
        max_signing_in: int = MAX_SIGNING_IN,
        trusted_proxies: Sequence[Network] = LOOPBACK,
    ) -> None:
        """``max_per_address``: WebSockets at once from one client address (0: no limit).
        ``sign_in_timeout``: seconds a WebSocket has to sign in (the broker's CONNACK);
        ``deadline``, if given, is awaited instead of that many seconds (tests).
        ``trusted_proxies``: peers whose ``X-Forwarded-For`` names the client."""
        self.host, self.port, self.node = host, port, node
        self.upstreams = list(upstreams)
        self.secure = secure  # the broker leg is TLS: the `secure` request topic works
        self.files = static_files()
        config = {"node": node, "mqttPath": MQTT_PATH, "secureRequests": secure}
        self.files["/config.json"] = (orjson.dumps(config), TYPES[".json"])
        self.sessions = 0  # WebSockets from their upgrade request until their TCP closes
        self.by_address: Counter[str] = Counter()
        self.max_per_address = max_per_address
        self.signing_in: set[ServerConnection] = set()  # slots taken, not signed in yet
        self._refusing: set[str] = set()  # addresses at their cap whose refusal was logged
        self.max_signing_in = max_signing_in
        self.trusted_proxies = tuple(trusted_proxies)
        self.sign_in_timeout = sign_in_timeout
        self._deadline = deadline or (lambda: asyncio.sleep(self.sign_in_timeout))
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
            create_connection=_Connection,
            process_request=self._request,
            subprotocols=[
                Subprotocol("mqtt")
            ],  # mqtt.js asks for it; a browser insists on the echo
            max_size=MAX_MESSAGE,  # once signed in; MAX_SIGN_IN_MESSAGE before (_take_slot)
            max_queue=MAX_QUEUE,
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
            if len(self.signing_in) >= self.max_signing_in:
                return respond(503, b"too many sign-ins at once: try again\n", "text/plain")
            address = client_address(
                connection.remote_address, request.headers, self.trusted_proxies
            )
            if 0 < self.max_per_address <= self.by_address[address]:
                if address not in self._refusing:  # once per episode: a flood of refused
                    self._refusing.add(address)  # upgrades must not flood the log too
                    log.warning("web.too_many_from_address", address=address)
                return respond(429, b"too many connections from your address\n", "text/plain")
            self._take_slot(connection, address)
            return None  # the WebSocket handshake goes on
        found = self.files.get(path)
        if found is None:
            return respond(404, b"not found\n", "text/plain")
        body, content_type = found
        return respond(200, body, content_type)

    def _take_slot(self, connection: ServerConnection, address: str) -> None:
        """Count the WebSocket from its upgrade request until its TCP connection is gone,
        whether the handshake completes or not (the handler runs only if it does)."""
        self.sessions += 1
        self.by_address[address] += 1
        self.signing_in.add(connection)
        connection.protocol.max_message_size = MAX_SIGN_IN_MESSAGE  # read at each frame's start

        def free(_: object) -> None:
            self.signing_in.discard(connection)
            self.sessions -= 1
            self.by_address[address] -= 1
            if self.by_address[address] <= 0:
                del self.by_address[address]
            self._refusing.discard(address)  # below its cap again: the next refusal is news

        connection.connection_lost_waiter.add_done_callback(free)

    async def _proxy(self, ws: ServerConnection) -> None:
        def signed_in() -> None:
            self.signing_in.discard(ws)
            ws.protocol.max_message_size = MAX_MESSAGE

        gate = Gate(on_signed_in=signed_in)
        watch = asyncio.create_task(self._sign_in_deadline(ws, gate))
        try:
            # The broker is dialled only for a CONNECT the gate passed: a socket that never
            # signs in (idle, garbage, another account's client id) costs no broker connection.
            connect = await first_connect(ws, gate)
            if connect is None:
                return
            streams = await self._dial()
            if streams is None:
                await ws.close(1013, "broker not reachable")  # try again later
                return
            reader, writer = streams
            try:
                # The browser may have gone during the dial (closed, the sign-in deadline,
                # dropped for not reading: its transport aborted, the state not yet changed):
                # its CONNECT would cost the broker a password check for nobody. Nothing is
                # written; the broker sees the connection close.
                if ws.state is not State.OPEN or ws.transport.is_closing():
                    log.info("web.closed_during_dial", address=_peer(ws.remote_address))
                    return
                await pump(ws, reader, writer, gate, connect)
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        finally:
            watch.cancel()
            with contextlib.suppress(BaseException):
                await watch

    async def _sign_in_deadline(self, ws: ServerConnection, gate: Gate) -> None:
        """Close a WebSocket that has not signed in in time: it frees its slot."""
        await self._deadline()
        if not gate.signed_in:
            log.info("web.sign_in_timeout", address=_peer(ws.remote_address))
            await ws.close(1008, "no sign-in in time")

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


async def checked(ws: ServerConnection, gate: Gate, message: str | bytes) -> bytes | None:
    """What of one message from the browser goes on to the broker (nothing while its CONNECT
    is incomplete); None when the message closed the WebSocket: a text frame, or a first
    packet the gate refused."""
    if not isinstance(message, bytes):  # [MQTT-6.0.0-1]: MQTT is carried in binary frames
        log.info("web.text_frame", address=_peer(ws.remote_address))
        await ws.close(1003, "MQTT is binary")
        return None
    try:
        return gate.upstream(message)
    except Refused as refused:
        log.info("web.connect_refused", address=_peer(ws.remote_address), why=refused.why)
        if refused.reply:
            await ws.send(refused.reply)
        await ws.close(1008, "sign-in refused")
        return None


async def first_connect(ws: ServerConnection, gate: Gate) -> bytes | None:
    """The browser's bytes up to its CONNECT, once the gate passed it (with whatever came in
    the same message after it); None when the WebSocket closed before that (refused, a text
    frame, the sign-in deadline, the peer gone or dropped for not reading)."""
    with contextlib.suppress(ConnectionClosed):
        async for message in ws:
            data = await checked(ws, gate, message)
            if data is None:
                return None
            if data:
                return data
    return None


async def pump(
    ws: ServerConnection,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    gate: Gate | None = None,
    first: bytes = b"",
) -> None:
    """Bytes both ways until either side ends; then both end (the browser reconnects).
    ``gate``: the browser's CONNECT is held until checked, the broker's CONNACK watched;
    ``first``: what the browser sent before the broker was dialled (its checked CONNECT)."""
    gate = gate or Gate()
    # Written at once, not in `up`: no await between the caller's look at the WebSocket's
    # state and this write (the socket cannot close in between).
    writer.write(first)

    async def up() -> None:
        await writer.drain()
        async for message in ws:
            data = await checked(ws, gate, message)
            if data is None:
                return
            if data:
                writer.write(data)
                await writer.drain()

    async def down() -> None:
        while data := await reader.read(65536):
            gate.downstream(data)
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


def client_address(peer: object, headers: Headers, trusted: Sequence[Network] = LOOPBACK) -> str:
    """The address a WebSocket is counted against: the peer's, or behind a reverse proxy the
    operator trusts (``trusted``: ``--web-trusted-proxy``, loopback by default) the client's
    that the proxy appended to ``X-Forwarded-For`` (cti/web/forwarded.py). An IPv6 client
    counts by its /64 (see :func:`counted`)."""
    forwarded = headers.get_all("X-Forwarded-For")
    return counted(forwarded_client(_peer(peer), forwarded, trusted))


def _peer(peer: object) -> str:
    """The host of a socket's peer address (a tuple; None once the transport closed)."""
    return str(peer[0]) if isinstance(peer, tuple) and peer else "?"


def respond(status: int, body: bytes, content_type: str) -> Response:
    reason = {
        200: "OK",
        403: "Forbidden",
        404: "Not Found",
        429: "Too Many Requests",
        503: "Service Unavailable",
    }
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
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback  # ::ffff:127.0.0.1 (Python 3.11 says not loopback)
    return ip.is_loopback
