"""`make bench`: one run, every section, a table on the console and bench/results.json."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import structlog
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench import csta_codec, mqtt_path, sections

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
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


def main() -> int:
    console = Console()
    results: dict[str, list[dict[str, object]]] = {}
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("1. engine alone", total=5)
        results["1. engine alone"] = [*map(list, sections.engine_alone(reps=3))]  # type: ignore[arg-type]
        progress.update(task, advance=1, description="2. end to end through mosquitto")
        results["2. end to end (MQTT)"] = [*map(list, mqtt_path.run())]  # type: ignore[arg-type]
        progress.update(task, advance=1, description=f"3. build a log of {REPLAY_EVENTS:,} events")
        with tempfile.TemporaryDirectory() as d:
            build = progress.add_task("   building the log", total=REPLAY_EVENTS)
            store = sections.build_log(
                Path(d) / "replay.db", REPLAY_EVENTS, lambda n: progress.update(build, completed=n)
            )
            progress.remove_task(build)
            progress.update(task, description="3. replay")
            results["3. replay"] = [*map(list, sections.replay_rows(store))]  # type: ignore[arg-type]
            store.close()
        progress.update(task, advance=1, description="4. scale")
        results["4. scale"] = [*map(list, sections.scale_rows())]  # type: ignore[arg-type]
        progress.update(task, advance=1, description="5. CSTA codec")
        results["5. CSTA codec"] = [*map(list, csta_codec.csta_rows())]  # type: ignore[arg-type]
        progress.update(task, advance=1)
    table = Table(title="cti benchmarks (median of repetitions where repeated)")
    for col in ("section", "measure", "value", "unit", "target"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for section, rows in results.items():
        for name, value, unit, target in rows:  # type: ignore[misc]
            table.add_row(section, str(name), f"{value:,.1f}", str(unit), str(target or ""))
            section = ""
    console.print(table)
    out = Path("bench/results.json")
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "results": {
                    k: [
                        dict(zip(("measure", "value", "unit", "target"), r, strict=True)) for r in v
                    ]
                    for k, v in results.items()
                },
            },
            indent=2,
        )
    )
    console.print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
