"""Smoke test of `make bench` section 5b (bench/csta_link.py): the whole code path with tiny
numbers (two associations, a few calls), asserting the rows it produces. No timing is asserted:
the numbers belong in BENCHMARKS.md, not in a test."""

from __future__ import annotations

import math

from rich.progress import Progress

from bench import csta_link


def test_link_bench_produces_its_rows() -> None:
    plan = csta_link.Plan(associations=2, calls=6, concurrency=2)
    with Progress(disable=True) as progress:
        rows = csta_link.run(progress, plan)
    names = [name for name, _, _, _ in rows]
    assert names[0].startswith("2 associations x 200 monitors: monitorStart of all 400 monitors")
    assert any("calls/s the first association drove" in n and "6 calls" in n for n in names)
    assert any(n.strip() == "invoke -> result p99" for n in names)
    assert any("at every one of the 2 association(s)" in n for n in names)
    assert len(rows) == 12
    by_name = {name.strip().split(":")[0]: value for name, value, _, _ in rows}
    assert by_name["reports lost"] == 0  # every report the log owes both associations came
    assert by_name["failed calls (an invoke refused, rejected or timed out)"] == 0
    assert all(math.isfinite(value) and value >= 0 for _, value, _, _ in rows)
