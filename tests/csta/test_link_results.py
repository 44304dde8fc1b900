"""Results of accepted services: built from the committed outcome, and always a ReturnResult
once the command was accepted (its events are durable), whatever rendering does."""

from __future__ import annotations

from typing import Any

import pytest

from cti.calls import events as ev
from cti.csta.client import CstaClient
from cti.csta.ids import device_id
from cti.csta.link import reports as reports_module
from cti.csta.link import services
from cti.csta.link import session as session_module
from tests.csta.conftest import Link, events_until
from tests.csta.flows import Trace

MAKE_CALL = {"callingDevice": device_id("330"), "calledDirectoryNumber": device_id("331")}


async def _held_and_consulted(t: Trace) -> tuple[int, int]:
    call = await t.make_call("330", "331")
    await t.answer(call, "331")
    second = await t.consult(call, "330", "332")
    await t.answer(second, "332")
    return call, second


@pytest.mark.parametrize(
    ("operation", "event", "field"),
    [
        ("transferCall", "transferred", "transferredConnections"),
        ("conferenceCall", "conferenced", "conferenceConnections"),
    ],
)
async def test_merge_result_lists_the_connections_of_its_event(
    link: Link, app: CstaClient, operation: str, event: str, field: str
) -> None:
    t = Trace(app, link.clock)
    await t.monitor("331")
    call, second = await _held_and_consulted(t)
    t.take()
    result = await t.two_calls(operation, call, second, "330")
    (report,) = [r for r in t.reports if r.name == event]
    assert result["connections"] == report.value[field]
    assert any("oldConnection" in c for c in result["connections"])  # 332 came over


def _calls(link: Link) -> int:
    return len(link.node.state.calls.calls)


async def test_render_failure_after_acceptance_still_returns_a_result(
    link: Link, app: CstaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(services, "connection", broken)
    result = await app.invoke("makeCall", MAKE_CALL)
    assert result is None  # a ReturnResult without result data, not universalFailure
    assert _calls(link) == 1


async def test_unencodable_result_after_acceptance_still_returns_a_result(
    link: Link, app: CstaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = services.CommandService(services._make_call, lambda outcome, command: {"no": 1})
    monkeypatch.setitem(services._HANDLERS, "makeCall", bogus)
    assert await app.invoke("makeCall", MAKE_CALL) is None
    assert _calls(link) == 1
    monkeypatch.undo()
    await app.invoke("snapshotDevice", {"snapshotObject": device_id("330")})  # link goes on


async def test_a_failing_report_does_not_stop_later_reports(
    link: Link, app: CstaClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await app.monitor_start("331")  # a monitoring-only application
    (monitoring,) = [s for s in link.server.sessions if len(s.monitors)]
    async with link.client() as caller:
        made = await caller.invoke("makeCall", MAKE_CALL)
        await events_until(app, lambda got: any(r.name == "delivered" for r in got))
        original = session_module.reports
        failures: list[str] = []

        def reports_failing_once(item: Any, monitors: Any, rights: Any) -> Any:
            if not failures:
                failures.append(item.event.KIND)
                raise RuntimeError("report renderer bug")
            return original(item, monitors, rights)

        monkeypatch.setattr(session_module, "reports", reports_failing_once)
        # two batches queued before the flush runs; the first one's report fails
        monitoring.on_commit(link.committed[-1:])
        monitoring.on_commit(link.committed[-1:])
        call = made["callingDevice"][1]["callID"]
        await caller.invoke("clearCall", {"callToBeCleared": ("callID", call)})
    got = await events_until(app, lambda got: any(r.name == "callCleared" for r in got))
    assert failures and got  # the failed report was dropped, the later ones arrived
    assert "csta.report_failed" in capsys.readouterr().out  # logged (the logging itself works)


async def test_an_event_is_rendered_once_for_every_association(
    link: Link, app: CstaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    original = reports_module._RENDER[ev.Delivered]

    def counting(event: Any) -> Any:
        rendered.append(event.call)
        return original(event)

    monkeypatch.setitem(reports_module._RENDER, ev.Delivered, counting)
    async with link.client() as other:
        for client in (app, other):
            await client.monitor_start("330")
            await client.monitor_start("331")
        await app.invoke("makeCall", MAKE_CALL)
        for client in (app, other):  # 330 and 331 both see the delivered event
            got = await events_until(
                client, lambda got: sum(r.name == "delivered" for r in got) == 2
            )
            assert {r.value["localConnectionInfo"] for r in got if r.name == "delivered"} == {
                "connected",
                "alerting",
            }
    assert len(rendered) == 1
