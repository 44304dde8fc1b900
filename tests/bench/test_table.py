"""The table `python -m bench` prints (bench/__main__.py), into a pipe as into a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from bench.__main__ import print_results

RESULTS: dict[str, list[list[object]]] = {
    "1. engine alone": [
        ["makeCall -> answer -> clear, events committed per second", 41234.5, "ev/s", ">= 5000"],
        ["replay of 100,000 events into the state", 2.5, "s", "<= 10 s"],
    ],
    "5b. CSTA link end to end": [["makeCall round trip p99, 16 associations", 3.4, "ms", None]],
}


def rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines()]


def test_into_a_pipe_each_row_is_one_line() -> None:
    """Not a terminal (`make bench | tee`): the table at its natural width, a row a line; rich
    fitted it into 80 columns and wrapped each cell over several lines."""
    out = io.StringIO()
    print_results(Console(file=out, width=80), RESULTS)
    got = [row for row in rows(out.getvalue()) if row]
    assert got == [
        [
            "1. engine alone",
            "makeCall -> answer -> clear, events committed per second",
            "41,234.5",
            "ev/s",
            ">= 5000",
        ],
        ["", "replay of 100,000 events into the state", "2.5", "s", "<= 10 s"],
        ["5b. CSTA link end to end", "makeCall round trip p99, 16 associations", "3.4", "ms", ""],
    ]


def test_in_a_terminal_it_keeps_to_the_terminals_width() -> None:
    out = io.StringIO()
    print_results(Console(file=out, width=80, force_terminal=True, color_system=None), RESULTS)
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(lines) > 8  # title, frame and header (5), and the 3 rows wrapped
