"""CALL-* flows driven over the CSTA link, shared by the report and comparison tests.

Each flow takes a :class:`Trace` (an associated client with monitors on 330, 331 and 332)
and runs services through it; the trace collects the event reports in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from cti.app.clock import ManualClock
from cti.calls.values import ConnectionState
from cti.csta.client import CstaClient, EventReport
from cti.csta.ids import connection, device_id

MONITORED = ("330", "331", "332")
TIMEOUT = 5.0


class Trace:
    def __init__(self, client: CstaClient, clock: ManualClock) -> None:
        self.client = client
        self.clock = clock
        self.device_of: dict[bytes, str] = {}
        self.reports: list[EventReport] = []

    async def monitor(self, *devices: str, monitor_filter: Any = None) -> None:
        for device in devices:
            self.device_of[await self.client.monitor_start(device, monitor_filter)] = device

    async def sync(self) -> None:
        """Every report sent so far has arrived: the switch writes reports before later
        results on the same connection, so a round trip flushes them."""
        await self.client.invoke("systemStatus", {"systemStatus": "normal"})
        while not self.client.events.empty():
            self.reports.append(self.client.events.get_nowait())

    async def do(self, operation: str, argument: dict[str, Any]) -> Any:
        result = await self.client.invoke(operation, argument)
        await self.sync()
        return result

    def take(self) -> list[tuple[str, str, str | None]]:
        """(monitored device, event, cause) of the reports collected since the last take."""
        out = [(self.device_of[r.xref], r.name, r.value.get("cause")) for r in self.reports]
        self.reports = []
        return out

    # -- services by name, with our numbers --------------------------------------------------
    async def make_call(self, calling: str, called: str) -> int:
        r = await self.do(
            "makeCall",
            {"callingDevice": device_id(calling), "calledDirectoryNumber": device_id(called)},
        )
        return int(r["callingDevice"][1]["callID"])

    async def answer(self, call: int, device: str) -> None:
        await self.do("answerCall", {"callToBeAnswered": connection(call, device)})

    async def clear(self, call: int, device: str) -> None:
        await self.do("clearConnection", {"connectionToBeCleared": connection(call, device)})

    async def hold(self, call: int, device: str) -> None:
        await self.do("holdCall", {"callToBeHeld": connection(call, device)})

    async def retrieve(self, call: int, device: str) -> None:
        await self.do("retrieveCall", {"callToBeRetrieved": connection(call, device)})

    async def consult(self, call: int, device: str, consulted: str) -> int:
        r = await self.do(
            "consultationCall",
            {"existingCall": connection(call, device), "consultedDevice": device_id(consulted)},
        )
        return int(r["initiatedCall"][1]["callID"])

    async def two_calls(self, operation: str, held: int, active: int, device: str) -> Any:
        return await self.do(
            operation,
            {"heldCall": connection(held, device), "activeCall": connection(active, device)},
        )

    async def wait_for_state(self, device: str, call: int, state: ConnectionState) -> None:
        """Poll snapshotCall (a round trip each) until the device has ``state`` in ``call``."""
        for _ in range(200):
            r = await self.client.invoke("snapshotCall", {"snapshotObject": connection(call)})
            rows = r["crossRefIDorSnapshotData"][1]
            if any(
                row["deviceOnCall"][1]["deviceIdentifier"][1] == device
                and row["localConnectionState"] == str(state)
                for row in rows
            ):
                await self.sync()
                return
            await asyncio.sleep(0)  # let the timer task run; no wall-clock wait
        raise AssertionError(f"{device} never reached {state} in call {call}")


Flow = Callable[[Trace], Awaitable[None]]


async def basic_call(t: Trace) -> None:
    """CALL-03: makeCall 330 -> 331, answer, 330 hangs up."""
    call = await t.make_call("330", "331")
    await t.answer(call, "331")
    await t.clear(call, "330")


async def hold_retrieve(t: Trace) -> None:
    """CALL-04."""
    call = await t.make_call("330", "331")
    await t.answer(call, "331")
    await t.hold(call, "330")
    await t.retrieve(call, "330")


async def consult_transfer(t: Trace) -> None:
    """CALL-05 / CALL-07."""
    call = await t.make_call("330", "331")
    await t.answer(call, "331")
    second = await t.consult(call, "330", "332")
    await t.answer(second, "332")
    await t.two_calls("transferCall", call, second, "330")


async def conference(t: Trace) -> None:
    """CALL-08."""
    call = await t.make_call("330", "331")
    await t.answer(call, "331")
    second = await t.consult(call, "330", "332")
    await t.answer(second, "332")
    await t.two_calls("conferenceCall", call, second, "330")


async def deflect(t: Trace) -> None:
    """CALL-09: 331 deflects the alerting call to 332."""
    call = await t.make_call("330", "331")
    await t.do(
        "deflectCall",
        {"callToBeDiverted": connection(call, "331"), "newDestination": device_id("332")},
    )


async def directed_pickup(t: Trace) -> None:
    """CALL-10: 332 picks up the call alerting at 331."""
    call = await t.make_call("330", "331")
    await t.do(
        "directedPickupCall",
        {"callToBePickedUp": connection(call, "331"), "requestingDevice": device_id("332")},
    )


async def group_pickup(t: Trace) -> None:
    """CALL-10: 332 picks up a call alerting in its pickup group."""
    await t.make_call("330", "331")
    await t.do("groupPickupCall", {"newDestination": device_id("332")})


async def forward_no_answer(t: Trace) -> None:
    """CALL-16: 331 forwards after 10 s without answer to 332."""
    await t.do(
        "setForwarding",
        {
            "device": device_id("331"),
            "forwardingType": "forwardNoAns",
            "activateForward": True,
            "forwardDN": device_id("332"),
            "ringDuration": 10,
        },
    )
    call = await t.make_call("330", "331")
    t.clock.advance(10)
    await t.wait_for_state("332", call, ConnectionState.ALERTING)


async def do_not_disturb(t: Trace) -> None:
    """CALL-16: DND on at 331 refuses calls; then off again."""
    await t.do("setDoNotDisturb", {"device": device_id("331"), "doNotDisturbOn": True})
    await t.make_call("330", "331")
    await t.do("setDoNotDisturb", {"device": device_id("331"), "doNotDisturbOn": False})


async def external_call(t: Trace) -> None:
    """CALL-01: a call to an external number through the trunk, then cleared."""
    call = await t.make_call("330", "+4930123456")
    await t.do("clearCall", {"callToBeCleared": connection(call)})


FLOWS: dict[str, Flow] = {
    "basic_call": basic_call,
    "external_call": external_call,
    "hold_retrieve": hold_retrieve,
    "consult_transfer": consult_transfer,
    "conference": conference,
    "deflect": deflect,
    "directed_pickup": directed_pickup,
    "group_pickup": group_pickup,
    "forward_no_answer": forward_no_answer,
    "do_not_disturb": do_not_disturb,
}
