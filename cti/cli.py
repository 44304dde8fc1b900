"""The ``cti`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cti import log
from cti.ops.environment import (
    LOG_LEVELS,
    SERVE,
    TOOLS,
    EnvError,
    add_store_option,
    checked,
    choice,
    count,
    host,
    mqtt_url,
    port,
    resolve,
    seconds,
)
from cti.ops.threshold import DiskThreshold
from cti.web.forwarded import trusted_proxies


def _common(p: argparse.ArgumentParser, *, env: bool = False) -> None:
    """``env``: the defaults come from CTI_... variables (cti serve): None here means "not
    given", and cti.ops.environment fills it in."""
    p.add_argument(
        "--site",
        type=Path,
        default=None,
        help="site configuration (TOML); default: the built-in example office"
        + (" [CTI_SITE]" if env else ""),
    )
    p.add_argument(
        "--log-json",
        action=argparse.BooleanOptionalAction,
        default=None if env else False,
        help="log JSON lines instead of console text" + (" [CTI_LOG_JSON]" if env else ""),
    )
    p.add_argument(
        "--log-level",
        type=checked(choice(*LOG_LEVELS)),
        default=None if env else "warning",
        help="debug, info, warning, error or critical" + (" [CTI_LOG_LEVEL]" if env else ""),
    )


