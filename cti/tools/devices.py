"""`cti devices forget`: forget what the switch keeps of devices the site no longer configures.

Phones removed from the site file keep their do-not-disturb, forwarding and redial list in the
log, and ``cti serve`` warns ``node.log_has_unconfigured_devices`` at every start. This sends
the node's ``forgetDevices`` (an administrator's command, decided and recorded like any other,
``deviceForgotten`` events in the log): a configured device, or one still in a call, is refused
and nothing changes. As `cti users` does: a stopped node's log is changed here (with its writer
lock), a running node is asked over MQTT, signed in as an administrator (``--user``,
``CTI_PASSWORD``); a ``--data-dir`` (``--store``, ``--site``) without the node's log is refused.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cti.tools.options import shared_options
from cti.tools.users import node_options


def add_parser(sub: Any) -> None:
    devices = sub.add_parser(
        "devices",
        help="forget the settings of devices the site no longer configures",
        description="A running node is asked over MQTT (sign in as an administrator: --user, "
        "CTI_PASSWORD); a stopped node's log is changed here. Give the --site the node runs "
        "with: what it configures is kept (specs/operations.md).",
    )
    shared = shared_options(devices, node_options)  # before or after the subcommand
    # As `cti users`: what went wrong is the tool's own one line, not the MQTT client's warning.
    devices.set_defaults(log_level="error")
    actions = devices.add_subparsers(dest="action", required=True)
    forget = actions.add_parser(
        "forget",
        parents=[shared],
        help="forget the do-not-disturb, forwarding and redial list of removed devices",
        description="Refused, changing nothing, for a device the site configures or one in a "
        "call; a device with nothing kept is left as it is.",
    )
    forget.add_argument("devices", nargs="*", metavar="DEVICE", help="a device's number")
    forget.add_argument(
        "--unconfigured",
        action="store_true",
        help="every device the site does not configure (what `cti serve` warns of)",
    )


def fields_of(args: argparse.Namespace) -> dict[str, Any]:
    from cti.api.requests import MAX_ITEMS
    from cti.tools.users import UsageError

    if args.unconfigured == bool(args.devices):
        raise UsageError("name the devices to forget, or --unconfigured (not both)")
    if args.unconfigured:
        return {"unconfigured": True}
    if len(args.devices) > MAX_ITEMS:
        raise UsageError(f"at most {MAX_ITEMS} devices at once (or --unconfigured)")
    return {"devices": list(args.devices)}


def show(reply: Any, fields: dict[str, Any]) -> int:
    if not isinstance(reply, dict) or not reply.get("ok"):
        error = reply.get("error", {}) if isinstance(reply, dict) else {}
        print(f"refused: {error.get('code')}: {error.get('message')}")
        return 1
    forgotten: list[str] = reply["result"]["forgotten"]
    if forgotten:
        print("forgotten: " + " ".join(forgotten))
    nothing = [n for n in dict.fromkeys(fields.get("devices", ())) if n not in forgotten]
    if nothing:
        print("nothing kept of: " + " ".join(nothing))
    if not forgotten and not nothing:
        print("nothing to forget: no device the site does not configure has settings")
    return 0


def run_devices(args: argparse.Namespace) -> int:
    from cti.app.config import load_config
    from cti.tools.users import Failed, ask, existing_log

    try:
        site = load_config(args.site).site
        # never makes a node's log
        existing_log(args.store, args.data_dir, site.node, "a node that never ran keeps nothing")
        fields = fields_of(args)
        reply = ask(args, site, "forgetDevices", fields, stopped=lambda: _site_given(args))
    except Failed as exc:  # a UsageError too
        print(f"cti devices: {exc}", file=sys.stderr)
        return exc.code
    return show(reply, fields)


def _site_given(args: argparse.Namespace) -> None:
    """On a stopped node this decides what is configured: by the built-in example office,
    taken by default, it would forget every phone of the site the log is really from."""
    from cti.tools.users import UsageError

    if args.site is None:
        raise UsageError(
            "the node is stopped: give the --site it runs with (what it configures is kept)"
        )
