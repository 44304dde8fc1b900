"""The operator view (issue 17, specs/mqtt.md#trace): `trace` gives administrators, monitors
and integrators any call's or any device's events from the log; a user is refused (they
replay their own devices' events) and never sees another user's call either way. The
contract over the real broker with its ACLs; then an administrator's browser draws a call of
two other users as a ladder, with the switch's no-answer timer (INTERNAL events that only
`trace` gives, never `replay`), and shows a device at a past seq."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from cti.app.bootstrap import Running
from cti.calls import commands as c
from cti.client import CtiClient, Refused
from cti.domain import INTERNAL_KINDS

from .conftest import PASSWORDS, signed_in


async def trace_all(client: CtiClient, **what: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    start = 1
    while True:
        page = await client.request("trace", fromSeq=start, limit=3, **what)  # several pages
        events += page["events"]
        start = page["nextSeq"]
        if page["complete"]:
            return events


async def a_call_of_others(node: Running) -> int:
    """Clara (332) calls Dieter (333), he answers, she hangs up: a call of two other users as
    far as Bernd (331) and Anna (330, the administrator) are concerned. Dieter forwards
    unanswered calls after 20 s, so his ringing sets the switch's no-answer timer and his
    answer clears it."""
    forward = c.SetForwarding(
        device="333", forwarding_type="forwardNoAns", on=True, destination="330", ring_time=20
    )
    assert (await node.engine.execute(forward)).ok
    made = await node.engine.execute(c.MakeCall(calling="332", called="333"))
    assert made.ok
    call: int = made.result["call"]  # type: ignore[index]
    assert (await node.engine.execute(c.AnswerCall(call=call, device="333"))).ok
    assert (await node.engine.execute(c.ClearConnection(call=call, device="332"))).ok
    return call


async def test_an_admin_traces_any_call_a_user_is_refused_another_users_call(
    node: Running,
) -> None:
    call = await a_call_of_others(node)
    broker = node.broker
    assert broker is not None
    url = f"mqtt://{broker.host}:{broker.port}"

    async with CtiClient(url, user="331", password=PASSWORDS["331"]) as bernd:
        with pytest.raises(Refused) as refused:
            await bernd.request("trace", call=call)
        assert refused.value.code == "notPermitted"
        with pytest.raises(Refused):
            await bernd.request("trace", device="332")
        # Nor does replay give him any of it (his own devices only).
        page = await bernd.request("replay", fromSeq=1, limit=1000)
        assert [e for e in page["events"] if e.get("call") == call] == []

    async with CtiClient(url, user="monitor", password="Monitor-2026!") as monitor:
        everything = await monitor.request("replay", fromSeq=1, limit=1000)
        expected = [e for e in everything["events"] if e.get("call") == call]
        by_monitor = await trace_all(monitor, call=call)
    kinds = [e["event"] for e in expected]
    assert {"originated", "delivered", "established", "connectionCleared"} <= set(kinds)
    # The timers are INTERNAL: replay (the live topics' mirror) has none, trace has them.
    timers = {"timerSet", "timerCleared"}
    assert not [e for e in everything["events"] if e["event"] in timers]
    assert [e for e in by_monitor if e["event"] not in timers] == expected
    set_, cleared = [e for e in by_monitor if e["event"] in timers]
    assert (set_["event"], set_["device"], set_["purpose"]) == ("timerSet", "333", "noAnswer")
    assert set_["dueMs"] > 0 and set(set_) == {"seq", "ts", "event", "call", "device"} | {
        "purpose",
        "dueMs",
    }
    assert (cleared["event"], cleared["device"], cleared["call"]) == ("timerCleared", "333", call)
    answered = next(e for e in expected if e["event"] == "established")
    assert set_["seq"] < answered["seq"] < cleared["seq"]

    async with CtiClient(url, user="330", password=PASSWORDS["330"]) as anna:
        assert await trace_all(anna, call=call) == by_monitor
        # The device form: the events that concern 333 (his forwarding, the call's from his
        # ringing on, not 332's own dialling), each as the log has it, in seq order.
        of_333 = await trace_all(anna, device="333")
        early = [e["event"] for e in of_333 if e["seq"] < expected[2]["seq"]]
        assert early == ["forwarding"]
        assert {"delivered", "established", "connectionCleared"} <= {e["event"] for e in of_333}
        assert all(e in everything["events"] for e in of_333)
        seqs = [e["seq"] for e in of_333]
        assert seqs == sorted(seqs)
        for bad in ({}, {"call": call, "device": "333"}, {"call": 0}, {"device": ""}):
            with pytest.raises(Refused) as wrong:
                await anna.request("trace", **bad)
            assert wrong.value.code == "invalidParameterValue", bad


async def test_an_admins_browser_draws_another_users_call_and_a_device_in_the_past(
    node: Running, browser: Browser
) -> None:
    call = await a_call_of_others(node)
    anna = await signed_in(browser, node, "330")
    await anna.get_by_label("Call ID").fill(str(call))
    await anna.get_by_role("button", name="Draw").click()
    ladder = anna.locator("#ladder svg")
    await expect(ladder.locator("text.device")).to_have_text(["332", "333"])
    await expect(ladder.locator("g.event[data-event=established]")).to_have_count(1)
    # Dieter's no-answer timer: a bar beside his lifeline from his ringing to his answer.
    await expect(ladder.locator("g.event[data-event=timerSet] text").first).to_contain_text(
        "timerSet noAnswer due +20 s"
    )
    bar = ladder.locator("line.timer")
    await expect(bar).to_have_count(1)
    await expect(bar).to_have_attribute("data-device", "333")
    await expect(bar).to_have_attribute("data-cleared", "true")
    await expect(anna.locator("#trace-hint")).to_have_text(
        "Any call in the log (administrator or monitor account)."
    )
    ringing = await ladder.locator("g.event[data-event=delivered]").get_attribute("data-seq")
    await anna.get_by_label("Device", exact=True).fill("333")
    await anna.get_by_label("At seq").fill(ringing or "")
    await anna.get_by_role("button", name="Show").click()
    await expect(anna.locator("#past li")).to_have_text(
        [f"333 @ {ringing}: #{call} ringing with 332"]
    )
    assert anna.errors == []  # type: ignore[attr-defined]


async def test_trace_gives_no_internal_event_but_the_timers(node: Running) -> None:
    """A voicemail PIN changed in the phone menu records voicemailPinSet (INTERNAL, with the
    PIN's hash) and menuClosed: an administrator's trace of that call and of the phone holds
    neither, nor anything of the hash."""
    broker = node.broker
    assert broker is not None
    url = f"mqtt://{broker.host}:{broker.port}"
    async with CtiClient(url, user="332", password=PASSWORDS["332"]) as phone:
        call = (await phone.request("makeCall", calling="332", called="351"))["call"]
        await phone.request("enterVoicemailPin", call=call, device="332", pin="123456")
        await phone.request("changeVoicemailPinOnPhone", call=call, device="332", newPin="135790")
        await phone.request("clearConnection", call=call, device="332")
    pin_hash = node.node.state.voicemail.of("332").pin_hash
    assert pin_hash is not None
    async with CtiClient(url, user="330", password=PASSWORDS["330"]) as anna:
        traced = await trace_all(anna, call=call) + await trace_all(anna, device="332")
    assert {"established", "mailboxOpened"} <= {e["event"] for e in traced}
    internal = {e["event"] for e in traced} & set(INTERNAL_KINDS)
    assert internal <= {"timerSet", "timerCleared"}, internal
    assert pin_hash not in repr(traced) and "135790" not in repr(traced)


async def test_an_admins_device_trace_holds_no_persons_own_events(node: Running) -> None:
    """PRES-04: Clara's presence with its private note is hers (users/332/events); an
    administrator's trace of her phone 332 gives the phone's events, not hers (presence.md
    refuses administrators a user's presence); the DND her status turns on is the phone's."""
    from cti.presence.commands import SetPresence
    from cti.presence.model import Status

    note = "Zahnarzt Dr. Kern"
    assert (
        await node.engine.execute(SetPresence(user="332", status=Status.DO_NOT_DISTURB, info=note))
    ).ok
    broker = node.broker
    assert broker is not None
    url = f"mqtt://{broker.host}:{broker.port}"
    async with CtiClient(url, user="330", password=PASSWORDS["330"]) as anna:
        of_332 = await trace_all(anna, device="332")
    assert "doNotDisturb" in {e["event"] for e in of_332}  # the phone's own: positive control
    assert not [e for e in of_332 if e["event"] == "presenceChanged"]
    assert note not in repr(of_332)
