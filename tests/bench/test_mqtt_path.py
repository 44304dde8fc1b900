"""Section 2's figures from its rounds (bench/mqtt_path.py): each throughput round is compared
with the raw baseline measured just before it, and the rows say which figure is which."""

from __future__ import annotations

from bench.mqtt_path import Raw, Round, _rows


def a_round(raw: float, received: float, node_us: float = 700.0) -> Round:
    return Round(
        raw=Raw(rate=raw, broker_us=20.0, clients_us=18.0),
        calls_per_s=received / 15,
        received_per_s=received,
        node_us=node_us,
        broker_us=550.0,
        ui_us=260.0,
        sent_per_call=30.0,
    )


def test_the_share_is_each_rounds_own_then_the_median() -> None:
    # A slow machine moment slows both sides: round 2's share is 50 % of its own raw rate,
    # though its received rate is the lowest. The ratio of the medians would say 33 %.
    rounds = [a_round(60_000, 18_000), a_round(30_000, 15_000), a_round(45_000, 20_000)]
    rows = {
        label.strip(): value
        for label, value, _, _ in _rows(
            rounds, 4_000.0, 20_000.0, {"p50": 2.0, "p99": 9.0, "lost": 0}
        )
    }
    shares = sorted([30.0, 50.0, 100 * 20_000 / 45_000])
    assert (
        rows[
            "as share of the raw baseline: median of the rounds' shares, each of the raw baseline"
            " just before it"
        ]
        == shares[1]
    )
    assert rows["the lowest round's share (of 3)"] == shares[0]
    assert rows["the highest round's share (of 3)"] == shares[2]
    assert (
        rows[
            "raw baseline, signed in, ACLs on: our client -> mosquitto -> subscriber (median of 3,"
            " each just before a throughput round)"
        ]
        == 45_000
    )
    assert rows["event messages received by that UI process"] == 18_000
    assert rows["CPU of the node's process during the rounds"] == 700.0 * 18_000 / 15 / 1e4


def test_every_row_says_what_it_measures() -> None:
    rows = _rows([a_round(40_000, 16_000)], 4_000.0, 20_000.0, {"p50": 2.0, "p99": 9.0, "lost": 0})
    labels = [label.strip() for label, _, _, _ in rows]
    assert all(labels) and len(set(labels)) == len(labels)
