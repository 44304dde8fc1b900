"""`cti trace CALL`: one call from the log as a ladder diagram in SVG (issue 17's operator
view, from the command line): the devices as columns, the call's events in `seq` order as
rows with their causes, arrows from the device that acts to the one it reaches, each
connection's state after the event, the switch's timers (no-answer, recall) where they were
set and cleared. A consultation call that was merged into it (transfer, conference) is drawn
with it. "Why did this call end at voicemail?" is answered by looking.

Reads the files ``cti serve`` writes and changes nothing, so it may run beside the node. The
SVG is built with ElementTree (UC rule 8: XML by a serializer, never by concatenation).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

from cti.api.documents import iso
from cti.app.committed import Committed, decode
from cti.app.config import load_site
from cti.calls import events as ev
from cti.calls.records_db import CallRecordsDb
from cti.ops.environment import add_store_option
from cti.store import StoreError, archive, location
from cti.tools.calls import ARCHIVE_HELP, call_id

SVG = "http://www.w3.org/2000/svg"
COLUMN = 150  # px between device lifelines
LEFT = 330  # px for the row labels (seq, time, event, cause)
ROW = 30
TOP = 70
STATE_COLOURS = {
    "alerting": "#b26a00",
    "connected": "#1a7f37",
    "hold": "#0b5cad",
    "initiated": "#59636e",
    "failed": "#c62828",
    "queued": "#6a1b9a",
    "null": "#8a939c",
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trace = sub.add_parser("trace", help="one call from the log as a ladder diagram (SVG)")
    trace.add_argument(
        "call", type=call_id, help="the call's id (the first column of cti calls list)"
    )
    trace.add_argument("--site", type=Path, default=None, help="site file (for the node name)")
    trace.add_argument("--data-dir", type=Path, default=Path("data"), help="default: ./data")
    add_store_option(trace)
    trace.add_argument("--archive", type=Path, default=None, help=ARCHIVE_HELP)
    trace.add_argument(
        "--out", type=Path, default=None, help="write the SVG here (default: standard output)"
    )


def run_trace(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    try:
        db = CallRecordsDb.open_readonly(args.data_dir / f"{site.node}.calls.db")
    except FileNotFoundError as exc:
        print(f"cti trace: no call records at {exc} (cti serve writes them)", file=sys.stderr)
        return 1
    try:
        record = db.record(args.call)
        if record is None:
            print(f"cti trace: no call {args.call} in the records", file=sys.stderr)
            return 1
        try:
            log = location.open_reader(args.store, args.data_dir, site.node)
        except StoreError as exc:
            print(f"cti trace: {exc}", file=sys.stderr)
            return 1
        with contextlib.closing(log):
            if db.epoch() != log.epoch:
                print("cti trace: the records were made from another log", file=sys.stderr)
                return 1
            try:
                stored = list(archive.span(log, record.first_seq, record.last_seq, args.archive))
            except StoreError as exc:  # archived, and no (or a broken) --archive
                print(f"cti trace: call {args.call}: {exc}", file=sys.stderr)
                return 1
            items = call_events([decode(raw) for raw in stored], args.call)
    finally:
        db.close()
    svg = ladder_svg(args.call, items)
    if args.out is None:
        sys.stdout.write(svg)
    else:
        args.out.write_text(svg, encoding="utf-8")
    return 0


def call_events(items: Iterable[Committed], call: int) -> list[Committed]:
    """The events of ``call`` and of every call merged into it (a consultation call that a
    transfer or conference joined), and the timers set on them, in ``seq`` order."""
    items = list(items)
    calls = {call}
    for item in items:
        event = item.event
        if not isinstance(event, ev.Transferred | ev.Conferenced) or event.call not in calls:
            continue
        if event.secondary_call is not None:
            calls.add(event.secondary_call)
    return [item for item in items if getattr(item.event, "call", None) in calls]


def arrow(event: object) -> tuple[str, str] | None:
    """From the device that acts to the device it reaches, where an event has both."""
    match event:
        case ev.Originated(calling=a, called=b) | ev.Delivered(calling=a, alerting=b):
            return a, b
        case ev.Established(answering=a, calling=b):
            return a, b
        case ev.Diverted(diverting=a, new_destination=b):
            return a, b
        case ev.Failed(calling=a, failing=b):
            return a, b
        case ev.Transferred(transferring=a, transferred_to=b):
            return a, b
        case ev.Conferenced(conferencing=a, added=added) if added:
            return a, added[0]
    return None


def actor(event: object) -> str | None:
    for name in ("device", "holding", "answering", "diverting", "transferring", "conferencing"):
        value = getattr(event, name, None)
        if isinstance(value, str):
            return value
    return None


def devices_of(items: Sequence[Committed]) -> list[str]:
    """Columns in the order the devices first appear (the caller first)."""
    seen: dict[str, None] = {}
    for item in items:
        event = item.event
        pair = arrow(event)
        for device in (*(pair or ()), actor(event)):
            if device:
                seen.setdefault(device, None)
        for local in getattr(event, "local", ()):
            seen.setdefault(local.device, None)
    return list(seen)


def label(item: Committed, start_ms: int) -> str:
    event = item.event
    name = type(event).__name__
    name = name[0].lower() + name[1:]
    cause = getattr(event, "cause", None)
    purpose = getattr(event, "purpose", None)
    extra = f" ({cause})" if cause is not None else ""
    if isinstance(event, ev.TimerSet):
        extra = f" {purpose} due +{(event.due_ms - item.ts_ms) / 1000:g} s"
    elif isinstance(event, ev.TimerCleared):
        extra = f" {purpose}"
    call = getattr(event, "call", None)
    return f"{item.seq}  +{(item.ts_ms - start_ms) / 1000:.3f} s  {name}{extra}  [call {call}]"


def ladder_svg(call: int, items: Sequence[Committed]) -> str:
    """The ladder of ``items`` (the call's events, as :func:`call_events` gives them)."""
    devices = devices_of(items)
    x = {device: LEFT + COLUMN // 2 + i * COLUMN for i, device in enumerate(devices)}
    width = LEFT + COLUMN * max(len(devices), 1) + 20
    height = TOP + ROW * (len(items) + 1) + 20
    ET.register_namespace("", SVG)
    root = ET.Element(
        f"{{{SVG}}}svg",
        {
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "font-family": "system-ui, sans-serif",
            "font-size": "12",
            "role": "img",
        },
    )
    first = items[0].ts_ms if items else 0
    title = f"call {call}" + (f", {iso(first)}" if items else ": no events")
    ET.SubElement(root, f"{{{SVG}}}title").text = title
    defs = ET.SubElement(root, f"{{{SVG}}}defs")
    marker = ET.SubElement(
        defs,
        f"{{{SVG}}}marker",
        {
            "id": "arrow",
            "viewBox": "0 0 10 10",
            "refX": "10",
            "refY": "5",
            "markerWidth": "8",
            "markerHeight": "8",
            "orient": "auto-start-reverse",
        },
    )
    ET.SubElement(marker, f"{{{SVG}}}path", {"d": "M 0 0 L 10 5 L 0 10 z", "fill": "#1b1f24"})
    text(root, 10, 24, title, size="16", weight="bold")
    for device, cx in x.items():
        text(root, cx, TOP - 20, device, anchor="middle", weight="bold", cls="device")
        ET.SubElement(
            root,
            f"{{{SVG}}}line",
            {
                "x1": str(cx),
                "y1": str(TOP - 10),
                "x2": str(cx),
                "y2": str(height - 20),
                "stroke": "#c0c6cc",
            },
        )
    timers: dict[tuple[int, str, str], int] = {}  # open timers: where they were set
    for row, item in enumerate(items):
        y = TOP + ROW * row + ROW // 2
        event = item.event
        group = ET.SubElement(root, f"{{{SVG}}}g", {"class": "event", "data-seq": str(item.seq)})
        text(group, 10, y + 4, label(item, first))
        pair = arrow(event)
        if pair is not None and pair[0] in x and pair[1] in x and pair[0] != pair[1]:
            ET.SubElement(
                group,
                f"{{{SVG}}}line",
                {
                    "x1": str(x[pair[0]]),
                    "y1": str(y),
                    "x2": str(x[pair[1]]),
                    "y2": str(y),
                    "stroke": "#1b1f24",
                    "marker-end": "url(#arrow)",
                },
            )
        if isinstance(event, ev.TimerSet) and event.device in x:
            timers[(event.call, event.device, str(event.purpose))] = y
            text(group, x[event.device] - 8, y + 4, "timer", anchor="end", size="10", cls="timer")
        elif isinstance(event, ev.TimerCleared) and event.device in x:
            started = timers.pop((event.call, event.device, str(event.purpose)), None)
            if started is not None:
                timer_bar(root, x[event.device] - 6, started, y)
        for local in getattr(event, "local", ()):
            if local.device not in x:
                continue
            state = str(local.state)
            colour = STATE_COLOURS.get(state, "#59636e")
            ET.SubElement(
                group,
                f"{{{SVG}}}circle",
                {"cx": str(x[local.device]), "cy": str(y), "r": "4", "fill": colour},
            )
            text(group, x[local.device] + 7, y - 4, state, size="10", fill=colour)
    for (_, device, _), started in timers.items():  # never cleared: it fired (or runs on)
        timer_bar(root, x[device] - 6, started, TOP + ROW * len(items))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def timer_bar(parent: ET.Element, x: int, y1: int, y2: int) -> None:
    """A running timer: a dashed bar beside the device's lifeline from set to cleared."""
    ET.SubElement(
        parent,
        f"{{{SVG}}}line",
        {
            "class": "timer",
            "x1": str(x),
            "y1": str(y1),
            "x2": str(x),
            "y2": str(y2),
            "stroke": "#b26a00",
            "stroke-width": "3",
            "stroke-dasharray": "4 3",
        },
    )


def text(
    parent: ET.Element,
    x: int,
    y: int,
    content: str,
    *,
    anchor: str = "start",
    size: str | None = None,
    weight: str | None = None,
    fill: str | None = None,
    cls: str | None = None,
) -> ET.Element:
    attrs = {"x": str(x), "y": str(y), "text-anchor": anchor}
    for key, value in (
        ("font-size", size),
        ("font-weight", weight),
        ("fill", fill),
        ("class", cls),
    ):
        if value is not None:
            attrs[key] = value
    node = ET.SubElement(parent, f"{{{SVG}}}text", attrs)
    node.text = content
    return node
