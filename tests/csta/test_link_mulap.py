"""MULAP monitors over the CSTA link (CALL-14, specs/csta.md "MULAP monitors").

As on OpenScape Business, a monitor on the group number 340 (members 337 and 338) gets the
group's calls as the group's connection ``(call, 340)`` with the group's state; the member that
answered (held, released, deflected ...) is named in the field that says who acted. Monitors on
the member phones keep reporting the phones' own connections. Every test runs over a real TCP
association and asserts the exact reports, one line per report:
``monitored event(cause) field=value ... | localConnectionInfo``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cti.calls import commands as cmd
from cti.calls.values import ConnectionState
from cti.csta.client import EventReport
from cti.csta.codec import named_bits
from cti.csta.ids import connection, device_id
from cti.csta.link.mulap import group_state
from tests.csta.conftest import SETTINGS, Link
from tests.csta.flows import Trace
from tests.csta.test_link_asn1tools import Asn1toolsApp, conn, dev


def _short(value: Any) -> str:
    kind, body = value
    if kind == "both":
        return f"{int(body['callID'])}@{body['deviceID'][1]['deviceIdentifier'][1]}"
    if kind == "callID":
        return str(int(body))
    return str(body["deviceIdentifier"][1])  # deviceIdentifier / deviceID


def _line(trace: Trace, report: EventReport) -> str:
    value = dict(report.value)
    state = value.pop("localConnectionInfo", "-")
    cause = value.pop("cause", None)
    value.pop("lastRedirectionDevice", None)
    fields = " ".join(
        f"{k}={_short(v)}" for k, v in value.items() if isinstance(v, tuple) and v[0] != "notKnown"
    )
    return f"{trace.device_of[report.xref]} {report.name}({cause}) {fields} | {state}"


def _take(trace: Trace) -> list[str]:
    lines = [_line(trace, r) for r in trace.reports]
    trace.reports = []
    return lines


async def _trace(link: Link, *devices: str) -> Trace:
    client = link.client()
    await client.associate()
    trace = Trace(client, link.clock)
    await trace.monitor(*devices)
    return trace


_RINGING = [
    "340 delivered(newCall) connection=1@340 alertingDevice=340 callingDevice=330"
    " calledDevice=340 | alerting",
]


async def test_group_call_answered_by_a_member_is_reported_on_the_group(link: Link) -> None:
    """One delivered for the group (not one per ringing member), established naming the member
    that answered; the other member stopping is the group's business; the end."""
    trace = await _trace(link, "340")
    call = await trace.make_call("330", "340")
    assert _take(trace) == _RINGING
    await trace.answer(call, "338")

    assert _take(trace) == [
        "340 established(newCall) establishedConnection=1@340 answeringDevice=338"
        " callingDevice=330 calledDevice=340 | connected",
    ]
    await trace.clear(call, "330")

    assert _take(trace) == [
        "340 connectionCleared(normalClearing) droppedConnection=1@330 releasingDevice=330"
        " | connected",
        "340 callCleared(normalClearing) clearedCall=1 | -",
    ]
    await trace.client.close()


async def test_the_group_connection_controls_the_member_that_has_the_call(link: Link) -> None:
    """An application that knows only the group answers, holds, retrieves and clears with the
    reported connection (call, 340): the first ringing member answers, then that member acts."""
    trace = await _trace(link, "340", "337", "338")
    call = await trace.make_call("330", "340")
    _take(trace)
    await trace.answer(call, "340")
    await trace.hold(call, "340")
    await trace.retrieve(call, "340")
    await trace.clear(call, "340")

    assert _take(trace) == [
        "337 established(newCall) establishedConnection=1@337 answeringDevice=337"
        " callingDevice=330 calledDevice=340 | connected",
        "338 established(newCall) establishedConnection=1@337 answeringDevice=337"
        " callingDevice=330 calledDevice=340 | alerting",
        "340 established(newCall) establishedConnection=1@340 answeringDevice=337"
        " callingDevice=330 calledDevice=340 | connected",
        "337 connectionCleared(normalClearing) droppedConnection=1@338 releasingDevice=338"
        " | connected",
        "338 connectionCleared(normalClearing) droppedConnection=1@338 releasingDevice=338 | null",
        "337 held(normal) heldConnection=1@337 holdingDevice=337 | hold",
        "340 held(normal) heldConnection=1@340 holdingDevice=337 | hold",
        "337 retrieved(normal) retrievedConnection=1@337 retrievingDevice=337 | connected",
        "340 retrieved(normal) retrievedConnection=1@340 retrievingDevice=337 | connected",
        "337 connectionCleared(normalClearing) droppedConnection=1@337 releasingDevice=337 | null",
        "340 connectionCleared(normalClearing) droppedConnection=1@340 releasingDevice=337 | null",
    ]
    assert link.node.state.calls.call(call) is None  # 330 was left alone: the call ended
    await trace.client.close()


