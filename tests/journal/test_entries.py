"""Journal entries for every CALL-* scenario that makes one (JOUR-01): each user's outcome is
decided at call end from the call's own events (UC-LESSONS rule 4). Exact entries, in the order
they are decided; line format: ``user call direction number outcome [by= group= from=
transferred=]`` (tests/journal/helpers.py)."""

from __future__ import annotations

import pytest

from cti.calls import commands as c
from cti.calls.values import ForwardingType
from cti.journal.calls import fold
from cti.journal.model import Outcome
from tests.journal.helpers import entries
from tests.office import Office


@pytest.fixture
def office() -> Office:
    return Office()


def test_internal_call_answered_with_durations(office: Office) -> None:  # CALL-01, CALL-03
    call = office.call_of(c.MakeCall(calling="331", called="330"))
    office.clock.advance(5)
    office.do(c.AnswerCall(call=call, device="330"))
    office.clock.advance(42)
    office.do(c.ClearConnection(call=call, device="330"))
    assert entries(office) == [
        "331 1 outgoing 330 answered by=330",
        "330 1 incoming 331 answered",
    ]
    log = [(x.seq, x.ts_ms, x.event) for x in office.committed()]
    out, inc = fold(office.site, log)
    assert (out.duration_ms, inc.duration_ms) == (42_000, 42_000)
    assert inc.ended_ms - inc.started_ms == 47_000  # rang 5 s, talked 42 s
    assert out.connected and inc.connected


def test_missed_call_and_not_answered(office: Office) -> None:  # CALL-03
    call = office.call_of(c.MakeCall(calling="331", called="330"))
    office.do(c.ClearConnection(call=call, device="331"))
    assert entries(office) == ["331 1 outgoing 330 notAnswered", "330 1 incoming 331 missed"]


def test_external_calls_in_and_out(office: Office) -> None:  # CALL-01, CALL-13
    out = office.call_of(c.MakeCall(calling="330", called="0089700798765"))
    office.do(c.AnswerCall(call=out, device="+4989700798765"))
    office.do(c.ClearCall(call=out))
    inc = office.call_of(c.Dial(device="+4930111111", digits="331"))
    office.do(c.ClearConnection(call=inc, device="+4930111111"))
    assert entries(office) == [
        "330 1 outgoing +4989700798765 answered by=+4989700798765",
        "331 2 incoming +4930111111 missed",
    ]


def test_busy_is_entered_for_the_caller_and_the_busy_user(office: Office) -> None:
    office.talking("332", "333")
    call = office.call_of(c.MakeCall(calling="331", called="333"))
    office.do(c.ClearConnection(call=call, device="331"))
    assert entries(office) == ["331 2 outgoing 333 busy", "333 2 incoming 331 busy"]


def test_do_not_disturb_is_not_reached(office: Office) -> None:  # CALL-16
    office.do(c.SetDoNotDisturb(device="330", on=True))
    call = office.call_of(c.MakeCall(calling="332", called="330"))
    office.do(c.ClearConnection(call=call, device="332"))
    assert entries(office) == ["332 1 outgoing 330 notReached", "330 1 incoming 332 notReached"]


def test_consultation_is_an_entry_of_its_own(office: Office) -> None:  # CALL-05, CALL-06
    a = office.talking("331", "330")
    b = office.call_of(c.ConsultationCall(call=a, device="330", consulted="332"))
    office.do(c.ClearConnection(call=b, device="330"))
    office.do(c.RetrieveCall(call=a, device="330"))
    office.do(c.ClearCall(call=a))
    assert entries(office) == [
        "330 2 outgoing 332 notAnswered",
        "332 2 incoming 330 missed",
        "331 1 outgoing 330 answered by=330",
        "330 1 incoming 331 answered",
    ]


