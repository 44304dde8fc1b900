"""A monitor lasts while its account may have it (specs/csta.md "Monitors and the account's
rights", specs/security.md "CSTA"; USER-01), over real TCP: rights are asked again before
reports are written, a monitor the account may no longer have ends with the switch's
monitorStop, and an association whose account was removed or got a new password is aborted,
as the broker ends that account's MQTT sessions.

Each scenario reads exactly what the application received: ``reports`` invokes systemStatus
as a fence (everything committed before it is written before its result)."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest
import structlog

from cti.accounts.commands import RemoveAccount, SetPasswordHash, SetProfileChecked, UpdateAccount
from cti.accounts.model import Licence, Visibility
from cti.accounts.passwords import hash_password
from cti.calls import commands as c
from cti.csta import codec
from cti.csta.client import CstaClient, CstaRefused
from cti.csta.ids import connection, device_id
from cti.mqtt.passwords import mosquitto_hash
from tests.csta.conftest import TIMEOUT, Link, Raw
from tests.csta.test_association_auth import PASSWORDS, client, make_call, seed

PROVIDER_AUTHENTICATION_FAILURE = {
    "abort-source": 1,  # acse-service-provider: the switch
    "abort-diagnostic": "authentication-failure",
}
PRIVILEGE = ("operation", "privilegeViolationSpecifiedDevice")


async def reports(app: CstaClient) -> list[tuple[bytes, str, str]]:
    """Every report (and monitorStop) the switch sent so far, as (xref, name, cause or "")."""
    await app.invoke("systemStatus", {"systemStatus": "normal"})
    got = []
    while not app.events.empty():
        report = app.events.get_nowait()
        got.append((report.xref, report.name, str(report.value.get("cause", ""))))
    return got


async def ok(link: Link, command: Any) -> None:
    assert (await link.engine.execute(command)).ok, command


async def refused(app: CstaClient, operation: str, argument: Any) -> tuple[str, str]:
    with pytest.raises(CstaRefused) as raised:
        await app.invoke(operation, argument)
    return (raised.value.branch, raised.value.value)


async def call_monitor(app: CstaClient, call: int) -> bytes:
    started = await app.invoke("monitorStart", {"monitorObject": ("callObject", connection(call))})
    xref: bytes = started["crossRefIdentifier"]
    return xref


async def aborted(app: CstaClient) -> dict[str, Any] | None:
    await asyncio.wait_for(app.closed.wait(), TIMEOUT)
    return app.abort


@functools.cache
def new_password(must_change: bool) -> SetPasswordHash:
    """A new password for 331: an administrator's reset (must_change) or its owner's change."""
    password = "Reset-2026!" if must_change else "Bernd-2027?"
    return SetPasswordHash(
        name="331",
        password=hash_password(password),
        broker_password=mosquitto_hash(password),
        must_change=must_change,
    )


# -- call monitors: a call is theirs while one of their devices is in it -----------------------
async def test_a_call_monitor_ends_when_a_single_step_transfer_takes_the_user_out(
    link: Link,
) -> None:
    """The reviewer's first repro: 331 leaves call 1 (single-step transfer to 333); its call
    monitor reports the transfer, then the switch stops it; 333 answering and 330 holding are
    no longer 331's to see."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    await ok(link, c.AnswerCall(call=1, device="331"))
    async with client(link, "331") as app:
        phone = await app.monitor_start("331")
        xref = await call_monitor(app, 1)
        with structlog.testing.capture_logs() as logs:
            to_333 = {"activeCall": connection(1, "331"), "transferredTo": device_id("333")}
            result = await app.invoke("singleStepTrans", to_333)
            assert result == {"transferredCall": connection(1, "333")}
            await ok(link, c.AnswerCall(call=1, device="333"))
            await ok(link, c.HoldCall(call=1, device="330"))
            assert await reports(app) == [
                (phone, "transferred", "singleStepTransfer"),
                (xref, "transferred", "singleStepTransfer"),
                (xref, "monitorStop", ""),
            ]
        revoked = [e for e in logs if e["event"] == "csta.monitor_revoked"]
        assert [(e["xref"], e["call"], e["device"]) for e in revoked] == [(xref.hex(), 1, None)]
        # as snapshotCall says: not theirs; the monitor is gone
        assert await refused(app, "snapshotCall", {"snapshotObject": connection(1)}) == PRIVILEGE
        assert await refused(app, "monitorStop", {"crossRefIdentifier": xref}) == (
            "operation",
            "invalidMonitorCrossRefID",
        )
        await ok(link, c.RetrieveCall(call=1, device="330"))
        assert await reports(app) == []
        # 331's phone is still its own: the device monitor goes on
        await ok(link, c.MakeCall(calling="332", called="331"))
        assert await reports(app) == [(phone, "delivered", "newCall")]


