"""`cti csta`: a small CSTA application for integrators (specs/csta.md).

``cti csta monitor HOST:PORT DEVICE…`` associates, starts a monitor per device and prints one
line per event report until Ctrl-C, then releases the association; or until the switch has
ended every one of its monitors (monitorStop: the account may no longer monitor them), which
is a failure: one line, exit 1.
``cti csta call HOST:PORT FROM TO`` places a makeCall and prints the result.

Both sign in as the account named with ``--user``, its password in ``CTI_PASSWORD`` (or
``--password``, which ``ps`` shows), as every tool does; without ``--user``, as the ``[csta]``
section's user ``cti`` with ``--password`` or its default ``cti`` (CTI_PASSWORD, an account's,
is not sent to it). What goes wrong is one line in words on stderr: the refused step and the
CSTA error name, never a class name. Exit codes as `cti request`'s for the same failures: 3
no link, or the association refused; 1 a step refused, every monitor ended by the switch, or
the link lost after the association (an ABRT included, its reason in words); 2 a wrong
argument.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from cti.mqtt.client.endpoint import PASSWORD_ENV, add_password, password_of

if TYPE_CHECKING:  # the codec (pyasn1) loads only when a csta command runs, not for `cti -h`
    from cti.csta.client import CstaClient, EventReport
    from cti.csta.codec.framing import Style

T = TypeVar("T")

DEFAULT_USER = "cti"  # the [csta] section's defaults (specs/site.md): loopback only
DEFAULT_PASSWORD = "cti"
TIMEOUT = 10.0  # seconds the switch has to answer each step

# Event fields worth a column, in this order, and how they are labelled.
KEY_FIELDS = (
    ("callingDevice", "calling"),
    ("calledDevice", "called"),
    ("alertingDevice", "alerting"),
    ("answeringDevice", "answering"),
    ("initiatingDevice", "initiating"),
    ("holdingDevice", "holding"),
    ("retrievingDevice", "retrieving"),
    ("releasingDevice", "releasing"),
    ("failingDevice", "failing"),
    ("divertingDevice", "diverting"),
    ("newDestination", "to"),
    ("transferringDevice", "transferring"),
    ("transferredToDevice", "transferredTo"),
    ("conferencingDevice", "conferencing"),
    ("addedParty", "added"),
    ("doNotDisturbOn", "dnd"),
    ("forwardingType", "type"),
    ("forwardStatus", "on"),
    ("forwardTo", "to"),
    ("localConnectionInfo", "state"),
)
CONNECTION_FIELDS = (
    "connection",
    "establishedConnection",
    "originatedConnection",
    "initiatedConnection",
    "heldConnection",
    "retrievedConnection",
    "droppedConnection",
    "failedConnection",
    "clearedCall",
    "primaryOldCall",
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    csta = sub.add_parser("csta", help="talk to a CSTA link (ECMA-285 over TCP) as an application")
    actions = csta.add_subparsers(dest="csta_command", required=True)
    monitor = actions.add_parser("monitor", help="monitor devices and print their event reports")
    monitor.add_argument("address", help="HOST:PORT of the CSTA link")
    monitor.add_argument("devices", nargs="+", help="device numbers to monitor")
    call = actions.add_parser("call", help="place a call (makeCall) and print the result")
    call.add_argument("address", help="HOST:PORT of the CSTA link")
    call.add_argument("calling", help="the calling device, e.g. 330")
    call.add_argument("called", help="the number to call, e.g. 331 or +4930123456")
    for p in (monitor, call):
        p.add_argument("--log-json", action="store_true", help="log JSON lines")
        p.add_argument(
            "--log-level",
            type=_log_level,
            default="warning",
            help="debug, info, warning, error or critical",
        )
        p.add_argument(
            "--user",
            default=None,
            help="an account of the node, its password in CTI_PASSWORD (default: the [csta]"
            f" section's user {DEFAULT_USER}, with --password or {DEFAULT_PASSWORD};"
            " CTI_PASSWORD is not read for it)",
        )
        add_password(p, otherwise=f"; for the [csta] user: --password, else {DEFAULT_PASSWORD}")
        p.add_argument(
            "--framing",
            choices=["siemens", "length2"],
            default="siemens",
            help="the link's framing, as the site's [csta] framing (default siemens; "
            "specs/site.md)",
        )


def _log_level(text: str) -> str:
    from cti.ops.environment import LOG_LEVELS, choice

    try:
        return choice(*LOG_LEVELS)(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError(f"address must look like HOST:PORT (port 1-65535), not {text!r}")
    return host or "127.0.0.1", int(port)


def credentials(
    user: str | None, given: str | None, env: Mapping[str, str] = os.environ
) -> tuple[str, str, str]:
    """Who signs in, the password and where it came from, in words. An account named with
    ``--user``: ``--password``, else ``CTI_PASSWORD`` (as every tool reads it), else
    ValueError (no guess the link would count as a failure). No ``--user``: the ``[csta]``
    section's default user, with ``--password`` or its default password; CTI_PASSWORD is
    left alone then (it holds an account's password, which that user never has: sent, it
    would only be refused and slow the link for the address)."""
    if user is None:
        if given is not None:
            return DEFAULT_USER, given, "given with --password"
        return DEFAULT_USER, DEFAULT_PASSWORD, f"the default {DEFAULT_PASSWORD}"
    password = password_of(given, env)
    if password is not None:
        source = "given with --password" if given is not None else f"from {PASSWORD_ENV}"
        return user, password, source
    raise ValueError(f"give the password of {user} in {PASSWORD_ENV}")


class Failed(Exception):
    """A step the switch refused or did not answer; the text says which and why, in words."""


def csta_error(branch: str, value: Any) -> str:
    """A universalFailure ``(branch, value)`` for people: the CSTA error name, its branch."""
    if isinstance(value, str):
        return f"{value} ({branch})"
    return branch if value is None else f"{branch} {value}"


async def _step(what: str, step: Awaitable[T]) -> T:
    """``step``'s result, or Failed saying what the switch did to ``what``."""
    from cti.csta.client import CstaRefused, CstaRejected

    try:
        return await step
    except CstaRefused as exc:
        raise Failed(f"the switch refused {what}: {csta_error(exc.branch, exc.value)}") from None
    except CstaRejected as exc:
        problem, detail = exc.problem
        raise Failed(f"the switch rejected {what}: {detail} ({problem} problem)") from None
    except TimeoutError:
        raise Failed(f"the switch did not answer {what} within {TIMEOUT:g} s") from None


