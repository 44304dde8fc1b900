"""Fixtures of the CSTA link tests: an in-process node (memory log, manual clock) with its
engine and the CSTA server on a free loopback port, and clients connected to it.

Nothing sleeps for timing: waits are for conditions (a frame, an event, EOF) with a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import attrs
import pytest

from cti.app.clock import ManualClock
from cti.app.config import CstaSettings, load_site
from cti.app.engine import Engine
from cti.app.node import Committed, Node, decode
from cti.csta import codec
from cti.csta.client import CstaClient, EventReport
from cti.csta.codec.framing import FrameDecoder, Style, encode_frame
from cti.csta.ids import device_id
from cti.csta.link.server import CstaServer, Limits
from cti.site import Site
from cti.store import MemoryStore

TIMEOUT = 5.0
SETTINGS = CstaSettings(user="cti", password="secret", host="127.0.0.1", port=0)


@attrs.define
class Link:
    clock: ManualClock
    node: Node
    engine: Engine
    server: CstaServer

    @property
    def committed(self) -> list[Committed]:
        """Every event the node committed so far, in order (read from its log)."""
        return [decode(r) for r in self.node.store.read(1)]

    @property
    def port(self) -> int:
        return self.server.address[1]

    def client(self, **kw: Any) -> CstaClient:
        kw.setdefault("password", SETTINGS.password)
        kw.setdefault("timeout", TIMEOUT)
        return CstaClient("127.0.0.1", self.port, **kw)


@asynccontextmanager
async def running_link(
    limits: Limits | None = None, settings: CstaSettings = SETTINGS, site: Site | None = None
) -> AsyncIterator[Link]:
    """``site``: another than the example office."""
    clock = ManualClock()
    node = Node(site or load_site(), MemoryStore(), clock)
    engine = Engine(node)
    await engine.start()
    server = CstaServer(engine, settings, limits)
    await server.start()
    try:
        yield Link(clock, node, engine, server)
    finally:
        await server.stop()
        await engine.stop()


@pytest.fixture
async def link() -> AsyncIterator[Link]:
    async with running_link() as running:
        yield running


LinkFactory = Callable[..., AbstractAsyncContextManager[Link]]


@pytest.fixture
def make_link() -> LinkFactory:
    return running_link


@pytest.fixture
async def app(link: Link) -> AsyncIterator[CstaClient]:
    """An associated client that has answered the switch's systemStatus."""
    client = link.client()
    await client.associate()
    await asyncio.wait_for(client.system_status.wait(), TIMEOUT)
    try:
        yield client
    finally:
        await client.close()


class Raw:
    """A bare TCP peer for protocol tests: send bytes, read whole frames, see EOF."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, style: Style):
        self.reader, self.writer = reader, writer
        self.decoder = FrameDecoder(style)
        self.style = style
        self.frames: list[bytes] = []

    @classmethod
    async def connect(cls, port: int, style: Style = "siemens") -> Raw:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, style)

    def send(self, payload: bytes) -> None:
        self.writer.write(encode_frame(payload, self.style))

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    async def frame(self, timeout: float = TIMEOUT) -> bytes:
        """The next frame; AssertionError on EOF."""
        while not self.frames:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            assert data, "connection closed"
            self.frames += self.decoder.feed(data)
        return self.frames.pop(0)

    async def eof(self, timeout: float = TIMEOUT) -> list[bytes]:
        """Wait for the server to close; the frames received before."""
        while True:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                frames, self.frames = self.frames, []
                return frames
            self.frames += self.decoder.feed(data)

    async def associate(self, password: str = SETTINGS.password, user: str = "cti") -> None:
        self.send(codec.encode_acse(codec.aarq(user, password)))
        kind, body = codec.decode_acse(await self.frame())
        assert (kind, body["result"]) == ("aare", 0)
        status = codec.decode_rose(await self.frame())
        assert isinstance(status, codec.Invoke) and status.opcode == "systemStatus"
        self.send(
            codec.encode_rose(
                codec.ReturnResult(status.invoke_id, "systemStatus", ("noData", None))
            )
        )

    async def rose(self) -> codec.RosePdu:
        return codec.decode_rose(await self.frame())

    def close(self) -> None:
        self.writer.close()


async def assert_serving(link: Link) -> None:
    """A fresh application can still associate and get answers."""
    async with link.client() as other:
        result = await other.invoke("snapshotDevice", {"snapshotObject": device_id("330")})
        assert result["crossRefIDorSnapshotData"][0] == "snapshotData"


async def events_until(
    client: CstaClient, done: Callable[[list[EventReport]], bool], timeout: float = TIMEOUT
) -> list[EventReport]:
    """Collect reports until ``done(collected)``."""
    got: list[EventReport] = []
    while not done(got):
        got.append(await client.next_event(timeout))
    return got


async def drain(client: CstaClient, count: int) -> list[EventReport]:
    return await events_until(client, lambda got: len(got) >= count)


SNAPSHOT_330 = {"snapshotObject": device_id("330")}


def abrt_of(frame: bytes) -> dict[str, Any]:
    """The body of an ABRT frame (fails the test if it is anything else)."""
    kind, body = codec.decode_acse(frame)
    assert kind == "abrt"
    return body


async def associated(link: Link) -> Raw:
    """A raw connection that has completed the association."""
    raw = await Raw.connect(link.port)
    await raw.associate()
    return raw