async def test_member_monitors_report_the_phones_own_connections(link: Link) -> None:
    """ECMA-269 device monitors on the member phones: each sees its own connection ring and
    stop ringing (answered elsewhere), exactly as before MULAP monitors existed."""
    trace = await _trace(link, "337", "338")
    call = await trace.make_call("330", "340")
    await trace.answer(call, "338")

    assert _take(trace) == [
        "337 delivered(newCall) connection=1@337 alertingDevice=337 callingDevice=330"
        " calledDevice=340 | alerting",
        "337 delivered(newCall) connection=1@338 alertingDevice=338 callingDevice=330"
        " calledDevice=340 | alerting",
        "338 delivered(newCall) connection=1@338 alertingDevice=338 callingDevice=330"
        " calledDevice=340 | alerting",
        "337 established(newCall) establishedConnection=1@338 answeringDevice=338"
        " callingDevice=330 calledDevice=340 | alerting",
        "338 established(newCall) establishedConnection=1@338 answeringDevice=338"
        " callingDevice=330 calledDevice=340 | connected",
        "337 connectionCleared(normalClearing) droppedConnection=1@337 releasingDevice=337 | null",
        "338 connectionCleared(normalClearing) droppedConnection=1@337 releasingDevice=337"
        " | connected",
    ]
    await trace.client.close()


async def test_a_member_phones_own_calls_are_not_the_groups(link: Link) -> None:
    """A call dialled to 337 itself, or made by 337 as itself, is the phone's (as on MQTT)."""
    trace = await _trace(link, "340")
    first = await trace.make_call("330", "337")
    await trace.answer(first, "337")
    await trace.clear(first, "337")
    second = await trace.make_call("338", "331")
    await trace.clear(second, "338")
    assert _take(trace) == []
    await trace.client.close()


async def test_a_member_consulting_on_its_own_line_is_not_the_groups(link: Link) -> None:
    """330 dials 337 itself; 337 consults 332 and transfers: the consultation is on the phone's
    own line (it presents 337), so the group's monitor sees none of it."""
    trace = await _trace(link, "340")
    call = await trace.make_call("330", "337")
    await trace.answer(call, "337")
    second = await trace.consult(call, "337", "332")
    await trace.answer(second, "332")
    await trace.two_calls("transferCall", call, second, "337")
    await trace.clear(call, "332")
    assert _take(trace) == []
    await trace.client.close()


async def test_caller_hanging_up_while_the_group_rings(link: Link) -> None:
    trace = await _trace(link, "340")
    call = await trace.make_call("330", "340")
    await trace.clear(call, "330")

    assert _take(trace) == [
        *_RINGING,
        "340 connectionCleared(normalClearing) droppedConnection=1@330 releasingDevice=330"
        " | alerting",
        "340 callCleared(normalClearing) clearedCall=1 | -",
    ]
    await trace.client.close()


async def test_call_made_as_the_group(link: Link) -> None:
    """makeCall from 340 starts on the assigned phone 337; the group's monitor sees the group
    dial (the line's device fields name 340), the called party answer and hang up."""
    trace = await _trace(link, "340")
    call = await trace.make_call("340", "332")
    await trace.answer(call, "332")
    await trace.clear(call, "332")

    assert _take(trace) == [
        "340 serviceInitiated(makeCall) initiatedConnection=1@340 initiatingDevice=340"
        " calledDevice=332 | initiated",
        "340 originated(newCall) originatedConnection=1@340 callingDevice=340 calledDevice=332"
        " | connected",
        "340 delivered(newCall) connection=1@332 alertingDevice=332 callingDevice=340"
        " calledDevice=332 | connected",
        "340 established(newCall) establishedConnection=1@332 answeringDevice=332"
        " callingDevice=340 calledDevice=332 | connected",
        "340 connectionCleared(normalClearing) droppedConnection=1@332 releasingDevice=332"
        " | connected",
        "340 callCleared(normalClearing) clearedCall=1 | -",
    ]
    await trace.client.close()