def _data_dir(p: argparse.ArgumentParser, default: str = "data", *, store: bool = True) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(default),
        help=f"where the SQLite event log <node>.db lives (default: ./{default})",
    )
    if store:
        add_store_option(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cti", description="Event-sourced CSTA call-control middleware."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="run a scripted office day through the engine and print the event stream"
    )
    _common(demo)
    _data_dir(demo, "data/demo", store=False)  # never the log `cti serve` writes
    demo.add_argument("--memory", action="store_true", help="keep the log in memory only")
    serve = sub.add_parser(
        "serve",
        help="run the engine with its event log (SQLite or PostgreSQL), the MQTT face, the "
        "CSTA link and the web client",
        description="Every option may also be given as the environment variable in [brackets]; "
        "a flag wins over the environment, the environment over the default "
        "(specs/configuration.md).",
    )
    _common(serve, env=True)
    serve.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the SQLite event log <node>.db lives (default: ./data) [CTI_DATA_DIR]",
    )
    add_store_option(serve)
    serve.add_argument(
        "--standby",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="PostgreSQL log: if another process writes it, follow it as a hot standby and "
        "take over when its lock is free, instead of refusing to start (specs/store.md) "
        "[CTI_STANDBY]",
    )
    serve.add_argument(
        "--mqtt-url",
        type=checked(mqtt_url),
        default=None,
        help="broker to use with --broker external (default mqtt://127.0.0.1:1883); members of "
        "a broker cluster comma-separated, tried in turn [CTI_MQTT_URL]",
    )
    serve.add_argument(
        "--broker",
        choices=["embedded", "external"],
        default=None,
        help="embedded: start our own broker (a mosquitto child; mosquitto must be installed); "
        "default external [CTI_BROKER]",
    )
    serve.add_argument(
        "--broker-port",
        type=checked(port),
        default=None,
        help="port for the embedded broker (default 1883); a busy port is an error; "
        "0: any free port [CTI_BROKER_PORT]",
    )
    serve.add_argument(
        "--tls-port",
        type=checked(port),
        default=None,
        help="TLS listener of the embedded broker (default 8883; a busy port is an error); "
        "0: none [CTI_TLS_PORT]",
    )
    serve.add_argument(
        "--tls-cert", type=Path, default=None, help="your certificate (PEM) [CTI_TLS_CERT]"
    )
    serve.add_argument("--tls-key", type=Path, default=None, help="its private key [CTI_TLS_KEY]")
    serve.add_argument(
        "--tls-ca", type=Path, default=None, help="the CA clients verify it with [CTI_TLS_CA]"
    )
    serve.add_argument(
        "--broker-files",
        type=Path,
        default=None,
        help="with your own broker: keep its password and ACL files here (specs/security.md) "
        "[CTI_BROKER_FILES]",
    )
    serve.add_argument(
        "--shared-broker",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="several nodes share the broker and its --broker-files directory: this node's "
        "files go to nodes/NODE/ there and its accounts sign in as NAME@NODE "
        "(specs/security.md) [CTI_SHARED_BROKER]",
    )
    serve.add_argument(
        "--csta-port",
        type=checked(port),
        default=None,
        help="TCP port of the CSTA link (default: [csta] port of the site, 8800); 0 disables it "
        "[CTI_CSTA_PORT]",
    )
    serve.add_argument(
        "--http-host",
        type=checked(host),
        default=None,
        help="address of the operators' /healthz and /metrics (default 127.0.0.1: they have "
        "no sign-in) [CTI_HTTP_HOST]",
    )
    serve.add_argument(
        "--http-port",
        type=checked(port),
        default=None,
        help="port of /healthz and /metrics (default 9180); 0: none (specs/operations.md) "
        "[CTI_HTTP_PORT]",
    )
    serve.add_argument(
        "--web-host",
        type=checked(host),
        default=None,
        help="address of the web client (default 127.0.0.1; another one serves it over plain "
        "HTTP: put a TLS reverse proxy in front, specs/web.md) [CTI_WEB_HOST]",
    )
    serve.add_argument(
        "--web-port",
        type=checked(port),
        default=None,
        help="port of the web client (default 8180); 0: none (specs/web.md) [CTI_WEB_PORT]",
    )
    serve.add_argument(
        "--web-max-per-address",
        type=checked(count),
        default=None,
        help="WebSockets of the web client at once from one client address (default 20); "
        "0: no limit (specs/web.md) [CTI_WEB_MAX_PER_ADDRESS]",
    )
    serve.add_argument(
        "--web-sign-in-timeout",
        type=checked(seconds),
        default=None,
        help="seconds a web client's WebSocket has to sign in to the broker before it is "
        "closed (default 10) [CTI_WEB_SIGN_IN_TIMEOUT]",
    )
    serve.add_argument(
        "--web-trusted-proxy",
        type=checked(trusted_proxies, "address or network"),
        metavar="ADDR",
        action="append",
        default=None,
        help="a reverse proxy whose X-Forwarded-For names the web client's address: an "
        "address or network, comma-separated or repeated; 'loopback' (the default), or "
        "'none' (the header is never read) (specs/web.md) [CTI_WEB_TRUSTED_PROXY]",
    )
    serve.add_argument(
        "--disk-low",
        type=checked(DiskThreshold.parse),
        default=None,
        help="warn when the data directory's free space falls below this: 1GiB (default), "
        "500MB, 5%% [CTI_DISK_LOW]",
    )
    from cti.tools.broker_config import add_parser as add_broker_config_parser
    from cti.tools.calls import add_parser as add_calls_parser
    from cti.tools.csta import add_parser as add_csta_parser
    from cti.tools.devices import add_parser as add_devices_parser
    from cti.tools.trace import add_parser as add_trace_parser
    from cti.tools.users import add_parser as add_users_parser

    add_csta_parser(sub)
    add_calls_parser(sub)
    add_trace_parser(sub)
    add_users_parser(sub)
    add_devices_parser(sub)
    add_broker_config_parser(sub)
    request = sub.add_parser(
        "request", help="send one request to a running node over MQTT and print the reply"
    )
    _common(request)
    from cti.mqtt.client import endpoint

    endpoint.add_arguments(request)
    request.add_argument(
        "--node", default=None, help="the node's name (default: the --site file's, else node1)"
    )
    request.add_argument("service", help="e.g. makeCall, answerCall, snapshotDevice, replay")
    # A one-shot tool says what went wrong in its own one line; the MQTT client's warnings
    # (a refused publish ends the connection) would only repeat it (--log-level shows them).
    request.set_defaults(log_level="error")
    request.add_argument(
        "fields",
        nargs="*",
        help="key=value (numbers and true/false typed) or key:=JSON (a list or an object, "
        "groups:=[3,1])",
    )
    replay = sub.add_parser("replay", help="rebuild the state from a log and print a summary")
    _common(replay)
    _data_dir(replay)
    replay.add_argument(
        "--archive",
        type=Path,
        default=None,
        help="replay the archived events of this directory first (see cti archive)",
    )
    keep = sub.add_parser(
        "archive",
        help="retention: move all but the newest events of a stopped node's log to an archive",
    )
    _common(keep)
    _data_dir(keep)
    keep.add_argument(
        "--keep", type=int, default=1_000_000, help="events to keep in the log (default 1000000)"
    )
    keep.add_argument(
        "--to",
        dest="archive_to",
        type=Path,
        default=None,
        help="archive directory (default: DATA_DIR/archive)",
    )
    keep.add_argument(
        "--verify", action="store_true", help="only check the archives and the log against them"
    )
    return parser


def _tls_files(args: argparse.Namespace) -> Any:
    """The operator's certificate files, all three or none."""
    given = [args.tls_cert, args.tls_key, args.tls_ca]
    if not any(given):
        return None
    if not all(given):
        raise CliError("give --tls-cert, --tls-key and --tls-ca together")
    for flag, path in zip(("--tls-cert", "--tls-key", "--tls-ca"), given, strict=True):
        if not path.is_file():  # else mosquitto stops at start with an OpenSSL error code
            raise CliError(f"{flag} {path}: no such file")
    from cti.mqtt.certs import CertFiles

    return CertFiles(ca=args.tls_ca, cert=args.tls_cert, key=args.tls_key)


