"""The result of an invoke comes before the event reports it causes (issue 20: applications
written for HiPath / OpenScape Business read "the next PDU after my invoke" as its answer).

Each test is such a synchronous application on a bare association: it sends one invoke and
reads the very next PDU, which must be that invoke's ReturnResult; the reports follow, in
the order of the log. Reports of what was committed before the invoke still come before it.
"""

from __future__ import annotations

from typing import Any

from cti.calls import commands as c
from cti.csta import codec
from cti.csta.ids import connection, device_id
from tests.csta.conftest import Link, Raw, associated


class SyncApp:
    """Send an invoke, read the next PDU as its answer: no matching by invoke id."""

    def __init__(self, raw: Raw) -> None:
        self.raw = raw
        self.next_id = 100

    async def call(self, operation: str, argument: Any) -> tuple[Any, list[str]]:
        """The PDU right after the invoke, and the event reports that follow it up to the
        next answer of ours (a monitorStop on nothing: an error that ends the stream)."""
        self.next_id += 1
        sent = self.next_id
        self.raw.send(codec.encode_rose(codec.Invoke(sent, operation, argument)))
        answer = await self.raw.rose()
        fence = self.next_id = self.next_id + 1
        self.raw.send(
            codec.encode_rose(codec.Invoke(fence, "systemStatus", {"systemStatus": "normal"}))
        )
        events: list[str] = []
        while True:
            pdu = await self.raw.rose()
            if isinstance(pdu, codec.Invoke) and pdu.opcode == "cSTAEventReport":
                events.append(name(pdu))
                continue
            assert getattr(pdu, "invoke_id", None) == fence, pdu
            return answer, events


async def sync_app(link: Link, *devices: str) -> SyncApp:
    raw = await associated(link)
    app = SyncApp(raw)
    for device in devices:
        started, events = await app.call(
            "monitorStart", {"monitorObject": ("deviceObject", device_id(device))}
        )
        assert isinstance(started, codec.ReturnResult) and events == []
    return app


async def test_make_call_answers_before_its_reports(link: Link) -> None:
    app = await sync_app(link, "330", "331")
    made, events = await app.call(
        "makeCall", {"callingDevice": device_id("330"), "calledDirectoryNumber": device_id("331")}
    )
    assert isinstance(made, codec.ReturnResult) and made.invoke_id == 101 + 2 * 2
    assert events == ["serviceInitiated", "originated", "delivered", "delivered"]


async def test_every_call_service_of_a_call_answers_first(link: Link) -> None:
    """answer, hold, retrieve, clear: each answered by the next PDU, its reports after."""
    app = await sync_app(link, "330", "331")
    await app.call(
        "makeCall", {"callingDevice": device_id("330"), "calledDirectoryNumber": device_id("331")}
    )
    steps = [
        ("answerCall", {"callToBeAnswered": connection(1, "331")}, ["established"] * 2),
        ("holdCall", {"callToBeHeld": connection(1, "330")}, ["held"] * 2),
        ("retrieveCall", {"callToBeRetrieved": connection(1, "330")}, ["retrieved"] * 2),
        (
            "clearConnection",
            {"connectionToBeCleared": connection(1, "330")},
            ["connectionCleared", "connectionCleared", "callCleared"],
        ),
    ]
    for operation, argument, expected in steps:
        answer, events = await app.call(operation, argument)
        assert isinstance(answer, codec.ReturnResult), (operation, answer)
        assert events == expected, operation


async def test_reports_committed_before_the_invoke_come_before_its_result(link: Link) -> None:
    """Another party's change committed before our invoke is reported before our result;
    our own command's report after it."""
    app = await sync_app(link, "330")
    assert (await link.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
    argument = {"device": device_id("330"), "doNotDisturbOn": False}
    app.raw.send(codec.encode_rose(codec.Invoke(500, "setDoNotDisturb", argument)))
    pdus = [await app.raw.rose() for _ in range(3)]
    assert [name(pdu) for pdu in pdus] == ["doNotDisturb", "result 500", "doNotDisturb"]
    assert [pdu.argument["eventSpecificInfo"][1][1]["doNotDisturbOn"] for pdu in pdus[::2]] == [
        True,
        False,
    ]


def name(pdu: Any) -> str:
    if isinstance(pdu, codec.ReturnResult):
        return f"result {pdu.invoke_id}"
    assert isinstance(pdu, codec.Invoke) and pdu.opcode == "cSTAEventReport", pdu
    return str(pdu.argument["eventSpecificInfo"][1][0])
