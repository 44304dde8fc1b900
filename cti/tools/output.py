"""How the tools print a table (`cti calls`, `cti users`, `phone-sim load`, the benchmarks):
in a terminal at most as wide as the terminal, as rich does; into a pipe or a file at its
natural width, each row one line, nothing wrapped or cut (rich would fit it into 80 columns,
or COLUMNS, and wrap every cell: `cti calls list | grep 331` found half a row)."""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.measure import Measurement

#: Room to measure a table's natural width in (far wider than any row of ours).
_ROOM = 100_000


def print_table(console: Console, table: RenderableType) -> None:
    """Print ``table`` (a rich Table, or anything rich measures) with ``console``."""
    if console.is_terminal:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update_width(_ROOM), table).maximum
    width = console.width
    console.width = natural
    try:
        console.print(table)
    finally:
        console.width = width
