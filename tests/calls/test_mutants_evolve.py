"""What ``evolve`` keeps of a call (specs/call-model.md, "Calls and connections"): a merged
call disappears, ``called`` is the number asked for, ``group`` the MULAP number the call was
offered to, and ``offers`` how each ringing device was offered the call.

Written to kill surviving mutants of ``make mutants`` (TESTING.md) in ``cti/calls/evolve.py``.
"""

from __future__ import annotations

import pytest

from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.evolve import evolve
from cti.calls.services import queries as q
from cti.calls.state import SwitchState
from cti.calls.values import Cause
from cti.calls.values import ConnectionState as CS
from cti.kernel.refusal import Refusal
from tests.office import Office


@pytest.mark.parametrize("merge", [c.TransferCall(device="330"), c.ConferenceCall(device="330")])
def test_call_07_call_08_the_secondary_call_is_gone_after_a_merge(
    office: Office, merge: c.Command
) -> None:
    """CALL-07, CALL-08: a call merged by transferred / conferenced (its secondary_call)
    disappears: no call 2 in the state, in the device index or in snapshots."""
    office.talking("330", "331")
    office.do(c.ConsultationCall(call=1, device="330", consulted="332"))
    office.do(c.AnswerCall(call=2, device="332"))
    office.do(merge)
    assert sorted(office.switch.calls) == [1]
    assert office.switch.call(2) is None
    assert all(2 not in rt.calls for rt in office.switch.devices.values())
    with pytest.raises(Refusal):
        office.node.query(q.SnapshotCall(call=2))
    office.assert_replays()


def test_call_01_called_is_the_number_dialled_after_off_hook(office: Office) -> None:
    """CALL-01: a call started off-hook has no number yet; ``originated`` sets it."""
    office.do(c.OffHook(device="330"))
    assert office.switch.call(1).called == ""  # type: ignore[union-attr]
    office.do(c.Dial(device="330", digits="331"))
    assert office.switch.call(1).called == "331"  # type: ignore[union-attr]


def test_call_14_a_group_call_stays_a_group_call_after_a_deflection(office: Office) -> None:
    """CALL-14, CALL-09: ``group`` is the MULAP number the call was offered to; a member
    deflecting it to a non-member does not change that."""
    office.do(c.MakeCall(calling="330", called="340"))
    office.do(c.DeflectCall(call=1, device="337", to="331"))
    call = office.switch.call(1)
    assert call is not None and call.group == "340"
    assert [p.device for p in call.parties] == ["330", "331"]


def test_call_07_call_14_each_ringing_member_is_answered_as_it_was_offered(
    office: Office,
) -> None:
    """CALL-07, CALL-14: a single-step transfer to the MULAP group rings both members; the
    member that rang first answers with its own offer (cause, calling, redirecting)."""
    office.talking("330", "331")
    office.do(c.SingleStepTransferCall(call=1, device="331", to="340"))
    assert office.do(c.AnswerCall(call=1, device="337"))[0] == (
        "established(singleStepTransfer) call=1 answering=337 calling=330 called=340"
        " redirecting=331 | 330:connected 337:connected 338:alerting"
    )


def test_call_15_a_callback_dialled_late_keeps_the_call_ids_apart(office: Office) -> None:
    """CALL-15: 335's callback call 1 rings the mobile first (the result names it) and
    dials its destination only when the mobile answers, after call 2 was made. The next new
    call is call 3: call 2 stays as it was."""
    office.do(c.MakeCall(calling="335", called="332"))
    assert office.last_result == {"call": 1, "device": "+491701234567"}  # the mobile rings
    office.talking("330", "331")  # call 2
    office.do(c.AnswerCall(call=1, device="+491701234567"))
    assert office.call_of(c.MakeCall(calling="300", called="336")) == 3
    assert [p.device for p in office.switch.call(2).parties] == ["330", "331"]  # type: ignore[union-attr]
    office.assert_replays()


def test_evolve_refuses_an_event_of_an_unknown_call() -> None:
    """Events are decided against the state: one for a call that does not exist means a
    corrupt log, and evolve says which event and call."""
    event = ev.Held(call=9, cause=Cause.NORMAL, local=(ev.Local("330", CS.HOLD),), device="330")
    with pytest.raises(ValueError, match=r"^held for unknown call 9$"):
        evolve(SwitchState(), event)


def test_call_07_a_held_party_of_a_transferred_call_keeps_its_calls_oldest_first(
    office: Office,
) -> None:
    """CALL-07: 331 holds call 1 (with 330) while it consults 332 in call 2; 330 transfers
    call 1 to 336. 331's part in call 1 does not change, and its connections stay oldest
    first (snapshotDevice's order)."""
    office.talking("330", "331")
    office.do(c.ConsultationCall(call=1, device="331", consulted="332"))
    office.do(c.AnswerCall(call=2, device="332"))
    office.do(c.ConsultationCall(call=1, device="330", consulted="336"))
    office.do(c.AnswerCall(call=3, device="336"))
    office.do(c.TransferCall(device="330"))
    assert office.connections("331") == [(1, "hold"), (2, "connected")]