def run_csta(args: argparse.Namespace) -> int:
    from cti.csta.client import AssociationRefused, CstaClient, CstaClientError

    try:
        host, port = parse_address(args.address)
        user, password, source = credentials(args.user, args.password)
    except ValueError as exc:
        print(f"cti csta: {exc}", file=sys.stderr)
        return 2
    framing: Style = args.framing  # argparse choices: siemens or length2
    client = CstaClient(host, port, user, password, framing, timeout=TIMEOUT)
    where = f"the CSTA link at {host}:{port}"
    # Exit codes as `cti request`'s for the same failures: 3 before the association (no
    # link there, or it refused the association: a wrong password), 1 after it (a step
    # refused, every monitor ended by the switch, or the link lost), 2 a wrong argument.
    try:
        if args.csta_command == "call":
            return asyncio.run(_call(client, args.calling, args.called))
        return asyncio.run(_monitor(client, args.devices))
    except AssociationRefused as exc:  # its text says why (a wrong password, say); never it
        print(f"cti csta: {exc}; user {user}, password {source}", file=sys.stderr)
        return 3
    except Failed as exc:
        print(f"cti csta: {exc}", file=sys.stderr)
        return 1
    except CstaClientError as exc:  # the link closed or aborted, ...: the client's words
        print(f"cti csta: {where}: {exc}", file=sys.stderr)
        return _lost(client)
    except TimeoutError:  # an OSError too: connecting, associating or releasing
        print(f"cti csta: {where} did not answer within {TIMEOUT:g} s", file=sys.stderr)
        return _lost(client)
    except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        # The switch hung up with our request unread: the kernel's reset, the same event as
        # a close seen first (which is LinkClosed).
        print(f"cti csta: {where}: connection closed by the switch", file=sys.stderr)
        return _lost(client)
    except OSError as exc:  # no link there: say where, in words
        from cti.tools.request import in_words

        print(f"cti csta: cannot reach {where}: {in_words(exc)}", file=sys.stderr)
        return _lost(client)


def _lost(client: CstaClient) -> int:
    """The exit code of a link that failed: 1 once associated (a request's connection lost,
    as `cti request`'s no reply), 3 before (no link to be had there, as its no broker)."""
    return 1 if client.associated else 3


