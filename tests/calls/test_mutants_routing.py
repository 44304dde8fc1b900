"""Routing of an offer at its edges (CALL-16, CALL-07): forwarding back into the call, the
hop limit of a forwarding chain, and why a hand-on to an unreachable phone is refused.

Written to kill surviving mutants of ``make mutants`` (TESTING.md) in ``cti/calls/routing.py``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from cti.app.config import load_site
from cti.app.node import Accepted, Node
from cti.calls import commands as c
from cti.calls.routing import MAX_FORWARD_HOPS
from cti.calls.values import ForwardingType
from cti.site.model import Site
from tests.office import Office, fmt

IMMEDIATE = ForwardingType.IMMEDIATE
NO_ANSWER = ForwardingType.NO_ANSWER


def _forward(office: Office, device: str, dest: str, kind: ForwardingType = IMMEDIATE) -> None:
    ring_time = 5 if kind is NO_ANSWER else None
    office.do(
        c.SetForwarding(
            device=device, forwarding_type=kind, on=True, destination=dest, ring_time=ring_time
        )
    )


def test_call_16_forwarding_back_to_the_caller_rings_the_phone_itself(office: Office) -> None:
    """CALL-16: 331 forwards to 330; when 330 calls 331 the target is already in the call, so
    331 keeps it and rings (the call is not refused)."""
    _forward(office, "331", "330")
    assert office.do(c.MakeCall(calling="330", called="331"))[-1] == (
        "delivered(newCall) call=1 alerting=331 calling=330 called=331 | 330:connected 331:alerting"
    )


def test_call_16_no_answer_forwarding_back_to_the_caller_starts_no_timer(
    office: Office,
) -> None:
    """CALL-16: no-answer forwarding whose target is the caller could never forward this
    call, so no timer is started for it."""
    _forward(office, "331", "330", NO_ANSWER)
    events = office.do(c.MakeCall(calling="330", called="331"))
    assert not any(e.startswith("timerSet") for e in events)
    assert not office.switch.timers


def test_call_16_a_forwarding_chain_stops_after_the_hop_limit(office: Office) -> None:
    """CALL-16: a call follows at most MAX_FORWARD_HOPS (5) forwardings; the sixth phone of
    a longer chain keeps it and rings."""
    chain = ["331", "332", "333", "334", "336", "337", "338", "300"]
    for device, dest in itertools.pairwise(chain):
        _forward(office, device, dest)
    events = office.do(c.MakeCall(calling="330", called="331"))
    assert sum(e.startswith("diverted") for e in events) == MAX_FORWARD_HOPS == 5
    assert events[-1] == (
        "delivered(callForwardImmediate) call=1 alerting=337 calling=330 called=331"
        " redirecting=336 | 330:connected 337:alerting"
    )


def test_call_07_call_16_hand_on_to_a_dnd_phone_names_the_reason(office: Office) -> None:
    """CALL-07, CALL-16: a single-step transfer to a phone with do-not-disturb on is refused
    and says why (a busy one says it is busy)."""
    office.talking("330", "331")
    office.do(c.SetDoNotDisturb(device="332", on=True))
    err = office.refuse(c.SingleStepTransferCall(call=1, device="331", to="332"))
    assert (err.name, err.message) == (
        "invalidDestinationDeviceState",
        "332 has do-not-disturb on",
    )
    office.do(c.SetDoNotDisturb(device="332", on=False))
    office.talking("332", "333")
    err = office.refuse(c.SingleStepTransferCall(call=1, device="331", to="332"))
    assert (err.name, err.message) == ("invalidDestinationDeviceState", "332 is busy")


def _site_without_300(tmp_path: Path) -> Site:
    """The example office after its attendant position 300 was taken out of the site file."""
    text = (Path(__file__).parents[2] / "cti" / "sites" / "example.toml").read_text()
    for block in (
        '[[devices]]\nnumber = "300"\nname = "Zentrale"\nkind = "system_phone"\nattendant = true\n',
        '[[users]]\nname = "300"\npassword = "Zentrale-2026!"\nmust_change = false\n',
    ):
        assert block in text
        text = text.replace(block, "")
    (tmp_path / "site.toml").write_text(text)
    return load_site(tmp_path / "site.toml")


def test_call_16_forwarding_to_a_device_gone_from_the_site_is_skipped(
    office: Office, tmp_path: Path
) -> None:
    """CALL-16: 331 forwards immediately and on no answer to 300; the node restarts with a
    site file without 300. A call to 331 rings 331, without a no-answer timer, instead of
    being refused for the unknown target (it was: ``invalidDestination``)."""
    _forward(office, "331", "300")
    _forward(office, "331", "300", NO_ANSWER)
    office.node = Node(_site_without_300(tmp_path), office.store, office.clock)
    office.site = office.node.site
    assert office.do(c.MakeCall(calling="330", called="331"))[2:] == [
        "delivered(newCall) call=1 alerting=331 calling=330 called=331 | 330:connected 331:alerting"
    ]
    assert not office.switch.timers


def test_call_16_a_no_answer_timer_towards_a_device_gone_from_the_site_keeps_ringing(
    office: Office, tmp_path: Path
) -> None:
    """CALL-16: 331 rings with a no-answer timer towards 300 when the node restarts with a
    site file without 300. When the timer fires, the call cannot go there: it only clears
    the timer and 331 goes on ringing."""
    _forward(office, "331", "300", NO_ANSWER)
    office.do(c.MakeCall(calling="330", called="331"))
    office.node = Node(_site_without_300(tmp_path), office.store, office.clock)
    office.clock.advance(5)
    [outcome] = office.node.fire_due_timers()
    assert isinstance(outcome, Accepted)
    assert [fmt(x.event) for x in outcome.events] == [
        "timerCleared call=1 device=331 purpose=noAnswer"
    ]
    assert office.connections("331") == [(1, "alerting")]