async def test_member_consults_as_the_group_and_transfers(link: Link) -> None:
    trace = await _trace(link, "340")
    call = await trace.make_call("330", "340")
    await trace.answer(call, "338")
    second = await trace.consult(call, "340", "331")  # the group's connection: 338 consults
    await trace.answer(second, "331")
    result = await trace.two_calls("transferCall", call, second, "340")

    assert _take(trace) == [
        *_RINGING,
        "340 established(newCall) establishedConnection=1@340 answeringDevice=338"
        " callingDevice=330 calledDevice=340 | connected",
        "340 held(consultation) heldConnection=1@340 holdingDevice=338 | hold",
        "340 serviceInitiated(consultation) initiatedConnection=2@340 initiatingDevice=340"
        " calledDevice=331 | initiated",
        "340 originated(consultation) originatedConnection=2@340 callingDevice=340"
        " calledDevice=331 | connected",
        "340 delivered(consultation) connection=2@331 alertingDevice=331 callingDevice=340"
        " calledDevice=331 | connected",
        "340 established(consultation) establishedConnection=2@331 answeringDevice=331"
        " callingDevice=340 calledDevice=331 | connected",
        "340 transferred(transfer) primaryOldCall=1@340 secondaryOldCall=2@340"
        " transferringDevice=338 transferredToDevice=331 | null",
    ]
    assert result["transferredCall"] == connection(call)
    await trace.make_call("332", "333")  # the group left call 1: nothing more on 340
    await trace.clear(call, "331")
    assert _take(trace) == []
    await trace.client.close()


async def test_a_member_deflecting_takes_the_call_from_the_group(link: Link) -> None:
    trace = await _trace(link, "340")
    call = await trace.make_call("330", "340")
    await trace.do(
        "deflectCall",
        {"callToBeDiverted": connection(call, "337"), "newDestination": device_id("332")},
    )
    await trace.answer(call, "332")

    assert _take(trace) == [
        *_RINGING,
        "340 diverted(redirected) connection=1@340 divertingDevice=337 newDestination=332 | null",
    ]
    await trace.client.close()


async def test_a_group_call_picked_up_by_another_phone(link: Link) -> None:
    trace = await _trace(link, "340")
    call = await trace.make_call("330", "340")
    await trace.do(
        "directedPickupCall",
        {"callToBePickedUp": connection(call, "338"), "requestingDevice": device_id("331")},
    )

    assert _take(trace) == [
        *_RINGING,
        "340 diverted(callPickup) connection=1@340 divertingDevice=338 newDestination=331 | null",
    ]
    await trace.client.close()


async def test_picking_up_the_groups_connection_takes_it_from_a_ringing_member(
    link: Link,
) -> None:
    trace = await _trace(link, "340")
    call = await trace.make_call("330", "340")
    picked = await trace.do(
        "directedPickupCall",
        {"callToBePickedUp": connection(call, "340"), "requestingDevice": device_id("331")},
    )
    assert picked["pickedCall"] == connection(call, "331")
    assert _take(trace) == [
        *_RINGING,
        "340 diverted(callPickup) connection=1@340 divertingDevice=337 newDestination=331 | null",
    ]
    await trace.client.close()


async def test_every_member_busy_fails_at_the_group(link: Link) -> None:
    """The group number itself is the failing party: one report, as before."""
    trace = await _trace(link, "340")
    await trace.make_call("337", "331")
    await trace.make_call("338", "332")
    await trace.make_call("330", "340")

    assert _take(trace) == [
        "340 failed(busy) failedConnection=3@340 failingDevice=340 callingDevice=330"
        " calledDevice=340 | null",
    ]
    await trace.client.close()


async def test_monitor_started_while_the_group_rings_and_snapshot(link: Link) -> None:
    """A monitor started mid-call knows the call is the group's (from the committed state);
    snapshotDevice of the group lists the group's connections."""
    trace = await _trace(link, "330")
    call = await trace.make_call("330", "340")
    answered = await link.engine.execute(cmd.AnswerCall(call=call, device="338"))  # the handset
    await trace.sync()
    assert answered.ok
    trace.reports = []
    await trace.monitor("340")
    snapshot = await trace.client.invoke("snapshotDevice", {"snapshotObject": device_id("340")})
    assert snapshot["crossRefIDorSnapshotData"] == (
        "snapshotData",
        [
            {
                "connectionIdentifier": connection(call, "340"),
                "localCallState": ("compoundCallState", ["connected"]),
            }
        ],
    )
    await trace.clear(call, "338")

    assert _take(trace) == [
        "330 connectionCleared(normalClearing) droppedConnection=1@338 releasingDevice=338"
        " | connected",
        "340 connectionCleared(normalClearing) droppedConnection=1@340 releasingDevice=338 | null",
        "330 callCleared(normalClearing) clearedCall=1 | -",
    ]
    await trace.client.close()


