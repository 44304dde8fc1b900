"""`cti calls`: the call records of a node (list) and one call's events from the log (show).

Reads the files ``cti serve`` writes (``<data-dir>/<node>.calls.db`` and ``<node>.db``) and
changes nothing, so it may run beside the node.
"""

from __future__ import annotations

import argparse
import contextlib
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cti.api.documents import dumps, event_doc, iso
from cti.app.committed import Committed, decode
from cti.app.config import load_site
from cti.calls.records import CallRecord
from cti.calls.records_db import CallRecordsDb
from cti.ops.environment import add_store_option, at_least, checked
from cti.store import StoreError, archive, location
from cti.tools.options import shared_options
from cti.tools.output import print_table


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calls = sub.add_parser("calls", help="call records of a node: list them, show one call")
    shared = shared_options(calls, _where)  # before or after the subcommand
    what = calls.add_subparsers(dest="action", required=True)
    listing = what.add_parser("list", parents=[shared], help="the newest calls, one line each")
    # From 1: SQLite reads LIMIT -1 as no limit at all.
    last = checked(at_least(1))
    listing.add_argument("--last", type=last, default=20, help="how many (default 20)")
    show = what.add_parser(
        "show", parents=[shared], help="one call: its record and every event of it"
    )
    show.add_argument(
        "call", type=call_id, help="the call's id (the first column of cti calls list)"
    )
    show.add_argument("--archive", type=Path, default=None, help=ARCHIVE_HELP)


ARCHIVE_HELP = "the archives (cti archive) of a call whose events left the log"


def _where(p: argparse.ArgumentParser) -> None:
    """The node's files: options of `cti calls` and of each of its subcommands."""
    p.add_argument("--site", type=Path, default=None, help="site file (for the node name)")
    p.add_argument("--data-dir", type=Path, default=Path("data"), help="default: ./data")
    add_store_option(p)


def call_id(text: str) -> int:
    """A call's id for argparse: one SQLite can hold (a larger one was an OverflowError)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a call id") from None
    if not 0 < value < 2**63:
        raise argparse.ArgumentTypeError(f"{value} is not a call id (1 or more)")
    return value


def run_calls(args: argparse.Namespace) -> int:
    console = Console(highlight=False)
    # Errors go to stderr, one line each, named like every cti command's.
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    site = load_site(args.site)
    log_name = location.describe(args.store, args.data_dir, site.node)
    try:
        db = CallRecordsDb.open_readonly(args.data_dir / f"{site.node}.calls.db")
    except FileNotFoundError as exc:
        errors.print(f"[red]cti calls: no call records at {exc} (cti serve writes them)[/]")
        return 1
    try:
        if args.action == "list":
            print_table(console, _table(db.records(last=args.last)))
            return 0
        record = db.record(args.call)
        if record is None:
            errors.print(f"[red]cti calls: no call {args.call} in the records[/]")
            return 1
        try:
            log = location.open_reader(args.store, args.data_dir, site.node)
        except StoreError as exc:
            errors.print(f"[red]cti calls: {escape(str(exc))}[/]")
            return 1
        with contextlib.closing(log):
            if db.epoch() != log.epoch:
                errors.print(
                    f"[red]cti calls: the records were made from another log than {log_name}[/]"
                )
                return 1
            try:
                stored = list(archive.span(log, record.first_seq, record.last_seq, args.archive))
            except StoreError as exc:  # archived, and no (or a broken) --archive
                errors.print(f"[red]cti calls: call {record.call}: {escape(str(exc))}[/]")
                return 1
        print_table(console, _table([record]))
        for raw in stored:
            item = decode(raw)
            calls = (
                getattr(item.event, "call", None),
                getattr(item.event, "secondary_call", None),
            )
            if record.call in calls:
                console.print(  # the log's own text: no markup, emoji codes or highlighting
                    event_line(item), markup=False, emoji=False, highlight=False, soft_wrap=True
                )
        return 0
    finally:
        db.close()


# A text shown as it is after ``key=``; any other (empty, spaces, quotes, brackets, control
# characters) is shown as its JSON string, so a line always splits into its fields.
_BARE = re.compile(r"[\w.+*#@/-]+")


def event_line(item: Committed) -> str:
    """One event of ``cti calls show``: its ``seq``, time and event name, then its other fields
    as ``key=value`` in the names and values of the event's MQTT document
    (:func:`cti.api.documents.event_doc`); a field that is null is left out, and the
    connections after the event are ``[device:state,...]``."""
    doc = event_doc(item)
    head = f"{doc.pop('seq'):>8} {doc.pop('ts')} {doc.pop('event')}"
    connections = doc.pop("connections", None)
    fields = [f"{key}={_value(value)}" for key, value in doc.items() if value is not None]
    if connections is not None:
        local = ",".join(f"{_value(c['device'])}:{_value(c['state'])}" for c in connections)
        fields.append(f"connections=[{local}]")
    return " ".join([head, *fields])


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value if _BARE.fullmatch(value) else dumps(value).decode()
    if isinstance(value, list):
        return "[" + ",".join(_value(v) for v in value) + "]"
    return dumps(value).decode()  # a number, true or false


def _table(records: list[CallRecord]) -> Table:
    table = Table("call", "started", "from", "to", "answered by", "parties", "ended", "how")
    for r in records:
        how = f"merged into {r.merged_into}" if r.merged_into is not None else (r.end_cause or "")
        table.add_row(
            str(r.call),
            iso(r.started_ms),
            r.calling,
            r.called + (f" (group {r.group})" if r.group else ""),
            r.answered_by or "-",
            " ".join(r.parties),
            iso(r.ended_ms) if r.ended_ms is not None else "open",
            how,
        )
    return table
