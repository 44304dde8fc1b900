"""The web face without a browser (cti/web/face.py, specs/web.md): the page and its headers,
the same-origin rule, and the WebSocket carried byte for byte to the broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from cti.mqtt.broker import free_port
from cti.web.face import Upstream, WebFace, is_loopback


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
    packet = bytes(range(256)) * 10  # binary, as MQTT is
    async with connect(
        f"ws://{host}:{port}/mqtt",
        subprotocols=["mqtt"],  # type: ignore[list-item]
        origin=f"http://{host}:{port}",  # type: ignore[arg-type]
    ) as ws:
        assert ws.subprotocol == "mqtt"
        await ws.send(packet)
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
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        assert ws.close_code == 1013
    finally:
        await web.stop()


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