async def test_stopping_the_group_monitor_ends_its_reports(link: Link) -> None:
    trace = await _trace(link, "340")
    call = await trace.make_call("330", "340")
    (xref,) = trace.device_of
    await trace.do("monitorStop", {"crossRefIdentifier": xref})
    await trace.answer(call, "337")
    await trace.monitor("340")  # again: seeded with the call the group now talks in
    await trace.clear(call, "330")

    assert _take(trace) == [
        *_RINGING,
        "340 connectionCleared(normalClearing) droppedConnection=1@330 releasingDevice=330"
        " | connected",
        "340 callCleared(normalClearing) clearedCall=1 | -",
    ]
    await trace.client.close()


async def test_group_monitor_filter(link: Link) -> None:
    client = link.client()
    await client.associate()
    trace = Trace(client, link.clock)
    empty = (b"", 0)
    quiet = {
        "callControl": named_bits(["delivered"], "CallControlEvents"),
        **{
            k: empty
            for k in (
                "callAssociated",
                "mediaAttachment",
                "physicalDeviceFeature",
                "logicalDeviceFeature",
                "maintenance",
                "voiceUnit",
                "private",
            )
        },
    }
    await trace.monitor("340", monitor_filter=quiet)
    call = await trace.make_call("330", "340")
    await trace.answer(call, "337")
    assert [line.split(" ")[1] for line in _take(trace)] == ["established(newCall)"]
    await client.close()


def test_the_group_state_is_its_most_engaged_member() -> None:
    A, C, H, N = (ConnectionState.ALERTING, ConnectionState.CONNECTED, ConnectionState.HOLD,
                  ConnectionState.NULL)  # fmt: skip
    assert group_state([]) is N
    assert group_state([A, A]) is A
    assert group_state([A, C]) is C
    assert group_state([H, A]) is H
    assert group_state([N, A]) is A


async def test_group_reports_and_group_connections_with_asn1tools(link: Link) -> None:
    """The group's reports decode with the independent asn1tools codec (ECMA-285), and such an
    application drives the group's call with the reported connections (call, 340) alone."""
    reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
    app = Asn1toolsApp(reader, writer)
    await app.associate("cti", SETTINGS.password)
    await app.invoke("monitorStart", {"monitorObject": ("deviceObject", dev("340"))})
    made = await app.invoke(
        "makeCall", {"callingDevice": dev("330"), "calledDirectoryNumber": dev("340")}
    )
    first = bytes(made["callingDevice"][1]["callID"])
    await app.invoke("answerCall", {"callToBeAnswered": conn(first, "340")})
    made = await app.invoke(
        "consultationCall", {"existingCall": conn(first, "340"), "consultedDevice": dev("331")}
    )
    second = bytes(made["initiatedCall"][1]["callID"])
    await app.invoke("answerCall", {"callToBeAnswered": conn(second, "331")})
    await app.invoke(
        "transferCall", {"heldCall": conn(first, "340"), "activeCall": conn(second, "340")}
    )
    await app.release()
    got = [(name, value.get("localConnectionInfo")) for _, name, value in app.reports]
    assert got == [
        ("delivered", "alerting"),
        ("established", "connected"),
        ("held", "hold"),
        ("serviceInitiated", "initiated"),
        ("originated", "connected"),
        ("delivered", "connected"),
        ("established", "connected"),
        ("transferred", "null"),
    ]
    established = app.reports[1][2]
    assert established["establishedConnection"] == conn(first, "340")
    assert established["answeringDevice"] == ("deviceIdentifier", dev("337"))
    transferred = app.reports[-1][2]
    assert transferred["primaryOldCall"] == conn(first, "340")
    assert transferred["secondaryOldCall"] == conn(second, "340")
    assert transferred["transferringDevice"] == ("deviceIdentifier", dev("337"))
    writer.close()
