"""`cti serve`: the engine with its SQLite log, the MQTT face, the CSTA link (specs/csta.md)
and (optionally) its own broker."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from urllib.parse import urlparse

import structlog
from rich.console import Console
from rich.markup import escape

from cti.api.documents import iso
from cti.app.clock import SystemClock
from cti.app.config import load_config
from cti.app.engine import Engine
from cti.app.node import Node
from cti.csta.link.server import CstaServer, UnsafeSettings
from cti.mqtt.broker import EmbeddedBroker
from cti.mqtt.face.service import MqttFace
from cti.site.model import PHONE_KINDS
from cti.store import SqliteStore

log = structlog.get_logger(__name__)


def parse_mqtt_url(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ValueError(f"--mqtt-url must look like mqtt://HOST:PORT, not {url!r}")
    return parsed.hostname, parsed.port or 1883


async def serve(
    site_path: Path | None,
    data_dir: Path,
    mqtt_url: str,
    broker_mode: str,
    broker_port: int,
    csta_port: int | None = None,
) -> int:
    console = Console(stderr=True, highlight=False)
    config = load_config(site_path)
    site = config.site
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"{site.node}.db"
    store = SqliteStore(path)
    reader = SqliteStore(path)  # the outbox's own connection: pages of the log, its position
    broker: EmbeddedBroker | None = None
    version = 5
    if broker_mode == "embedded":
        broker = EmbeddedBroker(broker_port)
        await broker.start()
        host, port, version = broker.host, broker.port, broker.version
    else:
        host, port = parse_mqtt_url(mqtt_url)
    clock = SystemClock()
    node = Node(site, store, clock)
    engine = Engine(node)
    await engine.start()
    face = MqttFace(engine, reader, host, port, version=version, started=iso(clock.now_ms()))
    runner = asyncio.create_task(face.run(), name="mqtt-face")
    try:
        await asyncio.wait_for(face.connected.wait(), 10)
    except TimeoutError:
        console.print(f"[yellow]broker {host}:{port} not reachable yet; retrying[/]")
    where = f"mqtt://{host}:{port}"
    csta: CstaServer | None = None
    csta_line = "  CSTA link    disabled (--csta-port 0)\n"
    if csta_port is None and config.csta.port == 0:
        csta_line = "  CSTA link    disabled (\\[csta] port = 0)\n"
    elif csta_port != 0:
        csta = CstaServer(engine, config.csta)
        try:
            await csta.start(csta_port)
        except UnsafeSettings as exc:
            console.print(f"[red]CSTA link refused to start: {escape(str(exc))}[/]")
            await _shutdown(face, runner, engine, store, reader, broker)
            return 1
        except OSError as exc:
            if csta_port is not None:  # asked for on the command line: a hard error
                console.print(f"[red]CSTA link: cannot listen on {config.csta.host}: {exc}[/]")
                await _shutdown(face, runner, engine, store, reader, broker)
                return 1
            # The site's default port is taken (say, a second node on this host): MQTT still
            # serves, the banner says why CSTA does not.
            csta = None
            csta_line = f"  CSTA link    NOT started: {exc} (use --csta-port)\n"
        if csta is not None:
            csta_host, csta_bound = csta.address
            csta_line = (
                f"  CSTA link    {csta_host}:{csta_bound} (ECMA-285 BER, {config.csta.framing} "
                f"framing, user {config.csta.user}; see specs/csta.md)\n"
            )
    phones = sorted(n for n, d in site.devices.items() if d.kind in PHONE_KINDS)
    a, b = [*phones, "330", "331"][:2]  # two phones of this site for the examples
    console.print(
        f"[bold green]cti[/] node [bold]{site.node}[/]: {len(site.devices)} devices, "
        f"log {path} at seq {node.state.seq}\n"
        f"  MQTT broker  {where}"
        + (f" (embedded {broker.kind}, MQTT {'5' if version == 5 else '3.1.1'})" if broker else "")
        + "\n"
        + csta_line
        + f"  watch        mosquitto_sub -h {host} -p {port} -v -t 'cti/#'\n"
        f"  requests     cti/{site.node}/requests/<service>  (see specs/mqtt.md)\n"
        f"  place a call cti request --mqtt-url {where} makeCall calling={a} called={b}\n"
        f"  phones       phone-sim --mqtt-url {where} console {a}   (or: load, run, phones)\n"
        "Ctrl-C stops.",
        soft_wrap=True,  # copyable commands, not wrapped at the terminal width
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    console.print("stopping ...")
    if csta is not None:
        await csta.stop()
    await _shutdown(face, runner, engine, store, reader, broker)
    console.print(f"stopped at seq {node.state.seq}")
    return 0


async def _shutdown(
    face: MqttFace,
    runner: asyncio.Task[None],
    engine: Engine,
    store: SqliteStore,
    reader: SqliteStore,
    broker: EmbeddedBroker | None,
) -> None:
    await face.stop()
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    await engine.stop()
    store.close()
    reader.close()
    if broker is not None:
        await broker.stop()
