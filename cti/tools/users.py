"""`cti users`: administer a node's accounts, running or stopped (USER-01, USER-05).

A stopped node's log is opened here (with its writer lock) and changed through the same API
code the MQTT face runs; a running node holds that lock, so the change goes to it over MQTT,
signed in as an administrator (``--user``, ``CTI_PASSWORD``). Either way the node checks it.
A password for an account comes from ``CTI_NEW_PASSWORD`` or a prompt, never the command line.

It never makes a log by itself: a ``--data-dir`` (``--store``, ``--site``) where the node has no
log is refused, so a mistyped directory cannot quietly become a second, empty node whose
accounts nobody uses. ``--init`` makes the log of a node that has never run (specs/security.md).

Exit codes as `cti request`'s for the same failures: 1 refused (by the node, or its broker's
ACL) or no reply, 2 a wrong argument, 3 no broker or the connection refused.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import string
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from cti.accounts.model import Licence, Role
from cti.mqtt.client import endpoint
from cti.ops.environment import add_store_option
from cti.tools.options import shared_options
from cti.tools.output import print_table

if TYPE_CHECKING:
    from cti.app.node import Node
    from cti.site import Site

NEW_PASSWORD_ENV = "CTI_NEW_PASSWORD"


class Failed(Exception):
    """One line for the operator and the exit code: `cti request`'s for the same failure (1
    refused or no reply, 3 no broker or the connection refused)."""

    code = 1

    def __init__(self, line: str, code: int | None = None) -> None:
        super().__init__(line)
        if code is not None:
            self.code = code


class UsageError(Failed):
    """A wrong argument: exit 2."""

    code = 2


ACCOUNT = "the account's name (as cti users list shows it)"


def add_parser(sub: Any) -> None:
    users = sub.add_parser(
        "users",
        help="list and administer accounts of a running or stopped node",
        description="A running node is asked over MQTT (sign in as an administrator: --user, "
        "CTI_PASSWORD); a stopped node's log is changed here. A --data-dir (--store, --site) "
        "without the node's log is refused: --init makes the log of a node that has never run, "
        "with the site's [[users]] first, as `cti serve` would (specs/security.md).",
    )
    shared = shared_options(users, _where)  # before or after the subcommand
    # As `cti request`: what went wrong is the tool's own one line; the MQTT client's warning
    # (a refused publish ends the connection) only came before it.
    users.set_defaults(log_level="error")
    actions = users.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "list", parents=[shared], help="every account: role, devices, licences, state"
    )
    add = actions.add_parser(
        "add",
        parents=[shared],
        help="a new account with an initial password (CTI_NEW_PASSWORD, else asked)",
    )
    add.add_argument("name", help="a user's internal number, or an integrator's name")
    add.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.USER.value,
        help="user (default), admin, integrator or monitor (specs/security.md)",
    )
    add.add_argument("--display-name", default="", help="default: the device's name")
    add.add_argument("--devices", nargs="*", default=None, help="default: the number itself")
    add.add_argument(
        "--licences",
        nargs="*",
        default=[],
        type=_licence,
        metavar="LICENCE",
        help=f"what the account may use: {LICENCES} (USER-05; default: none)",
    )
    setpw = actions.add_parser(
        "set-password",
        parents=[shared],
        help="set a password (CTI_NEW_PASSWORD, else asked); changed at next sign-in",
    )
    setpw.add_argument("name", help=ACCOUNT)
    reset = actions.add_parser(
        "reset", parents=[shared], help="a new random password, printed once"
    )
    reset.add_argument("name", help=ACCOUNT)
    lic = actions.add_parser(
        "licences", parents=[shared], help="set the licences of an account (USER-05)"
    )
    lic.add_argument("name", help=ACCOUNT)
    lic.add_argument(
        "licences",
        nargs="*",
        type=_licence,
        metavar="LICENCE",
        help=f"all the licences it has from now on: {LICENCES} (none given: none)",
    )
    remove = actions.add_parser("remove", parents=[shared], help="remove an account")
    remove.add_argument("name", help=ACCOUNT)


LICENCES = ", ".join(x.value for x in Licence)


def _licence(value: str) -> str:
    # A type check, not choices=: argparse (3.11) checks an empty "*" positional's default
    # against choices, so `cti users licences 331` (take every licence away) was refused.
    if value not in {x.value for x in Licence}:
        raise argparse.ArgumentTypeError(f"no licence {value!r} (licences: {LICENCES})")
    return value


def node_options(p: argparse.ArgumentParser) -> None:
    """The node and how to reach it (`cti users`, `cti devices` and their subcommands)."""
    p.add_argument("--site", type=Path, default=None, help="site file (default: example)")
    p.add_argument(
        "--data-dir", type=Path, default=Path("data"), help="the node's (default ./data)"
    )
    add_store_option(p)
    endpoint.add_arguments(p)  # used when the node runs: sign in as an administrator


def _where(p: argparse.ArgumentParser) -> None:
    node_options(p)
    p.add_argument(
        "--init",
        action="store_true",
        help="the node has never run: make its log (and --data-dir) instead of refusing",
    )


def new_password(env: dict[str, str] | None = None) -> str:
    """From CTI_NEW_PASSWORD, else asked twice on the terminal."""
    env = dict(os.environ) if env is None else env
    given = env.get(NEW_PASSWORD_ENV)
    if given:
        return given
    if not sys.stdin.isatty():
        raise UsageError(f"give the new password in {NEW_PASSWORD_ENV} (no terminal to ask)")
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise UsageError("the two passwords differ")
    return first


def random_password() -> str:
    """A password the policy accepts (USER-02), 16 characters."""
    from cti.accounts.passwords import check_policy
    from cti.kernel.refusal import Refusal

    alphabet = string.ascii_letters + string.digits + "!#%+-=?@_"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        try:
            check_policy(candidate)
        except Refusal:
            continue
        return candidate


def request_of(args: argparse.Namespace) -> tuple[str, dict[str, Any], str | None]:
    """The service and fields for the action; a password to print afterwards (reset)."""
    a = args.action
    if a == "list":
        return "listAccounts", {}, None
    if a == "add":
        fields: dict[str, Any] = {
            "name": args.name,
            "password": new_password(),
            "role": args.role,
            "licences": args.licences,
        }
        if args.display_name:
            fields["displayName"] = args.display_name
        if args.devices is not None:
            fields["devices"] = args.devices
        return "createAccount", fields, None
    if a == "set-password":
        return "setPassword", {"name": args.name, "password": new_password()}, None
    if a == "reset":
        password = random_password()
        return "setPassword", {"name": args.name, "password": password}, password
    if a == "licences":
        return "updateAccount", {"name": args.name, "licences": args.licences}, None
    return "removeAccount", {"name": args.name}, None


async def offline(node: Node, service: str, fields: dict[str, Any]) -> Any:
    """The request run on a node opened here, as the node itself (it has no user)."""
    from cti.api import execute as replies
    from cti.api.requests import BadRequest, parse_action
    from cti.app.engine import Direct

    try:
        action = parse_action(service, fields)
    except BadRequest as bad:
        return replies.error(bad.code, bad.message)
    return await replies.execute(Direct(node), action, None, secure=True)


def show(console: Console, service: str, reply: Any, password: str | None) -> int:
    if not isinstance(reply, dict) or not reply.get("ok"):
        error = reply.get("error", {}) if isinstance(reply, dict) else {}
        details = error.get("details")
        console.print(
            f"[red]refused: {error.get('code')}: {error.get('message')}"
            + (f" {details}" if details else "")
            + "[/]"
        )
        return 1
    if service == "listAccounts":
        table = Table("name", "display name", "role", "devices", "licences", "sign-in")
        for row in reply["result"]:
            state = "must change" if row["mustChange"] else "ok"
            table.add_row(
                row["name"],
                row["displayName"],
                row["role"],
                " ".join(row["devices"]),
                " ".join(row["licences"]),
                state if row["canSignIn"] else "no password",
            )
        print_table(console, table)
    elif password is not None:
        console.print(f"new password (to be changed at the first sign-in): {password}")
    else:
        console.print("done")
    return 0


def run_users(args: argparse.Namespace) -> int:
    from cti.app.bootstrap import seed_accounts
    from cti.app.config import load_config

    console = Console(highlight=False)
    try:
        config = load_config(args.site)
        if args.init:
            args.data_dir.mkdir(parents=True, exist_ok=True)
        else:  # before a password prompt: nothing to ask for on the wrong directory
            existing_log(args.store, args.data_dir, config.site.node)
        service, fields, password = request_of(args)
        # as `cti serve` would: the site's accounts first
        reply = ask(args, config.site, service, fields, lambda n: seed_accounts(n, config.users))
    except Failed as exc:  # a UsageError too
        print(f"cti users: {exc}", file=sys.stderr)
        return exc.code
    return show(console, service, reply, password)


def ask(
    args: argparse.Namespace,
    site: Site,
    service: str,
    fields: dict[str, Any],
    prepare: Callable[[Node], object] | None = None,
    stopped: Callable[[], object] | None = None,
) -> Any:
    """The node's reply to ``service``: over MQTT when it runs (its log is locked; Failed or
    UsageError when it cannot be asked), else decided here on its log, after ``prepare``.
    ``stopped`` runs first when the node is found stopped, before anything is made (it may
    refuse with UsageError)."""
    from cti.app.clock import SystemClock
    from cti.app.keys import with_conference_key
    from cti.app.node import Node
    from cti.store import StoreLocked, location

    try:
        store = location.open_writer(args.store, args.data_dir, site.node)
    except StoreLocked:  # the node runs: ask it
        return asyncio.run(online(args, site.node, service, fields))
    try:
        if stopped is not None:
            stopped()
        # PINs from the node's own key, as `cti serve` derives them (not the process's
        # random one, nor its warning on an administrator's terminal)
        node = Node(with_conference_key(site, args.data_dir), store, SystemClock())
        if prepare is not None:
            prepare(node)
        return asyncio.run(offline(node, service, fields))
    finally:
        store.close()


NEVER_RAN = "--init makes the log of a node that has never run"


def existing_log(store: str, data_dir: Path, node: str, never_ran: str = NEVER_RAN) -> None:
    """StoreError (one line, exit 1) unless ``node`` has a log there: an administrator's
    tool never starts a node's log by itself. ``never_ran`` ends the line: what to do about
    a node that has never run."""
    from cti.store import StoreError, location

    if data_dir.exists() and not data_dir.is_dir():
        raise StoreError(f"{data_dir}: not a directory")
    if location.exists(store, data_dir, node):
        return
    where = location.describe(store, data_dir, node)
    flags = "--store or --site" if location.is_postgres(store) else "--data-dir"
    raise StoreError(f"no event log at {where}: not the node's {flags}? ({never_ran})")


async def online(args: argparse.Namespace, node: str, service: str, fields: dict[str, Any]) -> Any:
    """The request sent to the running node ``node`` over MQTT, signed in as ``--user``
    (an administrator); UsageError for what the operator can fix."""
    from cti.tools.request import CALL_FAILURES, call, failure

    try:
        broker = endpoint.from_arguments(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if broker.username is None:
        raise UsageError(
            f"node {node} is running: sign in as an administrator (--user, CTI_PASSWORD)"
        )
    # Exit codes as `cti request`'s for the same failures (specs/mqtt.md).
    try:
        return await call(broker, node, service, fields)
    except CALL_FAILURES as exc:
        where = f"node {node} runs, but not reachable at {args.mqtt_url}"
        raise Failed(*failure(exc, broker.username, args.mqtt_url, node, where)) from None
