"""The web face without a browser (cti/web/face.py, specs/web.md): the page and its headers,
the same-origin rule, and the WebSocket carried byte for byte to the broker."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import ssl
from collections.abc import AsyncIterator
from ipaddress import ip_network
from pathlib import Path

import attrs
import orjson
import pytest
from structlog.testing import capture_logs
from websockets.asyncio.client import ClientConnection, connect
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus

from cti.mqtt import certs
from cti.mqtt.broker import free_port
from cti.mqtt.client import protocol as p
from cti.web.face import MAX_WRITE_BUFFER, Upstream, WebFace, client_address, is_loopback
from tests.mqtt.conftest import Mosquitto
from tests.mqtt.conftest import mosquitto as mosquitto  # the fixture: runs with -v, its log
from tests.waiting import until


async def get(face: WebFace, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    host, port = face.address
    reader, writer = await asyncio.open_connection(host, port)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    body = await reader.readexactly(int(fields["Content-Length"]))
    writer.close()
    return status, fields, body


@pytest.fixture
async def echo() -> AsyncIterator[tuple[str, int]]:
    """A TCP server standing in for the broker: sends back what it gets, in one piece."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    try:
        yield host, port
    finally:
        server.close()


@pytest.fixture
async def face(echo: tuple[str, int]) -> AsyncIterator[WebFace]:
    web = WebFace("127.0.0.1", 0, "node1", [Upstream(*echo)], secure=False)
    await web.start()
    try:
        yield web
    finally:
        await web.stop()