async def test_a_call_monitor_ends_when_the_user_transfers_the_call_away(link: Link) -> None:
    """A consultation transfer by 331: the monitor of its first call reports the hold, the
    transfer that merges the consultation call into it, and ends: 331 is in neither now."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    await ok(link, c.AnswerCall(call=1, device="331"))
    async with client(link, "331") as app:
        xref = await call_monitor(app, 1)
        consult = {"existingCall": connection(1, "331"), "consultedDevice": device_id("332")}
        await app.invoke("consultationCall", consult)
        await ok(link, c.AnswerCall(call=2, device="332"))
        transfer = {"heldCall": connection(1, "331"), "activeCall": connection(2, "331")}
        await app.invoke("transferCall", transfer)
        await ok(link, c.HoldCall(call=1, device="332"))
        assert await reports(app) == [
            (xref, "held", "consultation"),
            (xref, "transferred", "transfer"),
            (xref, "monitorStop", ""),
        ]


async def test_a_call_monitor_stays_while_the_user_is_in_the_call(link: Link) -> None:
    """The positive control: 331 stays in call 1 through hold, a transfer that brings 332 in
    and the far end hanging up; its call monitor reports all of it up to callCleared and
    ends there as every call monitor does, without monitorStop."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    async with client(link, "331") as app:
        xref = await call_monitor(app, 1)
        await app.invoke("answerCall", {"callToBeAnswered": connection(1, "331")})
        await ok(link, c.ConsultationCall(call=1, device="330", consulted="332"))
        await ok(link, c.AnswerCall(call=2, device="332"))
        await ok(link, c.TransferCall(device="330", held_call=1, active_call=2))
        await ok(link, c.ClearConnection(call=1, device="332"))
        assert await reports(app) == [
            (xref, "established", "newCall"),
            (xref, "held", "consultation"),
            (xref, "transferred", "transfer"),
            (xref, "connectionCleared", "normalClearing"),
            (xref, "callCleared", "normalClearing"),
        ]
        assert await refused(app, "monitorStop", {"crossRefIdentifier": xref}) == (
            "operation",
            "invalidMonitorCrossRefID",
        )


