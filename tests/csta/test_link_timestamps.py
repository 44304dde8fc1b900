"""Event reports carry the event's own time (issue 20 item 5): CSTACommonArguments ->
security -> timestamp, a GeneralizedTime, as HiPath / OpenScape Business switches send it.

The time is the event's commit time in the log (``Committed.ts_ms``, the node's clock), never
the time the report is written; the node's clock is a ManualClock here, so every value is
known in advance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from asn1tools.codecs import generalized_time_to_datetime  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from cti.api.documents import event_doc
from cti.calls import commands as c
from cti.calls import events as ev
from cti.csta.link.reports import time_info
from tests.csta.conftest import Link, events_until
from tests.csta.flows import MONITORED, Trace

JAN_1 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, where the tests' ManualClock starts


@pytest.mark.parametrize(
    ("ts_ms", "text"),
    [
        (JAN_1, "20260101000000Z"),  # whole seconds: no fraction
        (JAN_1 + 250, "20260101000000.25Z"),  # no trailing zeros (X.690 11.7)
        (JAN_1 + 5, "20260101000000.005Z"),
        (JAN_1 + 100, "20260101000000.1Z"),
        (JAN_1 + 86_399_999, "20260101235959.999Z"),
    ],
)
def test_time_info_is_the_der_generalized_time(ts_ms: int, text: str) -> None:
    assert time_info(ts_ms) == text


@given(st.integers(0, 4_102_444_799_999))  # up to the end of 2099
def test_an_independent_parser_reads_the_same_instant(ts_ms: int) -> None:
    parsed = generalized_time_to_datetime(time_info(ts_ms))
    assert parsed == datetime.fromtimestamp(ts_ms / 1000, UTC)


def _stamp(report: object) -> str:
    return report.value["extensions"]["security"]["timestamp"]  # type: ignore[attr-defined, no-any-return]


async def test_every_report_carries_its_events_log_time(link: Link) -> None:
    """A call over several seconds: each report has the commit time of the event it reports
    (the same order as the events the MQTT face publishes for the monitored devices)."""
    client = link.client()
    await client.associate()
    trace = Trace(client, link.clock)
    await trace.monitor(*MONITORED)
    start = len(link.committed)
    link.clock.advance(1.25)
    call = await trace.make_call("330", "331")
    link.clock.advance(7.5)
    await trace.answer(call, "331")
    link.clock.advance(61)
    await trace.do(
        "setDoNotDisturb",
        {"device": {"deviceIdentifier": ("dialingNumber", "332")}, "doNotDisturbOn": True},
    )
    link.clock.advance(0.001)
    await trace.clear(call, "330")
    expected: list[tuple[str, str, str]] = []
    for item in link.committed[start:]:
        if item.event.KIND in ev.INTERNAL_KINDS:
            continue
        doc = event_doc(item)
        devices = [x["device"] for x in doc.get("connections", [])] or [doc.get("device")]
        expected += [(d, doc["event"], time_info(item.ts_ms)) for d in devices if d in MONITORED]
    got = [(trace.device_of[r.xref], r.name, _stamp(r)) for r in trace.reports]
    assert got == expected
    assert {stamp for *_, stamp in got} == {
        "20260101000001.25Z",
        "20260101000008.75Z",
        "20260101000109.75Z",
        "20260101000109.751Z",
    }
    await client.close()


async def test_a_report_written_later_keeps_the_events_time(link: Link) -> None:
    """The time is the log's, not the time of writing: a batch committed at t and reported
    a minute later still says t."""
    async with link.client() as app:
        await app.monitor_start("330")
        assert (await link.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
        (first,) = await events_until(app, lambda got: len(got) == 1)
        committed = link.committed[-1]
        assert _stamp(first) == time_info(committed.ts_ms) == "20260101000000Z"
        link.clock.advance(60)
        (session,) = [s for s in link.server.sessions if len(s.monitors)]
        session.on_commit([committed])  # the same event again, written now
        (again,) = await events_until(app, lambda got: len(got) == 1)
        assert _stamp(again) == "20260101000000Z"


def test_the_spec_shows_these_bytes() -> None:
    from cti.csta import codec
    from tests.csta.test_hipath_aare import spec_hex

    value = {"security": {"timestamp": time_info(1_796_631_330_250)}}
    assert value["security"]["timestamp"] == "20261207081530.25Z"
    assert spec_hex("On the wire, after the event's other fields") == codec.encode(
        "CSTACommonArguments", value
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20260101000000Z", JAN_1 / 1000),
        ("20260101000000.25Z", JAN_1 / 1000 + 0.25),
        ("20260101000000.005Z", JAN_1 / 1000 + 0.005),
        ("202601010000Z", None),  # no seconds: not what a switch writes here
        ("20260101000000", None),  # local time: no zone
        ("2026-01-01T00:00Z", None),
        (None, None),
    ],
)
def test_the_client_reads_the_timestamp(text: str | None, seconds: float | None) -> None:
    from cti.csta.client.connection import generalized_time

    got = generalized_time(text)
    assert got == pytest.approx(seconds) if seconds is not None else got is None


async def test_cti_csta_monitor_shows_the_events_time(link: Link) -> None:
    """The monitor line starts with the event's time as the switch logged it, not the
    arrival time (the node's ManualClock is at 2026-01-01 00:00:01.25 UTC)."""
    import time

    from cti.tools.csta import format_report

    link.clock.advance(1.25)
    async with link.client() as app:
        xref = await app.monitor_start("330")
        assert (await link.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
        (got,) = await events_until(app, lambda got: len(got) == 1)
    assert got.logged == pytest.approx(JAN_1 / 1000 + 1.25)
    expected = time.strftime("%H:%M:%S", time.localtime(JAN_1 / 1000 + 1)) + ".250"
    assert format_report(got, {xref: "330"}).split()[:3] == [expected, "330", "doNotDisturb"]