async def test_the_page_and_its_files_with_a_strict_policy(face: WebFace) -> None:
    status, headers, body = await get(face, "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'src="app.js"' in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = await get(face, "/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert len(body) > 10_000  # mqtt.js is in the bundle
    status, _, body = await get(face, "/config.json")
    assert orjson.loads(body) == {"node": "node1", "mqttPath": "/mqtt", "secureRequests": False}
    assert (await get(face, "/../pyproject.toml"))[0] == 404
    assert (await get(face, "/nothing"))[0] == 404


async def test_another_sites_page_may_not_open_the_websocket(face: WebFace) -> None:
    host, port = face.address
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://{host}:{port}/mqtt", origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    assert (await get(face, "/", Origin="http://evil.example"))[0] == 403


async def test_bytes_go_to_the_broker_and_back_unchanged(face: WebFace) -> None:
    host, port = face.address
    # The sign-in first (the proxy reads it), then anything, binary as MQTT is.
    packet = sign_in("331", "web-331-0123456789ab") + bytes(range(256)) * 10
    async with connect(
        f"ws://{host}:{port}/mqtt",
        subprotocols=["mqtt"],  # type: ignore[list-item]
        origin=f"http://{host}:{port}",  # type: ignore[arg-type]
    ) as ws:
        assert ws.subprotocol == "mqtt"
        await ws.send(packet[:7])  # a CONNECT in pieces goes on once it is whole
        await ws.send(packet[7:])
        received = b""
        while len(received) < len(packet):
            message = await ws.recv()
            assert isinstance(message, bytes)
            received += message
        assert received == packet
        assert face.sessions == 1


async def test_no_broker_closes_the_websocket_try_again_later() -> None:
    web = WebFace("127.0.0.1", 0, "node1", [Upstream("127.0.0.1", free_port())], secure=False)
    await web.start()
    try:
        host, port = web.address
        async with connect(f"ws://{host}:{port}/mqtt", subprotocols=["mqtt"]) as ws:  # type: ignore[list-item]
            await ws.send(sign_in("331", "web-331-0123456789ab"))  # dialled once it is checked
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert ws.close_code == 1013
    finally:
        await web.stop()


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


# -- the sign-in: client ids, connection slots, the deadline -----------------------------------
TIMEOUT = 5.0  # a bound for each awaited condition, never a sleep
CONNACK_OK = b"\x20\x03\x00\x00\x00"


def sign_in(user: str | None, client_id: str, version: int = 5) -> bytes:
    return p.connect(
        client_id,
        keepalive=25,
        version=version,
        username=user,
        password=None if user is None else "pw",
        will=(f"cti/node1/users/{user}/sessions/{client_id}", b"", True),
    )


@attrs.define
class FakeBroker:
    """Answers a CONNECT with a CONNACK accepting it, then echoes; keeps what it got."""

    host: str = "127.0.0.1"
    port: int = 0
    received: bytearray = attrs.Factory(bytearray)
    connections: int = 0


@pytest.fixture
async def fake_broker() -> AsyncIterator[FakeBroker]:
    broker = FakeBroker()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        broker.connections += 1
        buffer = bytearray()
        answered = False
        while data := await reader.read(65536):
            broker.received += data
            buffer += data
            if not answered:
                if p.split_packet(buffer, 0) is None:
                    continue
                answered = True
                writer.write(CONNACK_OK)
            else:
                writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    broker.port = server.sockets[0].getsockname()[1]
    try:
        yield broker
    finally:
        server.close()


def proxy(broker: FakeBroker, **options: object) -> WebFace:
    return WebFace(
        "127.0.0.1", 0, "node1", [Upstream(broker.host, broker.port)], secure=False, **options
    )  # type: ignore[arg-type]


def websocket(face: WebFace, **headers: str) -> connect:
    host, port = face.address
    return connect(
        f"ws://{host}:{port}/mqtt",
        subprotocols=["mqtt"],  # type: ignore[list-item]
        additional_headers=headers,
    )


async def closed_code(ws: ClientConnection) -> int | None:
    """Wait until the proxy closes ``ws``; the close code it sent."""
    async with asyncio.timeout(TIMEOUT):
        with pytest.raises(ConnectionClosed):
            while True:
                await ws.recv()
    return ws.close_code


async def signed_in(ws: ClientConnection, user: str = "331", tab: str = "0123456789ab") -> None:
    await ws.send(sign_in(user, f"web-{user}-{tab}"))
    async with asyncio.timeout(TIMEOUT):
        assert await ws.recv() == CONNACK_OK


async def test_one_address_holds_at_most_its_cap_of_websockets_counted_from_the_upgrade(
    fake_broker: FakeBroker,
) -> None:
    """Three WebSockets from 127.0.0.1 that never sign in already hold three slots; the
    fourth is refused 429. One closed frees its slot. Another client address behind a
    reverse proxy on loopback (X-Forwarded-For) has slots of its own."""
    face = proxy(fake_broker, max_per_address=3)
    await face.start()
    try:
        held = [await websocket(face).__aenter__() for _ in range(3)]
        assert face.sessions == 3 and face.by_address["127.0.0.1"] == 3
        with capture_logs() as logs:
            for _ in range(3):  # refused each time, logged once (a flood must not flood the log)
                with pytest.raises(InvalidStatus) as refused:
                    async with websocket(face):
                        pass
                assert refused.value.response.status_code == 429
                assert b"too many connections from your address" in refused.value.response.body
        assert [x["event"] for x in logs] == ["web.too_many_from_address"]
        async with websocket(face, **{"X-Forwarded-For": "10.1.1.1, 203.0.113.7"}) as other:
            await signed_in(other)
            assert face.by_address["203.0.113.7"] == 1
        await held.pop().close()
        await until(lambda: face.by_address["127.0.0.1"] == 2, "the closed slot was not freed")
        async with websocket(face) as again:
            await signed_in(again)
        for ws in held:
            await ws.close()
        await until(lambda: face.sessions == 0, "slots still held")
        assert not face.by_address
    finally:
        await face.stop()


async def test_sockets_that_have_not_signed_in_have_a_pool_of_their_own(
    fake_broker: FakeBroker,
) -> None:
    """Sockets that never sign in, from many addresses, fill only the sign-in pool (503
    beyond it); one that signed in leaves the pool and frees its place for the next."""
    face = proxy(fake_broker, max_signing_in=2)
    await face.start()
    try:
        idle = [
            await websocket(face, **{"X-Forwarded-For": f"203.0.113.{n}"}).__aenter__()
            for n in (1, 2)
        ]
        assert len(face.signing_in) == 2
        with pytest.raises(InvalidStatus) as refused:
            async with websocket(face, **{"X-Forwarded-For": "203.0.113.3"}):
                pass
        assert refused.value.response.status_code == 503
        assert b"too many sign-ins at once" in refused.value.response.body
        await idle[0].send(sign_in("331", "web-331-0123456789ab"))
        async with asyncio.timeout(TIMEOUT):
            assert await idle[0].recv() == CONNACK_OK  # signed in: out of the pool
        assert len(face.signing_in) == 1
        async with websocket(face, **{"X-Forwarded-For": "203.0.113.3"}) as next_one:
            await signed_in(next_one, "332")
        for ws in idle:
            await ws.close()
        await until(lambda: face.sessions == 0 and not face.signing_in, "slots still held")
    finally:
        await face.stop()


def test_the_client_address_is_the_peer_unless_a_reverse_proxy_on_loopback_names_it() -> None:
    xff = Headers([("X-Forwarded-For", "198.51.100.1, 203.0.113.7")])
    assert client_address(("127.0.0.1", 5000), xff) == "203.0.113.7"
    assert client_address(("::1", 5000, 0, 0), xff) == "203.0.113.7"
    assert client_address(("192.0.2.9", 5000), xff) == "192.0.2.9"  # not from our proxy
    assert client_address(("127.0.0.1", 5000), Headers()) == "127.0.0.1"
    bad = Headers([("X-Forwarded-For", "evil")])
    assert client_address(("127.0.0.1", 5000), bad) == "127.0.0.1"


async def test_a_websocket_that_does_not_sign_in_in_time_is_closed(
    fake_broker: FakeBroker,
) -> None:
    face = proxy(fake_broker, sign_in_timeout=0.01)
    await face.start()
    try:
        async with websocket(face) as idle:
            assert await closed_code(idle) == 1008
        await until(lambda: face.sessions == 0, "the slot of the closed WebSocket is held")
    finally:
        await face.stop()


async def test_the_deadline_closes_only_what_has_not_signed_in(fake_broker: FakeBroker) -> None:
    """The deadline (injected: it passes when the test says) closes the idle WebSocket and
    the one whose CONNECT the broker has not acknowledged; the signed-in one carries on."""
    expired = asyncio.Event()
    face = proxy(fake_broker, deadline=expired.wait)
    await face.start()
    try:
        async with websocket(face) as idle, websocket(face) as half, websocket(face) as user:
            await signed_in(user)
            await half.send(sign_in("332", "web-332-0123456789ab")[:5])  # never completed
            expired.set()
            assert await closed_code(idle) == 1008
            assert await closed_code(half) == 1008
            await user.send(b"still here")
            async with asyncio.timeout(TIMEOUT):
                assert await user.recv() == b"still here"
        await until(lambda: face.sessions == 0, "slots still held")
        assert fake_broker.connections == 1  # only the CONNECT that passed was carried
    finally:
        await face.stop()


@pytest.mark.parametrize(
    ("user", "client_id", "version"),
    [
        ("331", "cti-node1", 5),  # the node's old id: a takeover of the node
        ("331", "web-332-0123456789ab", 5),  # another account's tab
        ("331", "web-3311-0123456789ab", 5),
        ("a", "web-a-b-0123456789ab", 5),  # account a-b's tab, not a's
        ("331", "web-331-", 5),
        (None, "web--0123456789ab", 5),  # no user name: no id is its own
        ("331", "cti-node1", 4),  # MQTT 3.1.1: return code 2, identifier rejected
    ],
)
async def test_a_client_id_not_of_the_signing_in_account_is_refused(
    fake_broker: FakeBroker, user: str | None, client_id: str, version: int
) -> None:
    face = proxy(fake_broker)
    await face.start()
    try:
        async with websocket(face) as ws:
            await ws.send(sign_in(user, client_id, version))
            async with asyncio.timeout(TIMEOUT):
                reply = await ws.recv()
            assert reply == (b"\x20\x03\x00\x85\x00" if version == 5 else b"\x20\x02\x00\x02")
            assert await closed_code(ws) == 1008
        assert fake_broker.received == b""  # the broker never saw it
    finally:
        await face.stop()


async def test_a_first_packet_that_is_no_connect_is_refused(fake_broker: FakeBroker) -> None:
    face = proxy(fake_broker)
    await face.start()
    try:
        for first in [p.PINGREQ, b"\x00\x00", b"\x30\x02\x00\x00"]:  # PUBLISH first
            async with websocket(face) as ws:
                await ws.send(first)
                assert await closed_code(ws) == 1008
        assert fake_broker.received == b""
    finally:
        await face.stop()


async def raw_websocket(face: WebFace) -> socket.socket:
    """A WebSocket opened by hand on a socket with a small receive buffer, for a client that
    sends and never reads (the library's client reads for itself)."""
    host, port = face.address
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /mqtt HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: mqtt\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    async with asyncio.timeout(TIMEOUT):
        assert (await loop.sock_recv(sock, 4096)).startswith(b"HTTP/1.1 101")
    return sock


def masked_ping() -> bytes:
    payload, mask = b"x" * 125, os.urandom(4)
    return b"\x89\xfd" + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def test_a_client_that_sends_pings_and_reads_nothing_is_dropped(
    fake_broker: FakeBroker,
) -> None:
    """The library answers every ping with a pong whether or not the peer reads them: a
    client flooding pings (no sign-in needed) grew the server's write buffer by tens of MB a
    second until the keepalive gave up on it. Beyond MAX_WRITE_BUFFER it is dropped."""
    never = asyncio.Event()
    face = proxy(fake_broker, deadline=never.wait)
    await face.start()
    loop = asyncio.get_running_loop()
    sock = await raw_websocket(face)
    pings = masked_ping() * 1000

    async def flood() -> None:
        with contextlib.suppress(OSError):
            while True:
                await loop.sock_sendall(sock, pings)

    flooding = asyncio.create_task(flood())
    try:
        await until(lambda: face.sessions == 0, "a client reading nothing is still connected")
        assert all(
            c.transport.get_write_buffer_size() <= MAX_WRITE_BUFFER
            for c in face._server.connections  # type: ignore[union-attr]
        )
    finally:
        flooding.cancel()
        with contextlib.suppress(BaseException):
            await flooding
        sock.close()
        await face.stop()


def test_an_ipv6_client_is_counted_by_its_64_prefix() -> None:
    """An IPv6 client holds at least a /64 and picks any address in it at will: counted per
    address, one host could hold every slot of the proxy by cycling its addresses."""
    none = Headers()
    one = client_address(("2001:db8:1:2::5", 5000, 0, 0), none)
    assert one == client_address(("2001:db8:1:2:ffff:1:2:3", 5000, 0, 0), none)
    assert one == "2001:db8:1:2::/64"
    assert client_address(("2001:db8:1:3::5", 5000, 0, 0), none) != one
    xff = Headers([("X-Forwarded-For", "2001:db8:1:2:abcd::7")])
    assert client_address(("127.0.0.1", 5000), xff) == one
    # An IPv4 client seen through an IPv6 socket is its IPv4 address (and loopback is loopback).
    assert client_address(("::ffff:192.0.2.9", 5000, 0, 0), none) == "192.0.2.9"
    mapped = Headers([("X-Forwarded-For", "203.0.113.7")])
    assert client_address(("::ffff:127.0.0.1", 5000, 0, 0), mapped) == "203.0.113.7"


def test_forwarded_for_is_read_only_from_the_configured_proxies() -> None:
    """`--web-trusted-proxy`: the header counts from those peers only; loopback (the default)
    is then a client like any other, whatever it writes into the header."""
    xff = Headers([("X-Forwarded-For", "198.51.100.1, 203.0.113.7")])
    lb = (ip_network("10.0.0.5/32"),)
    assert client_address(("10.0.0.5", 5000), xff, lb) == "203.0.113.7"
    assert client_address(("::ffff:10.0.0.5", 5000, 0, 0), xff, lb) == "203.0.113.7"
    assert client_address(("127.0.0.1", 5000), xff, lb) == "127.0.0.1"  # not configured
    assert client_address(("10.0.0.6", 5000), xff, lb) == "10.0.0.6"
    assert client_address(("127.0.0.1", 5000), xff, ()) == "127.0.0.1"  # none trusted
    pool = (ip_network("10.0.0.0/29"),)
    assert client_address(("10.0.0.6", 5000), xff, pool) == "203.0.113.7"
    # A chain (a load balancer, then the proxy): each appended the address it got the request
    # from; the client is the first from the right that is no trusted proxy.
    chain = Headers([("X-Forwarded-For", "6.6.6.6, 203.0.113.7, 10.0.0.6")])
    assert client_address(("10.0.0.5", 5000), chain, pool) == "203.0.113.7"
    assert client_address(("10.0.0.5", 5000), chain, lb) == "10.0.0.6"  # 10.0.0.6 not trusted
    spoofed = Headers([("X-Forwarded-For", "evil, 10.0.0.6")])  # what is left is not a proxy's
    assert client_address(("10.0.0.5", 5000), spoofed, pool) == "10.0.0.6"


async def test_a_peer_not_configured_as_proxy_is_counted_as_itself(
    fake_broker: FakeBroker,
) -> None:
    """With a proxy configured elsewhere, WebSockets from loopback naming other clients in
    X-Forwarded-For all count as 127.0.0.1: the second is refused at a cap of one."""
    face = proxy(fake_broker, max_per_address=1, trusted_proxies=(ip_network("10.0.0.5/32"),))
    await face.start()
    try:
        async with websocket(face, **{"X-Forwarded-For": "203.0.113.1"}) as first:
            assert face.by_address == {"127.0.0.1": 1}
            with pytest.raises(InvalidStatus) as refused:
                async with websocket(face, **{"X-Forwarded-For": "203.0.113.2"}):
                    pass
            assert refused.value.response.status_code == 429
            await signed_in(first)
    finally:
        await face.stop()


def test_several_forwarded_for_headers_the_last_one_is_the_reverse_proxys() -> None:
    """A reverse proxy that adds its own header (HAProxy's `option forwardfor`) beside the
    client's: the last entry of the last header, not a 500 from a lookup of several values."""
    headers = Headers([("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.7")])
    assert client_address(("127.0.0.1", 5000), headers) == "203.0.113.7"


async def test_a_text_frame_closes_the_websocket(fake_broker: FakeBroker) -> None:
    """MQTT over WebSockets is binary ([MQTT-6.0.0-1]: the server closes on any other frame);
    text went on to the broker as its UTF-8, signed in or not."""
    face = proxy(fake_broker)
    await face.start()
    try:
        async with websocket(face) as ws:
            await signed_in(ws)
            await ws.send("\x30\x05\x00\x01a{}")  # a PUBLISH, as text
            assert await closed_code(ws) == 1003
        assert fake_broker.received == sign_in("331", "web-331-0123456789ab")
    finally:
        await face.stop()


async def test_the_broker_is_dialled_only_for_a_connect_that_passed(
    fake_broker: FakeBroker,
) -> None:
    """An unauthenticated socket costs no broker connection: the proxy dials only once the
    browser's first packet is a complete CONNECT with a client id of its own. Each of these
    sockets was closed without one; the proxy dialled the broker for none of them (it used to
    dial at the upgrade, before reading a byte)."""
    expired = asyncio.Event()
    face = proxy(fake_broker, deadline=expired.wait)
    await face.start()
    try:
        async with websocket(face) as idle, websocket(face) as half, websocket(face) as user:
            await half.send(sign_in("331", "web-331-0123456789ab")[:9])  # never completed
            for first, code in (
                (sign_in("331", "web-332-0123456789ab"), 1008),  # another account's client id
                (p.PINGREQ, 1008),  # not a CONNECT
                ("\x10\x00", 1003),  # a text frame
            ):
                async with websocket(face) as ws:
                    await ws.send(first)
                    assert await closed_code(ws) == code
            assert fake_broker.connections == 0
            await signed_in(user)  # the one CONNECT that passes: dialled
            expired.set()  # the sign-in deadline closes the two that never finished
            assert await closed_code(idle) == 1008
            assert await closed_code(half) == 1008
        await until(lambda: face.sessions == 0, "slots still held")
        assert fake_broker.connections == 1
        assert fake_broker.received == sign_in("331", "web-331-0123456789ab")
    finally:
        await face.stop()


async def test_a_websocket_gone_during_the_dial_costs_the_broker_no_sign_in(
    tmp_path: Path,
) -> None:
    """USER-01: a browser that closes its WebSocket while the proxy dials the broker must not
    have its CONNECT (the password) carried to the broker: a password check for nobody.

    The broker leg is TLS, as to the embedded broker's TLS listener that a web client on
    loopback dials; the dial lasts until the broker answers the TLS handshake. This broker (a
    real TCP and TLS server on a free loopback port) holds its answer until the browser has
    gone, then completes the handshake and keeps what it gets: nothing, the connection closed
    (the proxy used to write the CONNECT all the same)."""
    files = certs.ensure(tmp_path / "tls", "node1")
    broker_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    broker_tls.load_cert_chain(files.cert, files.key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    loop = asyncio.get_running_loop()
    upstream = Upstream("127.0.0.1", listener.getsockname()[1], ca=files.ca)
    face = WebFace("127.0.0.1", 0, "node1", [upstream], secure=True)
    await face.start()
    transport: asyncio.BaseTransport | None = None
    try:
        with capture_logs() as logs:
            async with websocket(face) as ws:
                await ws.send(sign_in("331", "web-331-0123456789ab"))
                async with asyncio.timeout(TIMEOUT):  # dialled: its TLS handshake waits
                    dialled, _ = await loop.sock_accept(listener)
            await until(lambda: face.sessions == 0, "the closed WebSocket is still counted")
            reader = asyncio.StreamReader()
            async with asyncio.timeout(TIMEOUT):
                transport, _ = await loop.connect_accepted_socket(
                    lambda: asyncio.StreamReaderProtocol(reader), dialled, ssl=broker_tls
                )
                received = await reader.read()  # until the proxy closes the connection
        assert received == b""
        assert "web.closed_during_dial" in [x["event"] for x in logs]
    finally:
        if transport is not None:
            transport.close()
        listener.close()
        await face.stop()


async def test_a_real_broker_sees_no_connection_from_sockets_that_never_signed_in(
    mosquitto: Mosquitto,
) -> None:
    """Against a real mosquitto: sockets that stay silent, send half a CONNECT, another
    account's client id, a PINGREQ or a text frame are closed by the proxy, and the broker's
    own log shows that it was never connected to for them; the one that signs in is its only
    connection."""
    expired = asyncio.Event()
    face = WebFace(
        "127.0.0.1",
        0,
        "node1",
        [Upstream(mosquitto.host, mosquitto.port)],
        secure=False,
        deadline=expired.wait,
    )
    await face.start()

    def accepted() -> list[str]:
        return [x for x in mosquitto.log.read_text().splitlines() if "New connection from" in x]

    try:
        # Mosquitto.start's check that it listens was a connection of its own.
        await until(lambda: len(accepted()) == 1, "mosquitto did not log the start's probe")
        async with websocket(face) as idle, websocket(face) as half, websocket(face) as user:
            await half.send(sign_in("331", "web-331-0123456789ab")[:9])
            for first, code in (
                (sign_in("331", "cti-node1"), 1008),
                (p.PINGREQ, 1008),
                ("\x10\x00", 1003),  # a text frame
            ):
                async with websocket(face) as ws:
                    await ws.send(first)
                    assert await closed_code(ws) == code
            await user.send(sign_in("331", "web-331-0123456789ab"))
            async with asyncio.timeout(TIMEOUT):
                connack = await user.recv()
            assert connack[:1] == b"\x20" and connack[3] == 0  # a CONNACK, reason 0: accepted
            # mosquitto logs an accepted connection before its CONNECT is read: once the
            # signed-in one's line is there, any earlier one's would be too.
            await until(
                lambda: "as web-331-0123456789ab" in mosquitto.log.read_text(),
                "mosquitto did not log the signed-in client",
            )
            expired.set()  # the deadline closes the two that never finished their CONNECT
            assert await closed_code(idle) == 1008
            assert await closed_code(half) == 1008
        assert len(accepted()) == 2, accepted()  # the probe and the signed-in WebSocket
        await until(lambda: face.sessions == 0, "slots still held")
    finally:
        await face.stop()


async def test_before_the_sign_in_a_message_may_hold_a_connect_only(
    fake_broker: FakeBroker,
) -> None:
    """Until the broker accepted the sign-in, a message above 64 KiB closes the WebSocket
    (1009, too big) before the library has assembled it: 200 sockets signing in cannot hold
    2 MiB each. Signed in, a message of 1 MiB (a contacts file part) goes through."""
    face = proxy(fake_broker)
    await face.start()
    try:
        async with websocket(face) as ws:
            await ws.send(b"\x10" + bytes(100 * 1024))
            assert await closed_code(ws) == 1009
        assert fake_broker.connections == 0
        async with websocket(face) as ws:
            await ws.send(sign_in("331", "web-331-0123456789ab"))
            async with asyncio.timeout(TIMEOUT):
                assert await ws.recv() == CONNACK_OK
            big = bytes(range(256)) * 4096
            await ws.send(big)
            received = b""
            async with asyncio.timeout(TIMEOUT):
                while len(received) < len(big):
                    message = await ws.recv()
                    assert isinstance(message, bytes)
                    received += message
            assert received == big
    finally:
        await face.stop()