@pytest.mark.parametrize("hangs_up", ["331", "330"])
async def test_hanging_up_a_two_party_call_ends_the_monitor_with_call_cleared(
    link: Link, hangs_up: str
) -> None:
    """The reviewer's hang-up repro: whoever hangs up a two-party call ends it, so 331's call
    monitor gets connectionCleared and callCleared and ends there, without monitorStop (the
    ConnectionCleared that takes 331 out and the CallCleared come in one batch; callCleared
    names no party). Before the fix 331's own hang-up got monitorStop instead of callCleared."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    await ok(link, c.AnswerCall(call=1, device="331"))
    async with client(link, "331") as app:
        xref = await call_monitor(app, 1)
        with structlog.testing.capture_logs() as logs:
            if hangs_up == "331":
                await app.invoke("clearConnection", {"connectionToBeCleared": connection(1, "331")})
            else:
                await ok(link, c.ClearConnection(call=1, device="330"))
            assert await reports(app) == [
                (xref, "connectionCleared", "normalClearing"),
                (xref, "callCleared", "normalClearing"),
            ]
        assert [e for e in logs if e["event"] == "csta.monitor_revoked"] == []
        assert await refused(app, "monitorStop", {"crossRefIdentifier": xref}) == (
            "operation",
            "invalidMonitorCrossRefID",
        )


async def test_hanging_up_a_call_that_still_rings_ends_the_monitor_with_call_cleared(
    link: Link,
) -> None:
    """331 calls 330 and gives up before 330 answers: the call ends (330 only rang), so its
    call monitor gets connectionCleared and callCleared, not monitorStop."""
    await seed(link)
    async with client(link, "331") as app:
        await app.invoke("makeCall", make_call("331", "330"))
        xref = await call_monitor(app, 1)
        assert await reports(app) == []
        await app.invoke("clearConnection", {"connectionToBeCleared": connection(1, "331")})
        assert await reports(app) == [
            (xref, "connectionCleared", "normalClearing"),
            (xref, "callCleared", "normalClearing"),
        ]


async def test_hanging_up_a_failed_call_ends_the_monitor_with_call_cleared(link: Link) -> None:
    """331 calls 332, which does not disturb: the call fails; 331 hangs up and the call ends,
    so its call monitor gets callCleared (331 was its last party), not monitorStop."""
    await seed(link)
    await ok(link, c.SetDoNotDisturb(device="332", on=True))
    async with client(link, "331") as app:
        await app.invoke("makeCall", make_call("331", "332"))
        xref = await call_monitor(app, 1)
        assert await reports(app) == []
        await app.invoke("clearConnection", {"connectionToBeCleared": connection(1, "331")})
        assert await reports(app) == [(xref, "callCleared", "normalClearing")]


async def test_hanging_up_while_the_others_talk_on_ends_the_monitor_with_monitor_stop(
    link: Link,
) -> None:
    """331 leaves a three-party conference; 330 and 332 talk on: 331's call monitor reports
    its own connectionCleared, then the switch stops it; 330 hanging up later is not 331's."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    await ok(link, c.AnswerCall(call=1, device="331"))
    await ok(link, c.ConsultationCall(call=1, device="330", consulted="332"))
    await ok(link, c.AnswerCall(call=2, device="332"))
    await ok(link, c.ConferenceCall(device="330", held_call=1, active_call=2))
    async with client(link, "331") as app:
        xref = await call_monitor(app, 1)
        await app.invoke("clearConnection", {"connectionToBeCleared": connection(1, "331")})
        await ok(link, c.ClearConnection(call=1, device="330"))
        assert await reports(app) == [
            (xref, "connectionCleared", "normalClearing"),
            (xref, "monitorStop", ""),
        ]


async def test_an_integrators_call_monitor_follows_the_call_wherever_it_goes(
    link: Link,
) -> None:
    """Integrators (and the [csta] account) read every call: nothing is revoked for them."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    await ok(link, c.AnswerCall(call=1, device="331"))
    async with client(link, "bridge") as app:
        xref = await call_monitor(app, 1)
        await ok(link, c.SingleStepTransferCall(call=1, device="331", to="333"))
        await ok(link, c.AnswerCall(call=1, device="333"))
        assert await reports(app) == [
            (xref, "transferred", "singleStepTransfer"),
            (xref, "delivered", "singleStepTransfer"),
            (xref, "established", "singleStepTransfer"),
        ]


# -- other changes of the account: a call monitor keeps its reports, in order ----------------
# Changes of account 331 that leave it its phone 331: its profile (presence visibility), its
# display name, its licences, a second phone. Only the last changes the devices it may read.
UNRELATED = {
    "profile": SetProfileChecked(name="331", presence_visibility=Visibility.INTERNAL_ONLY),
    "displayName": UpdateAccount(name="331", display_name="Bernd B."),
    "licences": UpdateAccount(name="331", licences=(Licence.VOICEMAIL,)),
    "secondPhone": UpdateAccount(name="331", devices=("331", "334")),
}


async def in_one_batch(link: Link, *commands: Any) -> None:
    """Commands committed together by the writer (no report flushed in between)."""
    outcomes = await asyncio.gather(*(link.engine.execute(command) for command in commands))
    assert all(outcome.ok for outcome in outcomes), outcomes


@pytest.mark.parametrize("change", list(UNRELATED), ids=list(UNRELATED))
async def test_an_account_change_with_a_transfer_keeps_the_transfer_reports(
    link: Link, change: str
) -> None:
    """The reviewer's batch repro: 331's single-step transfer to 333 and a change of 331's
    account committed in one batch. The reports come as without the change: the transfer to
    both monitors, then the call monitor's monitorStop (before the fix: the monitorStop first,
    checked against the call as it was after the transfer, and the call monitor's report
    lost)."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    await ok(link, c.AnswerCall(call=1, device="331"))
    async with client(link, "331") as app:
        phone = await app.monitor_start("331")
        xref = await call_monitor(app, 1)
        assert await reports(app) == []
        await in_one_batch(
            link, c.SingleStepTransferCall(call=1, device="331", to="333"), UNRELATED[change]
        )
        assert await reports(app) == [
            (phone, "transferred", "singleStepTransfer"),
            (xref, "transferred", "singleStepTransfer"),
            (xref, "monitorStop", ""),
        ]


