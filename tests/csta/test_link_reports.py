"""Event reports over the CSTA link: the exact CSTA sequence per CALL-* flow, monitor filters,
and the one-to-one match with what the MQTT face publishes for the same devices."""

from __future__ import annotations

from typing import Any

import pytest

from cti.api.documents import event_doc
from cti.calls import events as ev
from cti.csta.codec import named_bits
from cti.csta.ids import connection, device_id, subject
from tests.csta.conftest import Link, LinkFactory
from tests.csta.flows import FLOWS, MONITORED, Trace

_CALL = [
    ("330", "serviceInitiated", "makeCall"),
    ("330", "originated", "newCall"),
    ("330", "delivered", "newCall"),
    ("331", "delivered", "newCall"),
]
_ANSWERED = [*_CALL, ("330", "established", "newCall"), ("331", "established", "newCall")]
_CONSULTED = [
    *_ANSWERED,
    ("330", "held", "consultation"),
    ("331", "held", "consultation"),
    ("330", "serviceInitiated", "consultation"),
    ("330", "originated", "consultation"),
    ("330", "delivered", "consultation"),
    ("332", "delivered", "consultation"),
    ("330", "established", "consultation"),
    ("332", "established", "consultation"),
]
_PICKED = [
    *_CALL,
    ("330", "diverted", "callPickup"),
    ("331", "diverted", "callPickup"),
    ("330", "established", "callPickup"),
    ("332", "established", "callPickup"),
]
EXPECTED: dict[str, list[tuple[str, str, str | None]]] = {
    "basic_call": [
        *_ANSWERED,
        ("330", "connectionCleared", "normalClearing"),
        ("331", "connectionCleared", "normalClearing"),
        ("331", "callCleared", "normalClearing"),
    ],
    "external_call": [
        ("330", "serviceInitiated", "makeCall"),
        ("330", "originated", "newCall"),
        ("330", "networkReached", "newCall"),
        ("330", "delivered", "newCall"),
        ("330", "connectionCleared", "normalClearing"),  # callCleared: the trunk party's
    ],
    "hold_retrieve": [
        *_ANSWERED,
        ("330", "held", "normal"),
        ("331", "held", "normal"),
        ("330", "retrieved", "normal"),
        ("331", "retrieved", "normal"),
    ],
    "consult_transfer": [
        *_CONSULTED,
        ("330", "transferred", "transfer"),
        ("331", "transferred", "transfer"),
        ("332", "transferred", "transfer"),
    ],
    "conference": [
        *_CONSULTED,
        ("330", "conferenced", "conference"),
        ("331", "conferenced", "conference"),
        ("332", "conferenced", "conference"),
    ],
    "deflect": [
        *_CALL,
        ("330", "diverted", "redirected"),
        ("331", "diverted", "redirected"),
        ("330", "delivered", "redirected"),
        ("332", "delivered", "redirected"),
    ],
    "directed_pickup": _PICKED,
    "group_pickup": _PICKED,
    "forward_no_answer": [
        ("331", "forwarding", None),
        *_CALL,
        ("330", "diverted", "callForwardNoAnswer"),
        ("331", "diverted", "callForwardNoAnswer"),
        ("330", "delivered", "callForwardNoAnswer"),
        ("332", "delivered", "callForwardNoAnswer"),
    ],
    "do_not_disturb": [
        ("331", "doNotDisturb", None),
        ("330", "serviceInitiated", "makeCall"),
        ("330", "originated", "newCall"),
        ("330", "failed", "doNotDisturb"),
        ("331", "failed", "doNotDisturb"),
        ("331", "doNotDisturb", None),
    ],
}


async def _trace(link: Link) -> Trace:
    client = link.client()
    await client.associate()
    trace = Trace(client, link.clock)
    await trace.monitor(*MONITORED)
    return trace


@pytest.mark.parametrize("name", list(FLOWS))
async def test_flow_reports_exact_csta_sequence(link: Link, name: str) -> None:
    trace = await _trace(link)
    await FLOWS[name](trace)
    assert trace.take() == EXPECTED[name]
    await trace.client.close()


