"""Parties leaving a 4-party conference one after another (CALL-03, CALL-08).

330 talks to 331, consults 332 and conferences, consults 333 and conferences. Then parties
leave. After every step each device's call index (``state.calls.device(d).calls``) must list
exactly the calls the device is in (no stale call left behind), the call keeps the right
parties, and the call ends with ``callCleared`` once only one party would remain.
"""

from __future__ import annotations

from itertools import permutations

import pytest

from cti.calls import commands as c
from cti.calls.values import ConnectionState
from tests.office import Office

PARTIES = ("330", "331", "332", "333")


def four_party_conference(office: Office) -> int:
    call = office.talking("330", "331")
    for number in ("332", "333"):
        consult = office.call_of(c.ConsultationCall(call=call, device="330", consulted=number))
        office.do(c.AnswerCall(call=consult, device=number))
        office.do(c.ConferenceCall(device="330"))
    assert parties(office, call) == [(d, "connected") for d in PARTIES]
    return call


def parties(office: Office, call: int) -> list[tuple[str, str]]:
    found = office.switch.call(call)
    return [] if found is None else [(p.device, str(p.state)) for p in found.parties]


def assert_index_exact(office: Office) -> None:
    """Every device lists exactly the calls it has a connection in, and nothing else."""
    switch = office.switch
    for number, runtime in switch.devices.items():
        for cid in runtime.calls:
            call = switch.call(cid)
            assert call is not None, f"{number} lists call {cid}, which is gone"
            assert call.state_of(number) is not ConnectionState.NULL, (
                f"{number} lists call {cid} but is not in it"
            )
    for call in switch.calls.values():
        for party in call.parties:
            assert call.id in switch.device(party.device).calls, (party.device, call.id)


def test_two_parties_leave_then_the_call_ends(office: Office) -> None:
    call = four_party_conference(office)
    assert office.do(c.ClearConnection(call=call, device="331")) == [
        "connectionCleared(normalClearing) call=1 device=331"
        " | 330:connected 331:null 332:connected 333:connected",
    ]
    assert_index_exact(office)
    assert office.switch.device("331").calls == ()
    assert parties(office, call) == [
        ("330", "connected"),
        ("332", "connected"),
        ("333", "connected"),
    ]

    assert office.do(c.ClearConnection(call=call, device="332")) == [
        "connectionCleared(normalClearing) call=1 device=332"
        " | 330:connected 332:null 333:connected",
    ]
    assert_index_exact(office)
    assert office.switch.device("332").calls == ()
    assert parties(office, call) == [("330", "connected"), ("333", "connected")]

    # Only 333 would remain: the call is cleared whole.
    assert office.do(c.ClearConnection(call=call, device="330")) == [
        "connectionCleared(normalClearing) call=1 device=330 | 330:null 333:connected",
        "callCleared(normalClearing) call=1 | 333:null",
    ]
    assert_index_exact(office)
    assert not office.switch.calls
    assert all(office.switch.device(d).calls == () for d in PARTIES)
    office.assert_replays()


@pytest.mark.parametrize("how", ["clearConnection", "onHook"])
@pytest.mark.parametrize("order", list(permutations(PARTIES, 3)))
def test_any_order_of_leaving(office: Office, order: tuple[str, ...], how: str) -> None:
    call = four_party_conference(office)
    remaining = list(PARTIES)
    for step, device in enumerate(order, start=1):
        if how == "onHook":
            events = office.do(c.OnHook(device=device))
        else:
            events = office.do(c.ClearConnection(call=call, device=device))
        remaining.remove(device)
        assert events[0].startswith(f"connectionCleared(normalClearing) call=1 device={device} |")
        assert_index_exact(office)
        assert office.switch.device(device).calls == ()
        if step < 3:
            assert len(events) == 1
            assert parties(office, call) == [(d, "connected") for d in remaining]
            assert all(office.switch.device(d).calls == (call,) for d in remaining)
        else:
            (last,) = remaining
            assert events[1:] == [f"callCleared(normalClearing) call=1 | {last}:null"]
            assert office.switch.call(call) is None
            assert office.switch.device(last).calls == ()
    office.assert_replays()


def test_parties_leave_the_held_conference_of_a_consulting_party(office: Office) -> None:
    """330 holds the conference and consults 334: parties leaving the held conference must
    not disturb 330's index entry of its consultation, and 330's held leg goes with the
    conference."""
    call = four_party_conference(office)
    consult = office.call_of(c.ConsultationCall(call=call, device="330", consulted="334"))
    office.do(c.AnswerCall(call=consult, device="334"))
    assert office.switch.device("330").calls == (call, consult)

    office.do(c.ClearConnection(call=call, device="331"))
    assert_index_exact(office)
    assert parties(office, call) == [("330", "hold"), ("332", "connected"), ("333", "connected")]
    assert office.switch.device("330").calls == (call, consult)

    office.do(c.ClearConnection(call=call, device="332"))
    assert_index_exact(office)
    assert parties(office, call) == [("330", "hold"), ("333", "connected")]

    # 330 only holds the conference: with 333 gone it ends, 330's consultation stays.
    assert office.do(c.ClearConnection(call=call, device="333")) == [
        "connectionCleared(normalClearing) call=1 device=333 | 330:hold 333:null",
        "callCleared(normalClearing) call=1 | 330:null",
    ]
    assert_index_exact(office)
    assert office.switch.device("330").calls == (consult,)
    assert parties(office, consult) == [("330", "connected"), ("334", "connected")]
    office.assert_replays()
