"""Services HiPath / OpenScape Business applications use (issue 20 item 6, specs/csta.md
"Services (HiPath/OpenScape applications)"): getDoNotDisturb, changeMonitorFilter, monitors
on a call object, clearCall's connectionCleared per party, generateDigits; setDisplay and
escape are understood and refused with the precise error, changing nothing."""

from __future__ import annotations

from typing import Any

import pytest

from cti.calls import commands as c
from cti.csta.client import CstaClient, CstaRefused
from cti.csta.codec import named_bits
from cti.csta.ids import connection, device_id
from tests.csta.conftest import Link

EMPTY = (b"", 0)


def _filter(*call_control: str) -> dict[str, Any]:
    return {
        "callControl": named_bits(call_control, "CallControlEvents"),
        "callAssociated": EMPTY,
        "mediaAttachment": EMPTY,
        "physicalDeviceFeature": EMPTY,
        "logicalDeviceFeature": EMPTY,
        "maintenance": EMPTY,
        "voiceUnit": EMPTY,
        "private": EMPTY,
    }


async def reports(app: CstaClient) -> list[tuple[bytes, str, str]]:
    """Every report the switch sent so far, as (xref, event, cause or ""): a systemStatus
    answered is the fence (reports of earlier commits are written before any result)."""
    await app.invoke("systemStatus", {"systemStatus": "normal"})
    got = []
    while not app.events.empty():
        report = app.events.get_nowait()
        got.append((report.xref, report.name, str(report.value.get("cause", ""))))
    return got


def _dial(calling: str, called: str) -> dict[str, Any]:
    return {"callingDevice": device_id(calling), "calledDirectoryNumber": device_id(called)}


async def _refused(app: CstaClient, operation: str, argument: Any) -> tuple[str, str]:
    try:
        await app.invoke(operation, argument)
    except CstaRefused as refused:
        return (refused.branch, refused.value)
    raise AssertionError(f"{operation} was not refused")


# -- getDoNotDisturb (308) -------------------------------------------------------------------
async def test_get_do_not_disturb_reads_the_device(link: Link, app: CstaClient) -> None:
    ask = {"device": device_id("331")}
    assert await app.invoke("getDoNotDisturb", ask) == {"doNotDisturbOn": False}
    assert (await link.engine.execute(c.SetDoNotDisturb(device="331", on=True))).ok
    assert await app.invoke("getDoNotDisturb", ask) == {"doNotDisturbOn": True}
    assert await app.invoke("getDoNotDisturb", {"device": device_id("330")}) == {
        "doNotDisturbOn": False
    }


# -- changeMonitorFilter (72) ----------------------------------------------------------------
async def test_change_monitor_filter_changes_what_the_monitor_reports(
    link: Link, app: CstaClient
) -> None:
    xref = await app.monitor_start("331")
    await app.invoke("makeCall", _dial("330", "331"))
    assert await reports(app) == [(xref, "delivered", "newCall")]
    quiet = _filter("delivered", "established", "connectionCleared")
    answer = await app.invoke(
        "changeMonitorFilter", {"crossRefIdentifier": xref, "requestedFilterList": quiet}
    )
    assert answer == {"actualFilterList": quiet}
    await app.invoke("answerCall", {"callToBeAnswered": connection(1, "331")})
    await app.invoke("clearConnection", {"connectionToBeCleared": connection(1, "330")})
    assert await reports(app) == [(xref, "callCleared", "normalClearing")]
    # and back to every event
    everything = {"crossRefIdentifier": xref, "requestedFilterList": _filter()}
    # (an all-default MonitorFilter is an empty SEQUENCE: the OPTIONAL field is left out)
    assert await app.invoke("changeMonitorFilter", everything) == {}
    await app.invoke("makeCall", _dial("330", "331"))
    await app.invoke("clearCall", {"callToBeCleared": connection(2)})
    assert await reports(app) == [
        (xref, "delivered", "newCall"),
        (xref, "connectionCleared", "normalClearing"),
        (xref, "callCleared", "normalClearing"),
    ]


