"""`cti serve`: start the node (cti.app.bootstrap), print where it serves, stop on a signal."""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys

from rich.console import Console
from rich.markup import escape

from cti.accounts.model import Role
from cti.app.bootstrap import DemoUser, Running, ServeOptions, StartupError, start
from cti.app.clock import Clock
from cti.app.standby import Standby
from cti.site import PHONE_KINDS
from cti.store import StoreError, StoreLost

SIM_USER = "phone-sim"  # the account phone-sim signs in with unless told --user


async def serve(options: ServeOptions, clock: Clock | None = None) -> int:
    """Run the node until a signal (0) or until it cannot go on (1); ``clock``: tests'."""
    # Errors are one line each, never wrapped at the terminal's width: a journal or a pipe
    # keeps them whole (specs/architecture.md: a StartupError is one line).
    console = Console(stderr=True, highlight=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # a standby waits in start(): stop it too
        loop.add_signal_handler(sig, stop.set)
    signalled: asyncio.Future[object] = asyncio.ensure_future(stop.wait())
    starting = asyncio.ensure_future(
        start(options, clock, on_standby=lambda s: console.print(standby_banner(s), soft_wrap=True))
    )
    await asyncio.wait([signalled, starting], return_when=asyncio.FIRST_COMPLETED)  # type: ignore[type-var]
    if not starting.done():  # stopped while standing by
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        console.print("stopped (standby)")
        return 0
    try:
        running = starting.result()
    except StartupError as exc:
        signalled.cancel()
        console.print(f"[red]cti serve: {escape(str(exc))}[/]", soft_wrap=True)
        return 2 if exc.configuration else 1
    console.print(banner(running), soft_wrap=True)  # copyable commands, not wrapped
    failed = running.engine.failed
    assert failed is not None
    ended: asyncio.Future[object] = failed  # type: ignore[assignment]
    waits = [signalled, ended]
    if running.lease is not None:
        waits += [running.lease.fenced, running.lease.lost]  # type: ignore[list-item]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    signalled.cancel()
    fenced = await _fenced(running)
    if fenced is not None:
        # Another process writes the log now: say nothing as the node (no offline status,
        # which would be the new active's), write nothing, exit for the supervisor, whose
        # restart with --standby makes this process the new standby.
        running.mqtt.announce = False
        await running.stop()
        console.print(
            f"[red]cti serve: fenced: {escape(fenced)}; this process stops[/]", soft_wrap=True
        )
        return 1
    console.print("stopping ...")
    await running.stop()
    failure = failure_line(running)
    if failure is not None:  # never a half-alive node: exit for a restart
        # One line in words, the last one (the traceback is in the log, engine.failed).
        console.print(f"[red]cti serve: {escape(failure)}[/]", soft_wrap=True)
        return 1
    console.print(f"stopped at seq {running.node.state.seq}")
    return 0


def failure_line(running: Running) -> str | None:
    """Why the node stopped by itself, in words (after ``cti serve: ``); None if asked to."""
    lease, failure = running.lease, running.engine.failure
    if lease is not None and lease.lost.done():
        return f"lost its PostgreSQL log {lease.store.where}: {lease.lost.result()}"
    if isinstance(failure, StoreLost) and lease is not None:
        return f"lost its PostgreSQL log {lease.store.where}: {failure}"
    if isinstance(failure, StoreError):
        return f"the node failed: {failure}"
    if failure is not None:
        return f"the node failed: {type(failure).__name__}: {failure}"
    return None


async def _fenced(running: Running) -> str | None:
    """Why this writer lost its log, if it did (asked again after an engine failure: a
    lost session makes the writer fail before the watch notices)."""
    lease = running.lease
    if lease is None:
        return None
    if not lease.ended and running.engine.failure is not None:
        await lease.holds()
    return lease.fenced.result() if lease.fenced.done() else None


def standby_banner(standby: Standby) -> str:
    node = standby.node
    return (
        f"[bold yellow]cti[/] node [bold]{node.site.node}[/]: [bold]standby[/], log "
        f"{escape(standby.store.where)} (node {node.site.node}) at seq {node.state.seq}; "
        f"active writer {escape(standby.holder)} (term {standby.term}); following the log, "
        "takes over when its lock is free. Ctrl-C stops."
    )


def banner(running: Running) -> str:
    site, mqtt, broker = running.config.site, running.mqtt, running.broker
    where = f"mqtt://{mqtt.host}:{mqtt.port}"
    phones = sorted(n for n, d in site.devices.items() if d.kind in PHONE_KINDS)
    demo = {u.name: u for u in running.demo_users}
    people = [u for u in running.demo_users if u.name in phones]
    a, b = [*(u.name for u in people), *phones, "330", "331"][:2]  # two phones for examples
    # Who signs in for them: the phone's own account, else the integrator the site seeds
    # (the load site has no people, only phone-sim); placeholders where it seeds none.
    accounts = running.node.state.accounts
    integrators = sorted(
        name
        for name, account in accounts.accounts.items()
        if account.role == Role.INTEGRATOR and account.can_sign_in
    )
    sim = SIM_USER if SIM_USER in integrators else next(iter(integrators), None)
    you = a if accounts.account(a) is not None or sim is None else sim
    sim_user = {None: " --user <integrator>", SIM_USER: ""}.get(sim, f" --user {sim}")
    bindir = "" if sys.prefix == sys.base_prefix else f"{sys.prefix}/bin/"
    lines = [
        f"[bold green]cti[/] node [bold]{site.node}[/]: {len(site.devices)} devices, "
        f"log {escape(running.log_name)} at seq {running.node.state.seq}",
        f"  MQTT broker  {where}"
        + (
            f" (embedded {broker.kind}, MQTT {'5' if broker.version == 5 else '3.1.1'})"
            if broker
            else ""
        ),
    ]
    if broker is not None and broker.tls is not None:
        lines.append(
            f"  MQTT TLS     mqtts://{broker.tls.host}:{broker.tls.port} "
            f"(clients verify it with {broker.tls.files.ca})"
        )
    if running.csta is not None:
        host, port = running.csta.address
        csta = running.csta.settings
        lines.append(
            f"  CSTA link    {host}:{port} (ECMA-285 BER, {csta.framing} framing, "
            f"user {csta.user}; see specs/csta.md)"
        )
    if running.http is not None:
        host, port = running.http.address
        lines.append(
            f"  operations   http://{host}:{port}/healthz and /metrics (specs/operations.md)"
        )
    if running.web is not None:
        host, port = running.web.address
        lines.append(f"  web client   http://{host}:{port}/ (specs/web.md)")
    lines += [f"  note         {escape(note)}" for note in running.notes]
    if demo:
        lines.append("  demo users   " + " · ".join(_who(u) for u in running.demo_users))
    lines += [
        "  sign in      every client signs in; users see their own devices, everyone's lamps "
        "(specs/security.md)",
        f"  watch        mosquitto_sub -h {mqtt.host} -p {mqtt.port} -u {you} -P "
        f"{_secret(demo, you)} -v -t 'cti/{site.node}/lamps/+' -t 'cti/{site.node}/devices/{a}/#'",
        f"  requests     cti/{site.node}/users/<you>/requests/<service>  (see specs/mqtt.md)",
        f"  place a call CTI_PASSWORD={_secret(demo, you)} {bindir}cti request --mqtt-url {where} "
        f"--user {you} makeCall calling={a} called={b}",
        f"  phones       CTI_PASSWORD={_secret(demo, sim or SIM_USER)} {bindir}phone-sim "
        f"--mqtt-url {where}{sim_user} console {a}"
        "   (or: load, run, phones)",
        "Ctrl-C stops.",
    ]
    return "\n".join(lines)


def _who(user: DemoUser) -> str:
    role = "" if user.role == "user" else f" ({user.role})"
    return f"{user.name} {escape(user.password)}{role}"


def _secret(demo: dict[str, DemoUser], name: str) -> str:
    """A demo user's password, quoted for a shell; else a placeholder."""
    user = demo.get(name)
    return shlex.quote(user.password) if user is not None else "'<password>'"
