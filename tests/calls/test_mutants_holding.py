"""Transfer and conference (CALL-07, CALL-08): their results, and the no-answer timer of a
ringing party that is transferred (CALL-16).

Written to kill surviving mutants of ``make mutants`` (TESTING.md) in
``cti/calls/services/holding.py``.
"""

from __future__ import annotations

import pytest

from cti.app.config import load_site
from cti.calls import commands as c
from cti.calls.errors import CstaError
from cti.calls.services.holding import check_two
from cti.calls.state import Call, Party
from cti.calls.values import ConnectionState, ForwardingType, TimerPurpose
from tests.office import Office


def _consulting(office: Office, consulted: str) -> None:
    """330 talks to 336 (call 1) and consults ``consulted`` (call 2, ringing)."""
    office.talking("330", "336")
    office.do(c.ConsultationCall(call=1, device="330", consulted=consulted))


def test_call_07_transfer_result_is_the_resulting_call(office: Office) -> None:
    """CALL-07: transferCall's result names the resulting call: the held call, which keeps
    its id (specs/call-model.md, transferCall)."""
    _consulting(office, "331")
    office.do(c.AnswerCall(call=2, device="331"))
    office.do(c.TransferCall(device="330"))
    assert office.last_result == {"call": 1}


def test_call_05_consultation_result_is_the_new_call_and_the_consulting_device(
    office: Office,
) -> None:
    """CALL-05: consultationCall's result names the new call and the device that consults
    (specs/call-model.md, consultationCall)."""
    _consulting(office, "331")
    assert office.last_result == {"call": 2, "device": "330"}


def test_call_08_conference_result_is_the_resulting_call(office: Office) -> None:
    """CALL-08: conferenceCall's result names the resulting call, the held one."""
    _consulting(office, "331")
    office.do(c.AnswerCall(call=2, device="331"))
    office.do(c.ConferenceCall(device="330"))
    assert office.last_result == {"call": 1}


def test_call_07_call_16_a_transferred_ringing_party_keeps_its_no_answer_timer(
    office: Office,
) -> None:
    """CALL-07, CALL-16: 330 transfers 336 to the still ringing 331, which forwards to 332
    after 10 s without answer. The timer follows 331 into the resulting call, due as
    before, and when it fires the call goes on to 332 presenting 336."""
    office.do(
        c.SetForwarding(
            device="331",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="332",
            ring_time=10,
        )
    )
    _consulting(office, "331")
    due = office.clock.now_ms() + 10_000
    assert dict(office.switch.timers) == {(2, "331", TimerPurpose.NO_ANSWER): due}
    office.clock.advance(4)
    assert office.do(c.TransferCall(device="330")) == [
        "timerCleared call=2 device=331 purpose=noAnswer",
        f"timerSet call=1 device=331 purpose=noAnswer due_ms={due}",
        "transferred(transfer) call=1 secondary=2 transferring=330 transferred_to=331"
        " moved=331 | 330:null 336:connected 331:alerting",
    ]
    assert dict(office.switch.timers) == {(1, "331", TimerPurpose.NO_ANSWER): due}
    office.clock.advance(6)
    [outcome] = office.node.fire_due_timers()
    assert outcome.ok
    assert office.connections("332") == [(1, "alerting")]
    assert office.switch.call(1).offer_to("332").calling == "336"  # type: ignore[union-attr]
    assert not office.switch.timers
    office.assert_replays()


# -- check_two's defensive refusals ------------------------------------------------------------
# No sequence of services reaches these states today: a device holds one call at most
# (holdCall refuses a second), a call left with one party is cleared, and only the lone
# originating device of a call ever fails. check_two is pure, so its refusals are checked on
# hand-built calls: they keep a corrupt or future state from being merged.

HOLD = ConnectionState.HOLD
CONNECTED = ConnectionState.CONNECTED


def _call(call_id: int, *parties: tuple[str, ConnectionState]) -> Call:
    return Call(call_id, tuple(Party(d, s) for d, s in parties), calling="330", called="331")


def _refusal(service: str, held: Call, active: Call) -> tuple[str, str]:
    with pytest.raises(CstaError) as caught:
        check_two(load_site(), service, held, active, "330")
    return caught.value.name, caught.value.message


def test_call_07_reconnect_refuses_an_active_call_that_is_held_too() -> None:
    held = _call(1, ("330", HOLD), ("331", CONNECTED))
    active = _call(2, ("330", HOLD), ("332", CONNECTED))
    assert _refusal("reconnectCall", held, active) == (
        "invalidActiveConnectionState",
        "call 2 is held too",
    )


def test_call_07_transfer_refuses_a_call_with_nobody_else_in_it() -> None:
    """The active call or the held call has only the transferring device left."""
    nobody = ("invalidActiveConnectionState", "nobody to transfer to")
    two = _call(1, ("330", HOLD), ("331", CONNECTED))
    assert _refusal("transferCall", two, _call(2, ("330", CONNECTED))) == nobody
    alone = _call(1, ("330", HOLD))
    assert _refusal("transferCall", alone, _call(2, ("330", CONNECTED), ("332", CONNECTED))) == (
        nobody
    )


def test_call_07_transfer_refuses_an_active_call_with_a_failed_party() -> None:
    held = _call(1, ("330", HOLD), ("331", CONNECTED))
    active = _call(2, ("330", CONNECTED), ("332", ConnectionState.FAIL))
    assert _refusal("transferCall", held, active) == (
        "invalidActiveConnectionState",
        "call 2 has failed",
    )