def test_transfer(office: Office) -> None:  # CALL-07
    a = office.talking("331", "330")
    b = office.call_of(c.ConsultationCall(call=a, device="330", consulted="332"))
    office.do(c.AnswerCall(call=b, device="332"))
    office.clock.advance(10)
    office.do(c.TransferCall(device="330"))  # 330 leaves, 332 moves into call 1
    office.clock.advance(20)
    office.do(c.ClearCall(call=a))
    assert entries(office) == [
        "330 2 outgoing 332 answered by=332 transferred=332",
        "331 1 outgoing 330 answered by=330",
        "330 1 incoming 331 answered transferred=332",
        "332 2 incoming 330 answered",
    ]
    log = [(x.seq, x.ts_ms, x.event) for x in office.committed()]
    durations = {(e.user, e.call): e.duration_ms for e in fold(office.site, log)}
    # 330 talked until the transfer; 332's entry goes on in call 1 until it ends.
    assert durations == {
        ("330", 2): 10_000,
        ("331", 1): 30_000,
        ("330", 1): 10_000,
        ("332", 2): 30_000,
    }


def test_single_step_transfer(office: Office) -> None:  # CALL-07
    a = office.talking("331", "330")
    office.do(c.SingleStepTransferCall(call=a, device="330", to="332"))
    office.do(c.AnswerCall(call=a, device="332"))
    office.do(c.ClearCall(call=a))
    assert entries(office) == [
        "331 1 outgoing 330 answered by=330",
        "330 1 incoming 331 answered transferred=332",
        "332 1 incoming 331 answered from=330",
    ]


def test_conference(office: Office) -> None:  # CALL-08
    a = office.talking("331", "330")
    b = office.call_of(c.ConsultationCall(call=a, device="330", consulted="332"))
    office.do(c.AnswerCall(call=b, device="332"))
    office.do(c.ConferenceCall(device="330"))
    office.do(c.ClearCall(call=a))
    assert entries(office) == [
        "330 2 outgoing 332 answered by=332",
        "331 1 outgoing 330 answered by=330",
        "330 1 incoming 331 answered",
        "332 2 incoming 330 answered",
    ]