@pytest.mark.parametrize("change", ["profile", "displayName", "licences"])
async def test_a_change_that_keeps_the_devices_keeps_the_call_monitor(
    link: Link, change: str
) -> None:
    """The control: 331 stays in call 1; the change ends nothing, 330's hold is reported."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    await ok(link, c.AnswerCall(call=1, device="331"))
    async with client(link, "331") as app:
        xref = await call_monitor(app, 1)
        await ok(link, UNRELATED[change])
        await ok(link, c.HoldCall(call=1, device="330"))
        assert await reports(app) == [(xref, "held", "normal")]


class SyncApp:
    """An application written for HiPath, associated as 331: it sends an invoke and takes the
    next PDU as its answer. ``call`` returns every PDU up to a systemStatus fence, named;
    ``results`` keeps what each ReturnResult carried."""

    def __init__(self, raw: Raw) -> None:
        self.raw = raw
        self.next_id = 100
        self.results: dict[int, Any] = {}

    def invoke(self, operation: str, argument: Any) -> int:
        self.next_id += 1
        self.raw.send(codec.encode_rose(codec.Invoke(self.next_id, operation, argument)))
        return self.next_id

    async def call(self, operation: str, argument: Any) -> list[tuple[Any, ...]]:
        self.invoke(operation, argument)
        fence = self.invoke("systemStatus", {"systemStatus": "normal"})
        got: list[tuple[Any, ...]] = []
        while True:
            pdu = await self.raw.rose()
            if isinstance(pdu, codec.ReturnResult) and pdu.invoke_id == fence:
                return got
            if isinstance(pdu, codec.Invoke) and pdu.opcode == "cSTAEventReport":
                _, (name, _) = pdu.argument["eventSpecificInfo"]
                got.append(("report", pdu.argument["crossRefIdentifier"], name))
            elif isinstance(pdu, codec.Invoke):
                got.append(("invoke", str(pdu.opcode), pdu.argument.get("crossRefIdentifier")))
            elif isinstance(pdu, codec.ReturnResult) and pdu.invoke_id is not None:
                self.results[pdu.invoke_id] = pdu.result
                got.append(("result", pdu.invoke_id))
            elif isinstance(pdu, codec.ReturnError):
                got.append(("error", pdu.invoke_id, pdu.parameter))
            else:
                got.append(("other", pdu))

    async def monitor_start(self, monitored: tuple[str, Any]) -> bytes:
        started = self.next_id + 1
        assert await self.call("monitorStart", {"monitorObject": monitored}) == [
            ("result", started)
        ]
        xref: bytes = self.results[started]["crossRefIdentifier"]
        return xref


async def sync_app(link: Link) -> SyncApp:
    raw = await Raw.connect(link.port)
    await raw.associate(PASSWORDS["331"], user="331")
    return SyncApp(raw)


def committed_after(link: Link, monkeypatch: pytest.MonkeyPatch, service: type, then: Any) -> None:
    """``then`` is committed right after 331's ``service``, while the association still
    carries the invoke out (before its result is written)."""
    execute = link.engine.execute

    async def and_then(command: Any, principal: str | None = None) -> Any:
        outcome = await execute(command, principal)
        if isinstance(command, service) and principal == "331":
            assert (await execute(then)).ok  # an administrator's, or the node's
        return outcome

    monkeypatch.setattr(link.engine, "execute", and_then)


@pytest.mark.parametrize("change", ["profile", "secondPhone"])
async def test_a_change_during_the_users_transfer_follows_its_result(
    link: Link, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The reviewer's invoke repro: 331's application invokes singleStepTrans while 331's
    account changes. The next PDU is the invoke's ReturnResult, then the call monitor's
    transferred report, then monitorStop (before the fix: monitorStop came first, taken by
    the application for its answer, and the transferred report was lost)."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    await ok(link, c.AnswerCall(call=1, device="331"))
    app = await sync_app(link)
    xref = await app.monitor_start(("callObject", connection(1)))
    committed_after(link, monkeypatch, c.SingleStepTransferCall, UNRELATED[change])
    to_333 = {"activeCall": connection(1, "331"), "transferredTo": device_id("333")}
    sent = app.next_id + 1
    assert await app.call("singleStepTrans", to_333) == [
        ("result", sent),
        ("report", xref, "transferred"),
        ("invoke", "monitorStop", xref),
    ]
    app.raw.close()


# -- the account changes --------------------------------------------------------------------------
async def test_removing_the_account_aborts_its_association(link: Link) -> None:
    """The reviewer's second repro: 331 monitors its phone and is removed. The association
    is aborted at once; 332's stays and keeps its reports."""
    await seed(link)
    async with client(link, "331") as app, client(link, "332") as other:
        await app.monitor_start("331")
        kept = await other.monitor_start("332")
        with structlog.testing.capture_logs() as logs:
            await ok(link, RemoveAccount(name="331"))
            assert await aborted(app) == PROVIDER_AUTHENTICATION_FAILURE
        # the ABRT came alone: no monitorStop for the monitor the removal took away
        assert app.events.empty()
        ended = [e for e in logs if e["event"] == "csta.association_ended"]
        assert [(e["principal"], e["reason"]) for e in ended] == [("331", "accountRemoved")]
        # 331's session is closed: it writes nothing more (Session.send)
        assert [s.state for s in link.server.sessions if s.principal == "331"] in ([], ["closed"])
        await ok(link, c.MakeCall(calling="330", called="331"))
        await ok(link, c.MakeCall(calling="333", called="332"))
        assert await reports(other) == [(kept, "delivered", "newCall")]
    assert len(link.server.sessions) == 0