@pytest.mark.parametrize("name", list(FLOWS))
async def test_every_mqtt_event_has_exactly_one_csta_report(link: Link, name: str) -> None:
    """What the MQTT face publishes on cti/node1/devices/{d}/events (event_doc plus one copy
    per device in ``connections``; forwarding/DND on their device) is what the monitors get,
    one report per event and device, in the same order."""
    trace = await _trace(link)
    start = len(link.committed)
    await FLOWS[name](trace)
    expected: list[tuple[str, str]] = []
    for item in link.committed[start:]:
        if item.event.KIND in ev.INTERNAL_KINDS:
            continue
        doc = event_doc(item)
        devices = [c["device"] for c in doc.get("connections", [])] or [doc.get("device")]
        expected += [(d, doc["event"]) for d in devices if d in MONITORED]
    got = [(device, event) for device, event, _ in trace.take()]
    assert got == expected
    await trace.client.close()


async def test_report_fields_of_an_answered_call(link: Link) -> None:
    trace = await _trace(link)
    call = await trace.make_call("330", "331")
    await trace.answer(call, "331")
    by_device = {(trace.device_of[r.xref], r.name): r.value for r in trace.reports}
    delivered = by_device[("331", "delivered")]
    assert delivered["connection"] == connection(call, "331")
    assert delivered["alertingDevice"] == subject("331")
    assert delivered["callingDevice"] == subject("330")
    assert delivered["calledDevice"] == subject("331")
    assert delivered["localConnectionInfo"] == "alerting"
    assert by_device[("330", "delivered")]["localConnectionInfo"] == "connected"
    established = by_device[("330", "established")]
    assert established["establishedConnection"] == connection(call, "331")
    assert established["answeringDevice"] == subject("331")
    assert established["localConnectionInfo"] == "connected"
    await trace.client.close()


async def test_transferred_names_old_and_new_connections(link: Link) -> None:
    trace = await _trace(link)
    call = await trace.make_call("330", "331")
    await trace.answer(call, "331")
    second = await trace.consult(call, "330", "332")
    await trace.answer(second, "332")
    trace.reports.clear()
    result = await trace.two_calls("transferCall", call, second, "330")
    assert result["transferredCall"] == connection(call)
    report = next(r for r in trace.reports if trace.device_of[r.xref] == "332")
    value = report.value
    assert value["primaryOldCall"] == connection(call, "330")
    assert value["secondaryOldCall"] == connection(second, "330")
    assert value["transferringDevice"] == subject("330")
    assert value["transferredToDevice"] == subject("332")
    assert value["localConnectionInfo"] == "connected"
    moved = {"newConnection": connection(call, "332"), "oldConnection": connection(second, "332")}
    assert {**moved, "endpoint": ("deviceID", device_id("332"))} in value["transferredConnections"]
    await trace.client.close()


def _filter(call_control: list[str], logical: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    empty = (b"", 0)
    return {
        "callControl": named_bits(call_control, "CallControlEvents"),
        "callAssociated": empty,
        "mediaAttachment": empty,
        "physicalDeviceFeature": empty,
        "logicalDeviceFeature": named_bits(logical, "LogicalDeviceFeatureEvents"),
        "maintenance": empty,
        "voiceUnit": empty,
        "private": empty,
    }


async def test_monitor_filter_suppresses_the_set_bits(link: Link) -> None:
    trace = await _trace(link)  # 330..332 unfiltered
    quiet = _filter(["serviceInitiated", "originated", "delivered"], ["doNotDisturb"])
    client = trace.client
    filtered = await client.monitor_start("330", quiet)
    trace.device_of[filtered] = "330 filtered"
    await trace.do("setDoNotDisturb", {"device": device_id("330"), "doNotDisturbOn": True})
    await trace.do("setDoNotDisturb", {"device": device_id("330"), "doNotDisturbOn": False})
    await FLOWS["basic_call"](trace)
    got = trace.take()
    assert [(e, c) for d, e, c in got if d == "330 filtered"] == [
        ("established", "newCall"),
        ("connectionCleared", "normalClearing"),
    ]
    assert [e for d, e, _ in got if d == "330"].count("doNotDisturb") == 2
    await client.close()


async def test_monitor_stop_ends_reports(link: Link) -> None:
    trace = await _trace(link)
    xref = next(x for x, d in trace.device_of.items() if d == "331")
    await trace.do("monitorStop", {"crossRefIdentifier": xref})
    await trace.make_call("330", "331")
    assert {d for d, _, _ in trace.take()} == {"330"}
    await trace.client.close()


async def test_reports_reach_every_association(make_link: LinkFactory) -> None:
    async with make_link() as link:
        first, second = await _trace(link), await _trace(link)
        await first.make_call("330", "331")
        await second.sync()
        assert first.take() == second.take() == _CALL
        await first.client.close()
        await second.client.close()
