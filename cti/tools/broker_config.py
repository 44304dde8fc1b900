"""`cti broker-config`: the Mosquitto configuration for a node on the operator's own broker.

Writes into ``--out``: ``cti.conf`` (listeners, per-listener settings, file paths: include it
from mosquitto.conf), ``passwords``, ``acl.plain``, ``acl.tls`` and, unless the operator has
a certificate, ``tls/`` with a CA and a server certificate for ``--tls-name``s. The accounts
come from the node's log (read-only: the node may be running) or, for a node never started,
from the site file's ``[[users]]``. Start the node with ``--broker-files`` pointing at the
same directory: it keeps the files in step when accounts change (specs/security.md).
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cti.ops.environment import add_store_option, port

if TYPE_CHECKING:
    from cti.accounts.model import Account
    from cti.app.config import Config


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "broker-config", help="write the Mosquitto configuration for your own broker"
    )
    p.add_argument("--site", type=Path, default=None, help="site file (default: example)")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="the node's (./data)")
    add_store_option(p)
    p.add_argument("--out", type=Path, required=True, help="directory for the files")
    p.add_argument("--host", default="0.0.0.0", help="address the listeners bind (0.0.0.0)")
    p.add_argument("--port", type=_port(zero=False), default=1883, help="the plain listener (1883)")
    p.add_argument(
        "--tls-port", type=_port(zero=True), default=8883, help="8883; 0: no TLS listener"
    )
    p.add_argument(
        "--tls-name",
        action="append",
        default=None,
        help="a name clients reach the broker by (repeat; default: this host's names)",
    )
    p.add_argument("--tls-cert", type=Path, default=None, help="your certificate (PEM)")
    p.add_argument("--tls-key", type=Path, default=None, help="its private key (PEM)")
    p.add_argument(
        "--shared-broker",
        action="store_true",
        help="one broker for several nodes: run this once per node with the same --out; each "
        "node's files go to nodes/NODE/ and its accounts sign in as NAME@NODE",
    )


def _port(*, zero: bool) -> Any:
    """A listener's port for argparse, named in the message (a port written into cti.conf
    that Mosquitto cannot bind would only fail at the broker's restart)."""

    def parse(text: str) -> int:
        try:
            value = port(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if value == 0 and not zero:
            raise argparse.ArgumentTypeError("the plain listener needs a port, not 0")
        return value

    parse.__name__ = "port"
    return parse


def accounts_of(
    config: Config, data_dir: Path, where: str = "sqlite"
) -> tuple[list[Account], bool]:
    """The node's accounts: from its log if it has one (True), else the site's seeds. The
    log is read as the node reads it, from its latest snapshot: after retention (`cti
    archive`) the events before it are in the archive only."""
    from cti.accounts.model import Account
    from cti.store import location

    node = config.site.node
    if location.exists(where, data_dir, node):
        from cti.app.node import replay

        store = location.open_reader(where, data_dir, node)
        try:
            state = replay(store)
        finally:
            store.close()
        return list(state.accounts.accounts.values()), True
    out = []
    for spec in config.users:
        seed = spec.seed()
        out.append(
            Account(
                name=seed.name,
                display_name=seed.display_name,
                role=seed.role,
                devices=seed.devices,
                licences=seed.licences,
                password=seed.password,
                broker_password=seed.broker_password,
                must_change=seed.must_change,
            )
        )
    return out, False


def run_broker_config(args: argparse.Namespace) -> int:
    from rich.console import Console

    from cti.app.config import load_config
    from cti.mqtt import certs
    from cti.mqtt.broker import TUNING, TlsListener, listeners
    from cti.mqtt.broker_files import BrokerFiles, node_secret, write_private
    from cti.store import location

    console = Console(highlight=False, soft_wrap=True)  # commands to copy: never wrapped
    for flag, given in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if given is not None and not given.is_file():  # else Mosquitto fails at its restart
            print(f"cti broker-config: {flag} {given}: no such file", file=sys.stderr)
            return 2
    config = load_config(args.site)
    site = config.site
    out: Path = args.out.resolve()  # mosquitto resolves relative paths from its own cwd
    out.mkdir(parents=True, exist_ok=True)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    files = BrokerFiles(out, site, node_secret(args.data_dir, site.node), args.shared_broker)
    accounts, from_log = accounts_of(config, args.data_dir, args.store)
    try:
        files.write(accounts)
    except ValueError as exc:
        print(f"cti broker-config: {exc}", file=sys.stderr)
        return 2
    shared = " --shared-broker" if args.shared_broker else ""
    tls, generated = None, False
    if args.tls_port:
        if args.tls_cert is not None and args.tls_key is not None:
            cert_files = certs.CertFiles(ca=args.tls_cert, cert=args.tls_cert, key=args.tls_key)
        elif args.tls_cert is not None or args.tls_key is not None:
            print("cti broker-config: give --tls-cert and --tls-key together", file=sys.stderr)
            return 2
        else:
            names = args.tls_name or [*certs.DEFAULT_NAMES, socket.getfqdn()]
            cert_files = certs.ensure(out / "tls", site.node, names)
            generated = True
        tls = TlsListener(args.tls_port, cert_files, args.host)
    conf = out / "cti.conf"
    header = (
        f"# Mosquitto configuration for cti node {site.node} (cti broker-config).\n"
        f"# Include it from mosquitto.conf; the node keeps the files it names in step:\n"
        f"#   cti serve --mqtt-url mqtt://<this broker>:{args.port} --broker-files {out}{shared}\n"
    )
    if args.shared_broker:
        header += (
            f"# Shared by several nodes (this one, {site.node}, wrote it last): their accounts\n"
            "# sign in as NAME@NODE; the files below combine every node's nodes/NODE/ files.\n"
        )
    write_private(conf, header + TUNING + listeners(files, args.host, args.port, tls), 0o644)
    signing = sum(1 for a in accounts if a.can_sign_in)
    console.print(f"wrote {conf}, {files.passwords.name}, acl.plain, acl.tls in {out}")
    as_ = f" as NAME@{site.node}" if args.shared_broker else ""
    console.print(f"  {signing} accounts can sign in{as_}, plus the node's own ({files.node_user})")
    # Said either way: a mistyped --data-dir shows here as a node that has never run.
    log_at = location.describe(args.store, args.data_dir, site.node)
    console.print(
        f"  accounts from the node's log at {log_at}"
        if from_log
        else f"  no log at {log_at} yet (a node that has never run): the site file's accounts"
    )
    if tls is not None:
        verify = f"clients verify it with {tls.files.ca}" if generated else "your certificate"
        console.print(f"  TLS on port {tls.port}: {verify}")
    console.print(
        f"  then: `include_dir {out}` in mosquitto.conf (it loads only cti.conf there), let\n"
        f"  mosquitto read the files (chgrp -R mosquitto {out}), restart it, and run\n"
        f"  cti serve --mqtt-url mqtt://HOST:{args.port} --broker-files {out}{shared}"
        + (f" --site {args.site}" if args.site else "")
        + location.store_flag(args.store)
        + f" --data-dir {args.data_dir}"
    )
    return 0
