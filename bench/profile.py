"""`python -m bench.profile FILE...`: where a sampled process spends its time, from py-spy's
raw (collapsed-stack) files, e.g. those `BENCH_PYSPY=PREFIX python -m bench 2` writes for the
node's process during section 2's throughput rounds (bench/mqtt_path.py).

Each line of such a file is ``frame;frame;...;frame COUNT`` (outermost first). The table gives,
per function (``name (file)``), the share of all samples with the function on the stack
(inclusive: the function and what it called) and at the top of the stack (self). ``--under
NAME`` narrows to samples with a frame of that name and shows what it called directly.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cti.tools.output import print_table

_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def frame_name(frame: str) -> str:
    """``Outbox._publish (cti/mqtt/face/outbox.py:167)`` -> ``Outbox._publish (outbox.py)``:
    one row per function, whichever line of it was running."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    return f"{match['name']} ({match['file'].rsplit('/', 1)[-1]})"


def stacks(lines: Iterable[str]) -> Iterable[tuple[list[str], int]]:
    """The samples of a collapsed-stack file: each stack's frames (outermost first) and count."""
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            yield [frame_name(f) for f in stack.split(";")], int(count)


def summarize(
    samples: Iterable[tuple[list[str], int]], under: str | None = None
) -> tuple[int, Counter[str], Counter[str]]:
    """All samples; per function the samples with it on the stack and at its top. With
    ``under``, "on the stack" counts only the functions ``under`` called directly."""
    total, inclusive, self_ = 0, Counter[str](), Counter[str]()
    for frames, count in samples:
        total += count
        if under is not None:
            at = next((i for i, f in enumerate(frames) if f.split(" (")[0] == under), None)
            if at is None:
                continue
            inclusive[frames[at + 1] if at + 1 < len(frames) else "(itself)"] += count
            continue
        for name in set(frames):
            inclusive[name] += count
        self_[frames[-1]] += count
    return total, inclusive, self_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=40, help="rows of each table")
    parser.add_argument("--under", help="what this function (e.g. Outbox._publish) called")
    args = parser.parse_args()
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    lines = (line for f in args.files for line in f.read_text().splitlines())
    total, inclusive, self_ = summarize(stacks(lines), args.under)
    if not total:
        parser.error("no samples in those files")
    console = Console()
    for title, counts in (("inclusive", inclusive), ("self", self_)):
        if not counts:
            continue
        table = Table(title=f"{title}: % of {total:,} samples")
        table.add_column("%", justify="right")
        table.add_column("function (file)")
        for name, count in counts.most_common(args.top):
            table.add_row(f"{100 * count / total:.1f}", name)
        print_table(console, table)


if __name__ == "__main__":
    main()