async def test_change_monitor_filter_of_another_association_is_unknown(link: Link) -> None:
    async with link.client() as one, link.client() as other:
        xref = await one.monitor_start("330")
        argument = {"crossRefIdentifier": xref, "requestedFilterList": _filter("delivered")}
        assert await _refused(other, "changeMonitorFilter", argument) == (
            "operation",
            "invalidMonitorCrossRefID",
        )


# -- monitors on a call object (71 with callObject) ------------------------------------------
async def test_call_monitor_reports_every_event_of_its_call_until_it_ends(
    link: Link, app: CstaClient
) -> None:
    await app.invoke("makeCall", _dial("330", "331"))
    await app.invoke("makeCall", _dial("332", "333"))  # another call: not reported
    started = await app.invoke(
        "monitorStart", {"monitorObject": ("callObject", connection(1)), "monitorType": "call"}
    )
    xref = started["crossRefIdentifier"]
    await app.invoke("answerCall", {"callToBeAnswered": connection(1, "331")})
    await app.invoke("answerCall", {"callToBeAnswered": connection(2, "333")})
    await app.invoke("holdCall", {"callToBeHeld": connection(1, "330")})
    await app.invoke("retrieveCall", {"callToBeRetrieved": connection(1, "330")})
    await app.invoke("clearConnection", {"connectionToBeCleared": connection(1, "331")})
    assert await reports(app) == [
        (xref, "established", "newCall"),
        (xref, "held", "normal"),
        (xref, "retrieved", "normal"),
        (xref, "connectionCleared", "normalClearing"),
        (xref, "callCleared", "normalClearing"),
    ]
    # the monitor ended with its call
    assert await _refused(app, "monitorStop", {"crossRefIdentifier": xref}) == (
        "operation",
        "invalidMonitorCrossRefID",
    )


async def test_call_monitor_has_no_local_device(link: Link, app: CstaClient) -> None:
    await app.invoke("makeCall", _dial("330", "331"))
    await app.invoke("monitorStart", {"monitorObject": ("callObject", connection(1, "331"))})
    await app.invoke("answerCall", {"callToBeAnswered": connection(1, "331")})
    report = await app.next_event()
    assert report.name == "established"
    assert "localConnectionInfo" not in report.value
    assert report.value["establishedConnection"] == connection(1, "331")


async def test_call_monitor_follows_its_call_into_a_transfer(link: Link, app: CstaClient) -> None:
    """A monitor of the consultation call reports the transfer that merges it and then the
    resulting call's events, up to its callCleared."""
    await app.invoke("makeCall", _dial("330", "331"))
    await app.invoke("answerCall", {"callToBeAnswered": connection(1, "331")})
    consult = {"existingCall": connection(1, "330"), "consultedDevice": device_id("332")}
    await app.invoke("consultationCall", consult)
    started = await app.invoke("monitorStart", {"monitorObject": ("callObject", connection(2))})
    xref = started["crossRefIdentifier"]
    await app.invoke("answerCall", {"callToBeAnswered": connection(2, "332")})
    await app.invoke(
        "transferCall", {"heldCall": connection(1, "330"), "activeCall": connection(2, "330")}
    )
    await app.invoke("clearCall", {"callToBeCleared": connection(1)})
    assert await reports(app) == [
        (xref, "established", "consultation"),
        (xref, "transferred", "transfer"),
        (xref, "connectionCleared", "normalClearing"),
        (xref, "callCleared", "normalClearing"),
    ]
    assert await _refused(app, "monitorStop", {"crossRefIdentifier": xref}) == (
        "operation",
        "invalidMonitorCrossRefID",
    )


async def test_call_monitor_filter_applies(link: Link, app: CstaClient) -> None:
    await app.invoke("makeCall", _dial("330", "331"))
    argument = {
        "monitorObject": ("callObject", connection(1)),
        "requestedMonitorFilter": _filter("established"),
    }
    xref = (await app.invoke("monitorStart", argument))["crossRefIdentifier"]
    await app.invoke("answerCall", {"callToBeAnswered": connection(1, "331")})
    await app.invoke("clearCall", {"callToBeCleared": connection(1)})
    assert await reports(app) == [
        (xref, "connectionCleared", "normalClearing"),
        (xref, "callCleared", "normalClearing"),
    ]


