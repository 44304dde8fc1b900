"""Lifecycle of the CSTA link: nothing is left behind by a stop, a failed start, a failed
socket option, an association that never completes or a refused monitorStart."""

from __future__ import annotations

import asyncio
import socket
import types

import pytest

from cti.app.config import CstaSettings
from cti.csta.client import AssociationRefused, CstaClient
from cti.csta.codec.errors import CodecError
from cti.csta.codec.framing import encode_frame
from cti.csta.link import server as server_module
from cti.csta.link.server import CstaServer, UnsafeSettings
from cti.csta.link.session import Session
from cti.tools.csta import Failed, _monitor
from tests.csta.conftest import TIMEOUT, Link, Raw


async def test_stop_ends_the_report_follower(link: Link) -> None:
    server = link.server
    assert server.reports.running
    await server.stop()
    assert not server.reports.running


async def test_failed_start_leaves_no_follower(link: Link) -> None:
    settings = CstaSettings(password="secret", host="127.0.0.1", port=link.port)
    second = CstaServer(link.engine, settings)
    with pytest.raises(OSError):
        await second.start()
    assert not second.reports.running


async def test_socket_option_failure_closes_the_connection(
    link: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = types.SimpleNamespace(
        IPPROTO_TCP=socket.IPPROTO_TCP,
        TCP_NODELAY=0x7FFF,  # no such option: setsockopt raises OSError
        SOL_SOCKET=socket.SOL_SOCKET,
        SO_SNDBUF=socket.SO_SNDBUF,
    )
    monkeypatch.setattr(server_module, "socket", broken)
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: unhandled.append(context))
    try:
        raw = await Raw.connect(link.port)
        assert await raw.eof() == []
        assert not link.server.sessions
        await asyncio.sleep(0)  # let a done-callback of the accept task report, if any
    finally:
        loop.set_exception_handler(None)
    assert unhandled == []  # handled by the server (writer closed), not left to asyncio


async def test_stop_cancels_and_awaits_stuck_sessions(
    link: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered = asyncio.Event()

    async def stuck(self: Session) -> None:
        entered.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(Session, "run", stuck)
    raw = await Raw.connect(link.port)
    await asyncio.wait_for(entered.wait(), TIMEOUT)
    tasks = list(link.server._tasks)
    assert tasks
    await link.server.stop(timeout=0.05)
    assert all(task.done() for task in tasks)
    raw.close()


async def _silent_server(answer: bytes | None) -> tuple[asyncio.Server, list[asyncio.StreamWriter]]:
    writers: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(1)
        if answer is not None:
            writer.write(answer)

    return await asyncio.start_server(accept, "127.0.0.1", 0), writers


@pytest.mark.parametrize(
    ("answer", "error"),
    [(None, TimeoutError), (encode_frame(b"\x61\x03\x01\x02\x03"), CodecError)],
)
async def test_client_associate_failure_closes_the_socket(
    answer: bytes | None, error: type[Exception]
) -> None:
    server, writers = await _silent_server(answer)
    port = server.sockets[0].getsockname()[1]
    client = CstaClient("127.0.0.1", port, timeout=0.1 if answer is None else TIMEOUT)
    with pytest.raises(error):
        await client.associate()
    assert client._writer is not None and client._writer.is_closing()
    assert client.closed.is_set()
    server.close()
    for writer in writers:
        writer.close()


async def test_client_refused_association_closes(link: Link) -> None:
    client = link.client(password="wrong")
    with pytest.raises(AssociationRefused):
        await client.associate()
    assert client._writer is not None and client._writer.is_closing()


async def test_cli_monitor_closes_the_client_when_monitor_start_fails(link: Link) -> None:
    client = link.client()
    with pytest.raises(Failed, match="the switch refused monitorStart 999: invalidMonitorObject"):
        await _monitor(client, ["999"])
    assert client.closed.is_set()
    assert client._writer is not None and client._writer.is_closing()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "pbx.example", ""])
async def test_default_password_is_refused_off_loopback(link: Link, host: str) -> None:
    settings = CstaSettings(host=host, port=0)  # password: the default "cti"
    server = CstaServer(link.engine, settings)
    with pytest.raises(UnsafeSettings):
        await server.start()
    assert not server.reports.running


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost"])
async def test_default_password_is_fine_on_loopback(link: Link, host: str) -> None:
    server = CstaServer(link.engine, CstaSettings(host=host, port=0))
    await server.start()
    await server.stop()


async def test_empty_host_is_refused_whatever_the_password(link: Link) -> None:
    server = CstaServer(link.engine, CstaSettings(password="secret", host="", port=0))
    with pytest.raises(UnsafeSettings):
        await server.start()
