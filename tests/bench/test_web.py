"""Smoke test of `make bench` section 10 (bench/web.py): the whole path with tiny numbers (one
repetition, 35 favourites: two groups), asserting the rows it produces. No timing is asserted:
the numbers belong in BENCHMARKS.md, not in a test."""

from __future__ import annotations

import math

from bench import web


def test_web_bench_produces_its_rows() -> None:
    rows = web.run(reps=1, favourites=35)
    names = [name for name, _, _, _ in rows]
    assert names[0] == "page load to the sign-in form (median)"
    assert "lamp to ringing with 35 favourites (median)" in names
    assert len(rows) == 6
    assert all(math.isfinite(value) and value > 0 for _, value, _, _ in rows)