# -- clearCall (4): connectionCleared per party, then callCleared ------------------------------
async def test_clear_call_reports_each_partys_connection_cleared(
    link: Link, app: CstaClient
) -> None:
    """Every monitored party sees a connectionCleared before (or instead of) the callCleared:
    the parties leave in the call's order, as if each hung up."""
    at = {await app.monitor_start(device): device for device in ("330", "331", "332")}
    await app.invoke("makeCall", _dial("330", "331"))
    await app.invoke("answerCall", {"callToBeAnswered": connection(1, "331")})
    consult = {"existingCall": connection(1, "330"), "consultedDevice": device_id("332")}
    await app.invoke("consultationCall", consult)
    await app.invoke("answerCall", {"callToBeAnswered": connection(2, "332")})
    await app.invoke(
        "conferenceCall", {"heldCall": connection(1, "330"), "activeCall": connection(2, "330")}
    )
    await reports(app)
    await app.invoke("clearCall", {"callToBeCleared": connection(1)})
    got = [(at[xref], event, _) for xref, event, _ in await reports(app)]
    assert [(device, event) for device, event, _ in got] == [
        ("330", "connectionCleared"),  # 330 leaves first
        ("331", "connectionCleared"),
        ("332", "connectionCleared"),
        ("331", "connectionCleared"),  # then 331
        ("332", "connectionCleared"),
        ("332", "callCleared"),  # and the call with 332
    ]


async def test_generate_digits_on_a_live_connection_is_heard_by_the_call(
    link: Link, app: CstaClient
) -> None:
    await app.invoke("makeCall", _dial("330", "331"))
    await app.invoke("answerCall", {"callToBeAnswered": connection(1, "331")})
    seq = link.node.state.seq
    argument = {
        "connectionToSendDigits": connection(1, "330"),
        "digitMode": "dTMF",
        "charactersToSend": "51",
    }
    assert await app.invoke("generateDigits", argument) == ("noData", None)
    assert [x.kind for x in link.node.store.read(seq + 1)] == ["digitsGenerated"]
    seq = link.node.state.seq
    pulses = {**argument, "digitMode": "rotaryPulse"}
    assert await _refused(app, "generateDigits", pulses) == ("operation", "invalidParameterValue")
    not_in_call = {"connectionToSendDigits": connection(1, "332"), "charactersToSend": "5"}
    assert await _refused(app, "generateDigits", not_in_call) == (
        "operation",
        "invalidConnectionID",
    )
    not_dtmf = {"connectionToSendDigits": connection(1, "330"), "charactersToSend": "5x"}
    assert await _refused(app, "generateDigits", not_dtmf) == ("operation", "invalidParameterValue")
    assert link.node.state.seq == seq


# -- understood, but the node cannot do them ---------------------------------------------------
async def test_set_display_and_escape_change_nothing(link: Link, app: CstaClient) -> None:
    seq = link.node.state.seq
    display = {"device": device_id("331"), "contentsOfDisplay": "Call Anna back", "offset": 24}
    assert await _refused(app, "setDisplay", display) == ("operation", "serviceNotSupported")
    escape = {"privateData": bytes.fromhex("0403") + b"ver"}
    assert await _refused(app, "escape", escape) == ("operation", "privateDataNotSupported")
    assert link.node.state.seq == seq


async def test_call_monitor_ends_with_its_call_even_if_the_report_fails(
    link: Link, app: CstaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callCleared that cannot be rendered (a bug) is dropped, but the monitor still ends:
    no id stays taken for a call that is gone."""
    from cti.calls import events as ev
    from cti.csta.link import reports as reports_module

    def broken(event: Any) -> Any:
        raise RuntimeError("render bug")

    monkeypatch.setitem(reports_module._RENDER, ev.CallCleared, broken)
    await app.invoke("makeCall", _dial("330", "331"))
    started = await app.invoke("monitorStart", {"monitorObject": ("callObject", connection(1))})
    xref = started["crossRefIdentifier"]
    await app.invoke("clearCall", {"callToBeCleared": connection(1)})
    assert await reports(app) == [(xref, "connectionCleared", "normalClearing")]
    assert await _refused(app, "monitorStop", {"crossRefIdentifier": xref}) == (
        "operation",
        "invalidMonitorCrossRefID",
    )
