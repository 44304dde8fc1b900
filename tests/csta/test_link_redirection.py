"""lastRedirectionDevice (issue 20 item 7): the redirecting device when the event names it,
``notKnown`` when the call was redirected but the event does not say from where, and
``notRequired`` only for a call that was not redirected (ECMA-269 RedirectionDeviceID)."""

from __future__ import annotations

from typing import Any

from cti.csta.ids import device_id
from tests.csta.conftest import Link
from tests.csta.flows import MONITORED, Trace, forward_no_answer

EXTERNAL = "+4930123456"


async def _trace(link: Link) -> Trace:
    client = link.client()
    await client.associate()
    trace = Trace(client, link.clock)
    await trace.monitor(*MONITORED)
    return trace


def _redirections(trace: Trace) -> list[tuple[str, str, str, Any]]:
    return [
        (trace.device_of[r.xref], r.name, r.value["cause"], r.value["lastRedirectionDevice"])
        for r in trace.reports
        if "lastRedirectionDevice" in r.value
    ]


async def test_a_forwarded_call_leaving_the_site_has_an_unknown_redirection_device(
    link: Link,
) -> None:
    trace = await _trace(link)
    forward = {
        "device": device_id("331"),
        "forwardingType": "forwardImmediate",
        "activateForward": True,
        "forwardDN": device_id(EXTERNAL),
    }
    await trace.do("setForwarding", forward)
    trace.reports.clear()
    await trace.make_call("330", "331")
    got = _redirections(trace)
    assert ("330", "networkReached", "callForwardImmediate", ("notKnown", None)) in got
    delivered = ("330", "delivered", "callForwardImmediate", ("numberdialed", device_id("331")))
    assert delivered in got
    assert all(redirection != ("notRequired", None) for *_, redirection in got)
    await trace.client.close()


async def test_a_call_that_was_not_redirected_does_not_need_one(link: Link) -> None:
    trace = await _trace(link)
    await trace.make_call("330", EXTERNAL)
    await trace.make_call("332", "331")
    got = _redirections(trace)
    assert {name for _, name, _, _ in got} == {"networkReached", "delivered"}
    assert {redirection for *_, redirection in got} == {("notRequired", None)}
    await trace.client.close()


async def test_forwarding_after_no_answer_names_the_forwarding_device(link: Link) -> None:
    trace = await _trace(link)
    await forward_no_answer(trace)
    forwarded = [x for x in _redirections(trace) if x[2] == "callForwardNoAnswer"]
    assert forwarded
    assert all(r == ("numberdialed", device_id("331")) for *_, r in forwarded)
    await trace.client.close()
