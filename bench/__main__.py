"""`make bench`: one run, every section, a table on the console and bench/results.json.

`python -m bench 2 2b` runs only those sections (the machine is shared: sections can be rerun
when it is quiet); results.json keeps the last rows of the others, each section with its time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench import (
    chat,
    csta_codec,
    csta_link,
    directory_search,
    journal,
    many_uis,
    mqtt_path,
    postgres_store,
    sections,
    voicemail,
    web,
)
from bench.sections import Row
from cti.tools.output import print_table

REPLAY_EVENTS = int(os.environ.get("BENCH_REPLAY_EVENTS", "1000000"))


def machine() -> dict[str, object]:
    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
    }


NAMES = {
    "1": "1. engine alone",
    "2": "2. end to end (MQTT)",
    "2b": "2b. 1,000 signed-in UIs (MQTT)",
    "3": "3. replay",
    "4": "4. scale",
    "5": "5. CSTA codec",
    "5b": "5b. CSTA link end to end",
    "6": "6. PostgreSQL store beside SQLite",
    "7": "7. directory search (DIR-04)",
    "8": "8. journal",
    "vm": "vm. voicemail recording (VM-01)",
    "9": "9. chat, 1,000 signed-in users (IM-01..03)",
    "10": "10. web client (Chromium)",
}


def run_section(key: str, progress: Progress) -> list[list[object]]:
    rows: list[Row]
    if key == "1":
        rows = sections.engine_alone(reps=3)
    elif key == "2":
        rows = mqtt_path.run()
    elif key == "2b":
        rows = [row for plan in many_uis.PLANS for row in many_uis.run(progress, plan)]
    elif key == "3":
        with tempfile.TemporaryDirectory() as d:
            build = progress.add_task("   building the log", total=REPLAY_EVENTS)
            store = sections.build_log(
                Path(d) / "replay.db", REPLAY_EVENTS, lambda n: progress.update(build, completed=n)
            )
            progress.remove_task(build)
            rows = sections.replay_rows(store)
            store.close()
    elif key == "4":
        rows = sections.scale_rows()
    elif key == "5b":
        rows = [row for plan in csta_link.PLANS for row in csta_link.run(progress, plan)]
    elif key == "6":
        rows = postgres_store.rows()
    elif key == "7":
        rows = directory_search.run()
    elif key == "8":
        build = progress.add_task("   building the log", total=journal.EVENTS)
        rows = [
            *journal.keep_up_rows(),
            *journal.rebuild_rows(progress=lambda n: progress.update(build, completed=n)),
        ]
        progress.remove_task(build)
    elif key == "vm":
        rows = voicemail.run()
    elif key == "9":
        rows = chat.run()
    elif key == "10":
        rows = web.run()
    else:
        rows = csta_codec.csta_rows()
    return [list(row) for row in rows]


def print_results(console: Console, results: dict[str, list[list[object]]]) -> None:
    """The table of ``results`` (section name -> its rows): a row a line, also into a pipe
    (`make bench | tee`), where rich wrapped each cell into a column of a few characters."""
    table = Table(title="cti benchmarks (median of repetitions where repeated)")
    for col in ("section", "measure", "value", "unit", "target"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for section, rows in results.items():
        for name, value, unit, target in rows:
            table.add_row(section, str(name), f"{value:,.1f}", str(unit), str(target or ""))
            section = ""
    print_table(console, table)


def main(argv: list[str] | None = None) -> int:
    # As `cti serve` does (cti/log.py): a logger is resolved once, not on every call. Here,
    # not at import: a test importing this module (print_results) would filter every later
    # test's info logs (structlog's configuration is global).
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=True,
    )
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "sections",
        nargs="*",
        metavar="SECTION",
        help=f"only these of {', '.join(NAMES)} (default: all); results.json keeps the others",
    )
    keys = parser.parse_args(argv).sections or list(NAMES)
    unknown = [k for k in keys if k not in NAMES]
    if unknown:
        parser.error(f"no section {', '.join(unknown)}; there are {', '.join(NAMES)}")
    console = Console()
    results: dict[str, list[list[object]]] = {}
    when: dict[str, str] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("", total=len(keys))
        for key in keys:
            progress.update(task, description=NAMES[key])
            results[NAMES[key]] = run_section(key, progress)
            when[NAMES[key]] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            progress.update(task, advance=1)
    print_results(console, results)
    out = Path("bench/results.json")
    previous: dict[str, Any] = {}
    if len(keys) < len(NAMES):  # a partial run: the other sections' last rows stay
        with contextlib.suppress(OSError, ValueError):
            previous = json.loads(out.read_text())
    merged = {
        **previous.get("results", {}),
        **{
            k: [dict(zip(("measure", "value", "unit", "target"), r, strict=True)) for r in v]
            for k, v in results.items()
        },
    }
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "sections_when": {**previous.get("sections_when", {}), **when},
                "results": {name: merged[name] for name in NAMES.values() if name in merged},
            },
            indent=2,
        )
    )
    console.print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
