"""Smoke test of bench/device_views.py (the CALL-12 buttons microbenchmark): the site it
measures holds the states BENCHMARKS.md says it does, and the script runs. No timing is
asserted: the numbers belong in BENCHMARKS.md, not in a test."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import device_views
from cti.calls.services.allowed import TWO_CALL_SERVICES, allowed_services
from cti.calls.values import ConnectionState as CS


def test_the_measured_site_rings_talks_holds_and_consults() -> None:
    node = device_views.busy_site()
    switch = node.state.calls
    states = Counter(p.state for call in switch.calls.values() for p in call.parties)
    # 20 ringing pairs and 10 ringing consultations: a caller connected, a phone alerting.
    assert states[CS.ALERTING] == 30
    assert states[CS.HOLD] == 10 + 20  # held calls and the consultations' held first calls
    assert len(switch.calls) == 105
    assert sum(states.values()) == 215
    paired = [
        (p.device, call)
        for call in switch.calls.values()
        for p in call.parties
        if set(TWO_CALL_SERVICES) <= set(allowed_services(node.site, switch, p.device, call))
    ]
    assert len(paired) == 2 * 10  # both calls of each answered consultation


def test_the_script_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["device_views", "--repetitions", "1", "--rounds", "1"])
    device_views.main()
    out = capsys.readouterr().out
    assert "105 calls, 215 connections on 195 devices, 820 services offered in all" in out
    assert "min of 1: allowed_services" in out
