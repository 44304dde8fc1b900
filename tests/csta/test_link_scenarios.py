"""Every shipped CALL-* scenario driven through the CSTA link, and its event reports compared
with what the MQTT face publishes.

The phones send their CTI services over a CSTA association (:class:`CstaLink`; hook and
keypad inputs and the redial list go to the in-process link, they are not CSTA) and read
events and states from the in-process link. A second association monitors every configured
device but the MULAP numbers (whose monitors see their group's calls, test_link_mulap.py); per
device, its reports (event, cause, call) must be exactly the MQTT event documents
for that device (``cti.api.documents.event_doc`` of the committed events whose
``connections`` include it, forwarding/doNotDisturb on their device), one report per event,
in order."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from cti.api.documents import event_doc
from cti.calls import events as ev
from cti.csta.client import CstaClient, EventReport
from phone_sim import scenario
from phone_sim.link.csta import CstaLink
from phone_sim.link.inprocess import InProcessLink
from phone_sim.sim import Simulator
from tests.csta.conftest import SETTINGS, TIMEOUT, Link, events_until

SCENARIOS = sorted((Path(__file__).parents[2] / "phone_sim" / "scenarios").glob("*.yaml"))

# The field of each call event report that names its call (a ConnectionID).
CALL_FIELDS = (
    "initiatedConnection",
    "originatedConnection",
    "outboundConnection",
    "connection",
    "establishedConnection",
    "heldConnection",
    "retrievedConnection",
    "droppedConnection",
    "clearedCall",
    "failedConnection",
    "primaryOldCall",
)
Row = tuple[str, str | None, int | None]  # event, cause, call


class Counting(CstaClient):
    """The phones' CSTA association, remembering which operations it invoked."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.operations: list[str] = []

    async def invoke(self, operation: str, argument: Any) -> Any:
        self.operations.append(operation)
        return await super().invoke(operation, argument)


def _call(value: dict[str, Any]) -> int | None:
    for field in CALL_FIELDS:
        if field in value:
            kind, body = value[field]
            return int(body if kind == "callID" else body["callID"])
    return None


def _mqtt_rows(link: Link, monitored: set[str]) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = {d: [] for d in monitored}
    for item in link.committed:
        if item.event.KIND in ev.INTERNAL_KINDS:
            continue
        doc = event_doc(item)
        devices = [c["device"] for c in doc.get("connections", [])] or [doc.get("device")]
        for device in devices:
            if device in rows:
                rows[device].append((doc["event"], doc.get("cause"), doc.get("call")))
    return rows


def _csta_rows(reports: list[EventReport], device_of: dict[bytes, str]) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = {d: [] for d in device_of.values()}
    for r in reports:
        rows[device_of[r.xref]].append((r.name, r.value.get("cause"), _call(r.value)))
    return rows


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_scenario_through_the_csta_link(link: Link, path: Path) -> None:
    monitor = link.client()
    await monitor.associate()
    # MULAP numbers report their group's calls (test_link_mulap.py), not the MQTT device events
    site = link.node.site
    devices = sorted(d for d in site.devices if not site.devices[d].members)
    device_of = {await monitor.monitor_start(d): d for d in devices}

    phones = Counting("127.0.0.1", link.port, password=SETTINGS.password, timeout=TIMEOUT)
    sim = Simulator(CstaLink(InProcessLink(link.engine), phones), link.clock)
    sim.timeout = TIMEOUT
    await sim.start()

    async def advance(seconds: float) -> None:
        link.clock.advance(seconds)
        await asyncio.sleep(0)

    try:
        await scenario.run(sim, scenario.load(path), advance=advance)
    finally:
        await sim.close()

    assert "makeCall" in phones.operations  # the phones' services went through CSTA
    expected = _mqtt_rows(link, set(device_of.values()))
    count = sum(map(len, expected.values()))
    reports = await events_until(monitor, lambda got: len(got) >= count)
    await monitor.invoke("systemStatus", {"systemStatus": "normal"})  # flush: nothing more
    while not monitor.events.empty():
        reports.append(monitor.events.get_nowait())
    await monitor.release()
    got = _csta_rows(reports, device_of)
    assert count > 0
    assert {d: rows for d, rows in got.items() if rows} == {
        d: rows for d, rows in expected.items() if rows
    }


async def test_requests_refused_over_csta_carry_our_error_names(link: Link) -> None:
    """A refusal is the same error name as in-process; physical inputs bypass CSTA."""
    inner = InProcessLink(link.engine)
    csta = CstaLink(inner, link.client())
    csta.listen(lambda docs: None, lambda doc: None)
    await csta.start()
    try:
        for service, fields in (
            ("answerCall", {"call": 9, "device": "330"}),
            ("holdCall", {"call": "x", "device": "330"}),
            ("alternateCall", {"device": "330"}),
            ("makeCall", {"calling": "999", "called": "330"}),
        ):
            over_csta = await csta.request(service, fields)
            in_process = await inner.request(service, fields)
            assert not over_csta["ok"] and not in_process["ok"]
            assert over_csta["error"]["code"] == in_process["error"]["code"], service
        lifted = await csta.request("offHook", {"device": "330"})
        assert lifted["ok"] and lifted["seq"] == link.node.state.seq
        assert csta.seq == link.node.state.seq
        assert (await csta.request("redialList", {"device": "330"}))["ok"]
    finally:
        await csta.close()
