"""The ``cti`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cti import log


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--site",
        type=Path,
        default=None,
        help="site configuration (TOML); default: the built-in example office",
    )
    p.add_argument("--log-json", action="store_true", help="log JSON lines instead of console text")
    p.add_argument("--log-level", default="warning", help="debug, info, warning or error")


def _data_dir(p: argparse.ArgumentParser, default: str = "data") -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(default),
        help=f"where the SQLite event log <node>.db lives (default: ./{default})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cti", description="Event-sourced CSTA call-control middleware."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="run a scripted office day through the engine and print the event stream"
    )
    _common(demo)
    _data_dir(demo, "data/demo")  # never the log `cti serve` writes
    demo.add_argument("--memory", action="store_true", help="keep the log in memory only")
    serve = sub.add_parser(
        "serve", help="run the engine with its SQLite log and the MQTT face (specs/mqtt.md)"
    )
    _common(serve)
    _data_dir(serve)
    serve.add_argument(
        "--mqtt-url",
        default="mqtt://127.0.0.1:1883",
        help="broker to use with --broker external (default mqtt://127.0.0.1:1883)",
    )
    serve.add_argument(
        "--broker",
        choices=["embedded", "external"],
        default="external",
        help="embedded: start our own broker (a mosquitto child; mosquitto must be installed)",
    )
    serve.add_argument(
        "--broker-port",
        type=int,
        default=1883,
        help="port for the embedded broker; a busy port is an error; 0: any free port",
    )
    serve.add_argument(
        "--tls-port",
        type=int,
        default=8883,
        help="TLS listener of the embedded broker (a busy port is an error); 0: none",
    )
    serve.add_argument("--tls-cert", type=Path, default=None, help="your certificate (PEM)")
    serve.add_argument("--tls-key", type=Path, default=None, help="its private key (PEM)")
    serve.add_argument("--tls-ca", type=Path, default=None, help="the CA clients verify it with")
    serve.add_argument(
        "--broker-files",
        type=Path,
        default=None,
        help="with your own broker: keep its password and ACL files here (specs/security.md)",
    )
    serve.add_argument(
        "--csta-port",
        type=int,
        default=None,
        help="TCP port of the CSTA link (default: [csta] port of the site, 8800); 0 disables it",
    )
    from cti.tools.broker_config import add_parser as add_broker_config_parser
    from cti.tools.calls import add_parser as add_calls_parser
    from cti.tools.csta import add_parser as add_csta_parser
    from cti.tools.users import add_parser as add_users_parser

    add_csta_parser(sub)
    add_calls_parser(sub)
    add_users_parser(sub)
    add_broker_config_parser(sub)
    request = sub.add_parser(
        "request", help="send one request to a running node over MQTT and print the reply"
    )
    _common(request)
    from cti.mqtt.client import endpoint

    endpoint.add_arguments(request)
    request.add_argument("--node", default="node1")
    request.add_argument("service", help="e.g. makeCall, answerCall, snapshotDevice, replay")
    request.add_argument("fields", nargs="*", help="key=value (numbers and true/false typed)")
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
    from cti.mqtt.certs import CertFiles

    return CertFiles(ca=args.tls_ca, cert=args.tls_cert, key=args.tls_key)


class CliError(Exception):
    """A mistake on the command line: one line, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log.configure(
        json=getattr(args, "log_json", False), level=getattr(args, "log_level", "warning")
    )
    from cti.site import SiteError
    from cti.store import StoreError

    try:
        return _run(args)
    except (StoreError, SiteError) as exc:  # the user's to fix: one line, no traceback
        print(f"cti {args.command}: {exc}", file=sys.stderr)
        return 1
    except CliError as exc:
        print(f"cti {args.command}: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from cti.tools.demo import run_demo

        return run_demo(args.site, None if args.memory else args.data_dir)
    if args.command == "serve":
        import asyncio

        from cti.app.bootstrap import ServeOptions
        from cti.tools.serve import serve

        options = ServeOptions(
            site=args.site,
            data_dir=args.data_dir,
            broker=args.broker,
            mqtt_url=args.mqtt_url,
            broker_port=args.broker_port,
            tls_port=args.tls_port,
            tls=_tls_files(args),
            broker_files=args.broker_files,
            csta_port=args.csta_port,
        )
        return asyncio.run(serve(options))
    if args.command == "request":
        import asyncio

        from cti.tools.request import request

        return asyncio.run(request(args, args.node, args.service, args.fields))
    if args.command == "broker-config":
        from cti.tools.broker_config import run_broker_config

        return run_broker_config(args)
    if args.command == "users":
        from cti.tools.users import run_users

        return run_users(args)
    if args.command == "csta":
        from cti.tools.csta import run_csta

        return run_csta(args)
    if args.command == "calls":
        from cti.tools.calls import run_calls

        return run_calls(args)
    if args.command == "replay":
        from cti.tools.replay import run_replay

        return run_replay(args.site, args.data_dir, args.archive)
    if args.command == "archive":
        from cti.tools.archive import run_archive

        if args.keep < 0:
            raise CliError("--keep must be 0 or more")
        return run_archive(
            args.site, args.data_dir, keep=args.keep, to=args.archive_to, verify=args.verify
        )
    return 2


if __name__ == "__main__":
    sys.exit(main())