async def _call(client: CstaClient, calling: str, called: str) -> int:
    from cti.csta.ids import device_id

    async with client:
        result = await _step(
            f"makeCall {calling} -> {called}",
            client.invoke(
                "makeCall",
                {"callingDevice": device_id(calling), "calledDirectoryNumber": device_id(called)},
            ),
        )
    call, device = _connection(result["callingDevice"])
    print(f"makeCall {calling} -> {called}: call {call} at {device}", flush=True)
    return 0


async def _monitor(client: CstaClient, devices: list[str]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await client.associate()
    try:
        return await _report_until_stopped(client, devices, stop)
    finally:
        await client.close()  # also when monitorStart is refused or the link fails


async def _report_until_stopped(client: CstaClient, devices: list[str], stop: asyncio.Event) -> int:
    from cti.csta.client import CstaClientError, LinkClosed

    where: dict[bytes, str] = {}
    for device in devices:
        where[await _step(f"monitorStart {device}", client.monitor_start(device))] = device
        print(f"monitoring {device}", flush=True)
    live = set(where)  # the monitors the switch has not ended
    stopper = asyncio.ensure_future(stop.wait())
    closed = asyncio.ensure_future(client.closed.wait())
    try:
        while live and not stop.is_set():
            # Reports already queued are printed before a close is heeded: a monitorStop
            # read just before the switch's ABRT is still said.
            if client.events.empty():
                getter = asyncio.ensure_future(client.events.get())
                await asyncio.wait([getter, stopper, closed], return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    break
                report = getter.result()
            else:
                report = client.events.get_nowait()
            print(format_report(report, where), flush=True)
            if report.ended:
                live.discard(report.xref)
    finally:
        stopper.cancel()
        closed.cancel()
    if not live:
        # Nothing is left to report: say so and end (exit 1, as a refused step) rather than
        # wait on a link that brings nothing more; released first, as after Ctrl-C.
        with contextlib.suppress(CstaClientError, OSError, TimeoutError):
            await client.release()
        raise Failed(
            f"the switch ended every monitor ({', '.join(dict.fromkeys(where.values()))}) with "
            "monitorStop: the account may no longer monitor them"
        )
    if client.closed.is_set():  # an ABRT (its reason), or the connection closed or reset
        raise LinkClosed(client.lost or "connection closed by the switch")
    await client.release()
    print("released", flush=True)
    return 0


def _device(value: Any) -> str:
    """The number in a SubjectDeviceID / DeviceID value, or the CHOICE name (restricted...)."""
    if isinstance(value, tuple):
        kind, inner = value
        return _device(inner) if isinstance(inner, dict) else kind
    if isinstance(value, dict) and "deviceIdentifier" in value:
        return str(value["deviceIdentifier"][1])
    return str(value)


def _connection(value: Any) -> tuple[str, str]:
    kind, body = value
    if kind == "callID":
        return body.decode(errors="replace"), ""
    if kind == "deviceID":
        return "", _device(body[1])
    return body["callID"].decode(errors="replace"), _device(body["deviceID"][1])


def format_report(report: EventReport, where: dict[bytes, str]) -> str:
    """One line: time (the event's, as the switch logged it; else the arrival), monitored
    device, event, cause, call, key fields."""
    value = report.value
    when = report.logged if report.logged is not None else report.received
    seconds, millis = divmod(round(when * 1000), 1000)
    stamp = time.strftime("%H:%M:%S", time.localtime(seconds))
    if report.ended:  # the switch's monitorStop: this account may no longer monitor it
        device = where.get(report.xref, report.xref.hex())
        return f"{stamp}.{millis:03d}  {device:<6}  monitorStop         ended by the switch"
    call = next((_connection(value[f])[0] for f in CONNECTION_FIELDS if f in value), "-")
    parts = [
        f"{stamp}.{millis:03d}",
        f"{where.get(report.xref, report.xref.hex()):<6}",
        f"{report.name:<18}",
        f"cause={value.get('cause', '-')}",
        f"call={call or '-'}",
    ]
    for field, label in KEY_FIELDS:
        if field in value:
            shown = value[field]
            if field.endswith(("Device", "Party", "Destination", "To")):
                shown = _device(shown)
            parts.append(f"{label}={shown}")
    return "  ".join(parts)