def _trusted_proxies(given: Any) -> Any:
    """The proxies of one or more ``--web-trusted-proxy`` flags (a list, one tuple each), or
    of the environment or the default (one tuple)."""
    if isinstance(given, tuple):
        return given
    if () in given and len(given) > 1:
        raise CliError("--web-trusted-proxy none stands alone: it trusts no proxy")
    return tuple(dict.fromkeys(network for networks in given for network in networks))


class CliError(Exception):
    """A mistake on the command line: one line, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    # What the node and the tools create (the data directory, the logs with their password
    # hashes, the read models, voicemail audio, archives) is never readable by every user of
    # the machine, whatever the umask: 0640 files, 0750 directories at most. A stricter
    # umask stays.
    os.umask(os.umask(0o027) | 0o027)
    args = build_parser().parse_args(argv)
    if args.command == "serve" or hasattr(args, "store"):
        try:
            # Flags given win; the rest from CTI_... variables, else the defaults.
            settings = resolve(vars(args), os.environ, SERVE if args.command == "serve" else TOOLS)
            vars(args).update(settings)
        except EnvError as exc:
            print(f"cti {args.command}: {exc}", file=sys.stderr)
            return 2
    log.configure(
        json=getattr(args, "log_json", False), level=getattr(args, "log_level", "warning")
    )
    from cti.site import SiteError
    from cti.store import StoreError

    try:
        return _run(args)
    except StoreError as exc:  # the user's to fix: one line, no traceback
        print(f"cti {args.command}: {exc}", file=sys.stderr)
        return 1
    except (SiteError, CliError) as exc:  # a wrong site file or flag: trying again cannot help
        print(f"cti {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path the user named (--data-dir, --out, ...): one line
        if exc.filename is None:  # no path: a fault to see whole (a traceback), no mistake
            raise
        print(f"cti {args.command}: {_os_error(exc)}", file=sys.stderr)
        return 1


def _os_error(exc: OSError) -> str:
    """``PATH: reason`` rather than ``[Errno 17] File exists: 'PATH'``."""
    if isinstance(exc, FileExistsError) and not Path(exc.filename).is_dir():
        return f"{exc.filename}: not a directory"  # mkdir(exist_ok=True) met a file
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from cti.tools.demo import run_demo

        return run_demo(args.site, None if args.memory else args.data_dir)
    if args.command == "serve":
        import asyncio

        from cti.app.bootstrap import ServeOptions
        from cti.store.location import is_postgres
        from cti.tools.serve import serve

        if args.standby and not is_postgres(args.store):  # a configuration error: exit 2
            raise CliError(
                "--standby needs a PostgreSQL log (--store postgresql://...): an SQLite log "
                "is a file of one machine"
            )

        options = ServeOptions(
            site=args.site,
            data_dir=args.data_dir,
            store=args.store,
            broker=args.broker,
            mqtt_url=args.mqtt_url,
            broker_port=args.broker_port,
            tls_port=args.tls_port,
            tls=_tls_files(args),
            broker_files=args.broker_files,
            shared_broker=args.shared_broker,
            csta_port=args.csta_port,
            http_host=args.http_host,
            http_port=args.http_port,
            web_host=args.web_host,
            web_port=args.web_port,
            web_max_per_address=args.web_max_per_address,
            web_sign_in_timeout=args.web_sign_in_timeout,
            web_trusted_proxies=_trusted_proxies(args.web_trusted_proxy),
            disk_low=args.disk_low,
            standby=args.standby,
        )
        return asyncio.run(serve(options))
    if args.command == "request":
        import asyncio

        from cti.tools.request import request

        node = args.node
        if node is None:  # --site names the node (a site file's node = "...")
            from cti.app.config import load_site

            node = load_site(args.site).node if args.site is not None else "node1"
        return asyncio.run(request(args, node, args.service, args.fields))
    if args.command == "broker-config":
        from cti.tools.broker_config import run_broker_config

        return run_broker_config(args)
    if args.command == "users":
        from cti.tools.users import run_users

        return run_users(args)
    if args.command == "devices":
        from cti.tools.devices import run_devices

        return run_devices(args)
    if args.command == "csta":
        from cti.tools.csta import run_csta

        return run_csta(args)
    if args.command == "calls":
        from cti.tools.calls import run_calls

        return run_calls(args)
    if args.command == "trace":
        from cti.tools.trace import run_trace

        return run_trace(args)
    if args.command == "replay":
        from cti.tools.replay import run_replay

        return run_replay(args.site, args.data_dir, args.archive, args.store)
    if args.command == "archive":
        from cti.tools.archive import run_archive

        if args.keep < 0:
            raise CliError("--keep must be 0 or more")
        return run_archive(
            args.site,
            args.data_dir,
            keep=args.keep,
            to=args.archive_to,
            verify=args.verify,
            where=args.store,
        )
    return 2


if __name__ == "__main__":
    sys.exit(main())
