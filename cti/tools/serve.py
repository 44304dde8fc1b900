"""`cti serve`: start the node (cti.app.bootstrap), print where it serves, stop on a signal."""

from __future__ import annotations

import asyncio
import signal
import sys

from rich.console import Console
from rich.markup import escape

from cti.app.bootstrap import Running, ServeOptions, StartupError, start
from cti.site import PHONE_KINDS


async def serve(options: ServeOptions) -> int:
    console = Console(stderr=True, highlight=False)
    try:
        running = await start(options)
    except StartupError as exc:
        console.print(f"[red]cti serve: {escape(str(exc))}[/]")
        return 1
    console.print(banner(running), soft_wrap=True)  # copyable commands, not wrapped
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    failed = running.engine.failed
    assert failed is not None
    signalled: asyncio.Future[object] = asyncio.ensure_future(stop.wait())
    ended: asyncio.Future[object] = failed  # type: ignore[assignment]
    await asyncio.wait([signalled, ended], return_when=asyncio.FIRST_COMPLETED)
    signalled.cancel()
    console.print("stopping ...")
    await running.stop()
    if running.engine.failure is not None:  # never a half-alive node: exit for a restart
        console.print(f"[red]cti serve: the node failed: {running.engine.failure!r}[/]")
        return 1
    console.print(f"stopped at seq {running.node.state.seq}")
    return 0


def banner(running: Running) -> str:
    site, mqtt, broker = running.config.site, running.mqtt, running.broker
    where = f"mqtt://{mqtt.host}:{mqtt.port}"
    phones = sorted(n for n, d in site.devices.items() if d.kind in PHONE_KINDS)
    a, b = [*phones, "330", "331"][:2]  # two phones of this site for the examples
    bindir = "" if sys.prefix == sys.base_prefix else f"{sys.prefix}/bin/"
    lines = [
        f"[bold green]cti[/] node [bold]{site.node}[/]: {len(site.devices)} devices, "
        f"log {running.log_path} at seq {running.node.state.seq}",
        f"  MQTT broker  {where}"
        + (
            f" (embedded {broker.kind}, MQTT {'5' if broker.version == 5 else '3.1.1'})"
            if broker
            else ""
        ),
    ]
    if running.csta is not None:
        host, port = running.csta.address
        csta = running.csta.settings
        lines.append(
            f"  CSTA link    {host}:{port} (ECMA-285 BER, {csta.framing} framing, "
            f"user {csta.user}; see specs/csta.md)"
        )
    lines += [f"  note         {escape(note)}" for note in running.notes]
    lines += [
        f"  watch        mosquitto_sub -h {mqtt.host} -p {mqtt.port} -v -t 'cti/#'",
        f"  requests     cti/{site.node}/requests/<service>  (see specs/mqtt.md)",
        f"  place a call {bindir}cti request --mqtt-url {where} makeCall calling={a} called={b}",
        f"  phones       {bindir}phone-sim --mqtt-url {where} console {a}"
        "   (or: load, run, phones)",
        "Ctrl-C stops.",
    ]
    return "\n".join(lines)
