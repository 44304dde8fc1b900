"""The no-answer timer of forwarding (CALL-16) at its edges: fired early, fired after the
forwarding was switched off, and cleared when it is already gone.

Written to kill surviving mutants of ``make mutants`` (TESTING.md): ``fire_timer`` in
``cti/calls/services/features.py`` and ``_timer_cleared`` in ``cti/calls/evolve.py``.
"""

from __future__ import annotations

from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.evolve import evolve
from cti.calls.values import ForwardingType, TimerPurpose
from tests.office import Office

NO_ANSWER = ForwardingType.NO_ANSWER
TIMER = c.FireTimer(call=1, device="331", purpose=TimerPurpose.NO_ANSWER)


def _ringing_with_no_answer_forwarding(office: Office) -> None:
    """331 forwards to 332 after 5 s; 330 calls 331, which rings (call 1)."""
    office.do(
        c.SetForwarding(
            device="331", forwarding_type=NO_ANSWER, on=True, destination="332", ring_time=5
        )
    )
    office.do(c.MakeCall(calling="330", called="331"))
    assert (1, "331", TimerPurpose.NO_ANSWER) in office.switch.timers


def test_call_16_a_timer_fired_before_it_is_due_is_refused(office: Office) -> None:
    """CALL-16: the scheduler may only fire a due timer; an early one is refused by name."""
    _ringing_with_no_answer_forwarding(office)
    office.clock.advance(4.999)
    err = office.refuse(TIMER)
    assert err.name == "invalidParameterValue"
    assert err.message.startswith("timer (1, '331', ") and err.message.endswith(") is not due")
    assert office.connections("331") == [(1, "alerting")]


def test_call_16_forwarding_switched_off_while_ringing_keeps_the_call_here(
    office: Office,
) -> None:
    """CALL-16: switching no-answer forwarding off does not stop the timer, but when it fires
    there is nothing to forward to: the timer goes and the phone keeps ringing."""
    _ringing_with_no_answer_forwarding(office)
    office.do(c.SetForwarding(device="331", forwarding_type=NO_ANSWER, on=False))
    assert office.switch.timers  # still pending
    office.clock.advance(5)
    assert office.do(TIMER) == ["timerCleared call=1 device=331 purpose=noAnswer"]
    assert office.connections("331") == [(1, "alerting")]
    assert office.connections("332") == []
    assert not office.switch.timers
    office.assert_replays()


def test_evolve_is_total_a_timer_cleared_twice_changes_nothing(office: Office) -> None:
    """evolve never refuses an event (cti/calls/evolve.py): clearing a timer that is not
    pending leaves the state as it is, whatever else the state holds."""
    _ringing_with_no_answer_forwarding(office)
    office.do(c.ClearCall(call=1))  # clears the timer with the call
    before = office.switch
    assert not before.timers and before.next_call_id == 2
    after = evolve(before, ev.TimerCleared(call=1, device="331", purpose=TimerPurpose.NO_ANSWER))
    assert after == before


def test_call_16_call_ids_go_on_after_a_no_answer_timer_is_set(office: Office) -> None:
    """CALL-16 (and the call model: ids are never reused): the next call after one that
    started a no-answer timer gets the next id, not one of a call still going on."""
    _ringing_with_no_answer_forwarding(office)  # call 1 ends with timerSet
    assert office.call_of(c.MakeCall(calling="333", called="336")) == 2
    assert office.connections("331") == [(1, "alerting")]
    assert office.connections("336") == [(2, "alerting")]