@pytest.mark.parametrize(
    ("must_change", "reason"),
    [(True, "passwordReset"), (False, "passwordChanged")],
)
async def test_a_new_password_aborts_the_association(
    link: Link, must_change: bool, reason: str
) -> None:
    """An administrator's reset (must change) or the owner's change: the sign-in the
    association rests on no longer holds, as for the account's MQTT sessions."""
    await seed(link)
    async with client(link, "331") as app:
        await app.monitor_start("331")
        with structlog.testing.capture_logs() as logs:
            await ok(link, new_password(must_change))
            assert await aborted(app) == PROVIDER_AUTHENTICATION_FAILURE
        assert app.events.empty()  # the ABRT came alone
        ended = [e for e in logs if e["event"] == "csta.association_ended"]
        assert [e["reason"] for e in ended] == [reason]
        assert [s.state for s in link.server.sessions] in ([], ["closed"])


async def test_a_reset_with_the_same_hash_still_aborts(link: Link) -> None:
    """must_change alone (an administrator setting the password the account had): the
    account may do nothing until it is changed, so the association ends too."""
    await seed(link)
    account = link.node.state.accounts.account("331")
    assert account is not None and account.password and account.broker_password
    async with client(link, "331") as app:
        reset = SetPasswordHash(
            name="331",
            password=account.password,
            broker_password=account.broker_password,
            must_change=True,
        )
        await ok(link, reset)
        assert await aborted(app) == PROVIDER_AUTHENTICATION_FAILURE