def test_deflect_to_voicemail(office: Office) -> None:  # CALL-09
    call = office.call_of(c.MakeCall(calling="331", called="330"))
    office.do(c.DeflectCall(call=call, device="330", to="351"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "331 1 outgoing 330 voicemail by=351",
        "330 1 incoming 331 voicemail by=351",
    ]


def test_deflect_to_a_colleague(office: Office) -> None:  # CALL-09
    call = office.call_of(c.Dial(device="+4930555555", digits="331"))
    office.do(c.DeflectCall(call=call, device="331", to="332"))
    office.do(c.AnswerCall(call=call, device="332"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "331 1 incoming +4930555555 forwarded by=332",
        "332 1 incoming +4930555555 answered from=331",
    ]


def test_directed_pickup(office: Office) -> None:  # CALL-10
    call = office.call_of(c.MakeCall(calling="333", called="330"))
    office.do(c.DirectedPickupCall(picked="330", device="331"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "333 1 outgoing 330 answered by=331",
        "330 1 incoming 333 pickedUp by=331",
    ]


def test_group_pickup(office: Office) -> None:  # CALL-10
    call = office.call_of(c.Dial(device="+4930111111", digits="331"))
    office.do(c.GroupPickupCall(device="332"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == ["331 1 incoming +4930111111 pickedUp by=332"]


def test_mulap_group_call(office: Office) -> None:  # CALL-14: marked as a group call
    call = office.call_of(c.MakeCall(calling="331", called="340"))
    office.do(c.AnswerCall(call=call, device="338"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "331 1 outgoing 340 answered by=338 group=340",
        "340 1 incoming 331 answered by=338 group=340",
        "337 1 incoming 331 answeredElsewhere by=338 group=340",  # never "missed"
        "338 1 incoming 331 answered group=340",
    ]


def test_mulap_group_call_missed_by_all(office: Office) -> None:  # CALL-14
    call = office.call_of(c.Dial(device="+4930111111", digits="340"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "340 1 incoming +4930111111 missed group=340",
        "337 1 incoming +4930111111 missed group=340",
        "338 1 incoming +4930111111 missed group=340",
    ]


def test_mulap_outgoing_is_the_groups(office: Office) -> None:  # CALL-14
    call = office.call_of(c.MakeCall(calling="340", called="331"))
    office.do(c.AnswerCall(call=call, device="331"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "340 1 outgoing 331 answered by=331 group=340",
        "331 1 incoming 340 answered",
    ]


def test_mobility_callback_preferred(office: Office) -> None:  # CALL-15
    call = office.call_of(c.MakeCall(calling="335", called="331"))
    office.do(c.AnswerCall(call=call, device="+491701234567"))  # the mobile first
    office.do(c.AnswerCall(call=call, device="331"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "335 1 outgoing 331 answered by=331",
        "331 1 incoming 335 answered",
    ]


def test_mobility_callback_not_taken_on_the_mobile(office: Office) -> None:  # CALL-15
    call = office.call_of(c.MakeCall(calling="335", called="331"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == ["335 1 outgoing 331 notAnswered"]


def test_mobility_cti_associated(office: Office) -> None:  # CALL-15
    call = office.call_of(c.MakeCall(calling="336", called="331"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == ["336 1 outgoing 331 notAnswered", "331 1 incoming 336 missed"]


def test_forwarded_immediately(office: Office) -> None:  # CALL-16
    fwd = ForwardingType.IMMEDIATE
    office.do(c.SetForwarding(device="330", forwarding_type=fwd, on=True, destination="332"))
    call = office.call_of(c.MakeCall(calling="331", called="330"))
    office.do(c.AnswerCall(call=call, device="332"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "331 1 outgoing 330 answered by=332",
        "330 1 incoming 331 forwarded by=332",
        "332 1 incoming 331 answered from=330",
    ]


def test_forwarded_but_nobody_answered_is_missed(office: Office) -> None:  # CALL-16
    fwd = ForwardingType.IMMEDIATE
    office.do(c.SetForwarding(device="330", forwarding_type=fwd, on=True, destination="332"))
    call = office.call_of(c.MakeCall(calling="331", called="330"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "331 1 outgoing 330 notAnswered",
        "330 1 incoming 331 missed by=332",
        "332 1 incoming 331 missed from=330",
    ]


def test_forwarded_on_no_answer_to_voicemail(office: Office) -> None:  # CALL-16
    fwd = ForwardingType.NO_ANSWER
    office.do(
        c.SetForwarding(device="330", forwarding_type=fwd, on=True, destination="351", ring_time=5)
    )
    call = office.call_of(c.MakeCall(calling="331", called="330"))
    office.clock.advance(5)
    assert all(o.ok for o in office.node.fire_due_timers())
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "331 1 outgoing 330 voicemail by=351",
        "330 1 incoming 331 voicemail by=351",
    ]


def test_forwarded_when_busy(office: Office) -> None:  # CALL-16
    office.talking("330", "333")
    fwd = ForwardingType.BUSY
    office.do(c.SetForwarding(device="333", forwarding_type=fwd, on=True, destination="332"))
    call = office.call_of(c.MakeCall(calling="331", called="333"))
    office.do(c.AnswerCall(call=call, device="332"))
    office.do(c.ClearCall(call=call))
    assert entries(office) == [
        "331 2 outgoing 333 answered by=332",
        "333 2 incoming 331 forwarded by=332",
        "332 2 incoming 331 answered from=333",
    ]


def test_calls_in_progress_make_no_entry_yet(office: Office) -> None:
    office.talking("331", "330")
    assert entries(office) == []


def test_every_outcome_is_reached_by_some_scenario() -> None:
    """The outcomes above cover the enumeration (a new outcome needs a scenario)."""
    covered = {
        "answered", "missed", "busy", "notReached", "notAnswered", "voicemail", "pickedUp",
        "answeredElsewhere", "forwarded",
    }  # fmt: skip
    assert covered == {o.value for o in Outcome}