async def test_update_account_taking_the_device_away_ends_its_monitors(link: Link) -> None:
    """An administrator gives account 331 phone 334 instead of 331: its monitor of 331 and
    its monitor of a call 331 is in end with monitorStop at once; the association stays and
    may monitor 334."""
    await seed(link)
    await ok(link, c.MakeCall(calling="330", called="331"))
    async with client(link, "331") as app:
        device = await app.monitor_start("331")
        call = await call_monitor(app, 1)
        assert await reports(app) == []
        await ok(link, UpdateAccount(name="331", devices=("334",)))
        assert await reports(app) == [(device, "monitorStop", ""), (call, "monitorStop", "")]
        await ok(link, c.AnswerCall(call=1, device="331"))
        await ok(link, c.MakeCall(calling="332", called="331"))
        assert await reports(app) == []
        assert not app.closed.is_set()
        snapshot = {"snapshotObject": device_id("331")}
        assert await refused(app, "snapshotDevice", snapshot) == PRIVILEGE
        assert (
            await refused(
                app, "monitorStart", {"monitorObject": ("deviceObject", device_id("331"))}
            )
            == PRIVILEGE
        )
        now = await app.monitor_start("334")
        await ok(link, c.MakeCall(calling="333", called="334"))
        assert await reports(app) == [(now, "delivered", "newCall")]


async def test_update_account_that_keeps_the_device_keeps_the_monitor(link: Link) -> None:
    """The positive control: a change that leaves 331 its phone (a new display name, a second
    phone) ends nothing; the monitor's reports go on."""
    await seed(link)
    async with client(link, "331") as app:
        xref = await app.monitor_start("331")
        await ok(link, UpdateAccount(name="331", display_name="Bernd B.", devices=("331", "334")))
        await ok(link, c.MakeCall(calling="330", called="331"))
        assert await reports(app) == [(xref, "delivered", "newCall")]
        assert not app.closed.is_set()


async def test_cti_csta_monitor_prints_the_switchs_monitor_stop(link: Link) -> None:
    """The client queues the switch's monitorStop with the reports (``ended``) and answers
    it; ``cti csta monitor`` shows it as a line of its own."""
    from cti.tools.csta import format_report

    await seed(link)
    async with client(link, "331") as app:
        xref = await app.monitor_start("331")
        with structlog.testing.capture_logs() as logs:
            await ok(link, UpdateAccount(name="331", devices=("334",)))
            report = await app.next_event()
            await app.invoke("systemStatus", {"systemStatus": "normal"})  # the link goes on
        assert (report.xref, report.ended, report.category, report.value) == (xref, True, "", {})
        assert format_report(report, {xref: "331"}).split()[1:] == [
            "331",
            "monitorStop",
            "ended",
            "by",
            "the",
            "switch",
        ]
        (session,) = link.server.sessions
        assert "monitorStop" not in session._outstanding.values()  # answered ...
        # ... with a ReturnResult: the switch logs a Reject (csta.rejected_by_peer) or a
        # ReturnError (csta.peer_error) of its invoke
        assert [e["event"] for e in logs if e["event"].startswith("csta.")] == [
            "csta.monitor_revoked"
        ]


async def test_a_device_taken_away_during_the_users_make_call_follows_its_result(
    link: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer's third repro: an administrator gives account 331 phone 334 instead of
    331 right after 331's makeCall is committed. The application's next PDU is the makeCall
    result; then the switch stops the monitor of 331 (its reports of the call are no longer
    331's to see). Before the fix the monitorStop came first."""
    await seed(link)
    app = await sync_app(link)
    phone = await app.monitor_start(("deviceObject", device_id("331")))
    committed_after(link, monkeypatch, c.MakeCall, UpdateAccount(name="331", devices=("334",)))
    sent = app.next_id + 1
    assert await app.call("makeCall", make_call("331", "332")) == [
        ("result", sent),
        ("invoke", "monitorStop", phone),
    ]
    app.raw.close()


async def test_a_device_taken_away_during_a_refused_invoke_follows_its_error(
    link: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for an invoke the node refuses (331 holds a call that does not exist): the
    ReturnError is the next PDU, the monitorStop follows it."""
    await seed(link)
    app = await sync_app(link)
    phone = await app.monitor_start(("deviceObject", device_id("331")))
    committed_after(link, monkeypatch, c.HoldCall, UpdateAccount(name="331", devices=("334",)))
    sent = app.next_id + 1
    got = await app.call("holdCall", {"callToBeHeld": connection(9, "331")})
    assert [pdu[:2] for pdu in got] == [("error", sent), ("invoke", "monitorStop")]
    assert got[1] == ("invoke", "monitorStop", phone)
    app.raw.close()
