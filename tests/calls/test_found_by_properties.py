"""Bugs the stateful property test (test_call_model_properties.py) found, each as a plain
scenario.

A call of 8 parties grew to 9 when one of its parties handed its connection on to the MULAP
group 340: the group rings all its free members (337 and 338), so the leaving party was
replaced by two ringing ones. Conference and transfer keep to the limit of 8 parties
(CALL-08); handing a call on to a group must too.
"""

from __future__ import annotations

from cti.calls import commands as c
from cti.calls.values import ConnectionState, ForwardingType
from tests.office import Office

EXTERNALS = [f"+49301{n}0000" for n in range(7)]


def _conference(office: Office, controller: str, parties: list[str]) -> int:
    """``controller`` conferences ``parties`` in one after another; returns the call id."""
    call = office.talking(controller, parties[0])
    for number in parties[1:]:
        consult = office.call_of(c.ConsultationCall(call=call, device=controller, consulted=number))
        office.do(c.AnswerCall(call=consult, device=number))
        office.do(c.ConferenceCall(device=controller))
    return call


def _full_call_ringing_at(office: Office, ringing: str) -> int:
    """An 8-party call in which ``ringing`` still rings: 331, a party of 330's conference,
    consults ``ringing`` and transfers while it rings (331 leaves, ``ringing`` joins)."""
    call = _conference(office, "330", ["331", *EXTERNALS[:6]])
    office.do(c.ConsultationCall(call=call, device="331", consulted=ringing))
    office.do(c.TransferCall(device="331"))
    assert len(office.switch.calls[call].parties) == 8
    assert office.switch.calls[call].state_of(ringing) is ConnectionState.ALERTING
    return call


def test_call_08_single_step_transfer_to_a_group_beyond_eight_parties_is_refused(
    office: Office,
) -> None:
    call = _conference(office, "330", EXTERNALS[:7])  # 8 parties
    err = office.refuse(c.SingleStepTransferCall(call=call, device=EXTERNALS[0], to="340"))
    assert (err.name, err.message) == (
        "conferenceMemberLimitExceeded",
        "a call has at most 8 parties, ringing 340 would give 9",
    )
    # With room for both members the group rings as before.
    office.do(c.ClearConnection(call=call, device=EXTERNALS[1]))
    office.do(c.SingleStepTransferCall(call=call, device=EXTERNALS[0], to="340"))
    parties = office.switch.calls[call].parties
    assert len(parties) == 8 and [p.device for p in parties[-2:]] == ["337", "338"]
    office.assert_replays()


def test_call_08_deflect_to_a_group_beyond_eight_parties_is_refused(office: Office) -> None:
    call = _full_call_ringing_at(office, EXTERNALS[6])
    err = office.refuse(c.DeflectCall(call=call, device=EXTERNALS[6], to="340"))
    assert err.name == "conferenceMemberLimitExceeded"


def test_call_08_no_answer_forwarding_to_a_group_beyond_eight_parties_keeps_ringing(
    office: Office,
) -> None:
    office.do(
        c.SetForwarding(
            device="332",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="340",
            ring_time=5,
        )
    )
    call = _full_call_ringing_at(office, "332")
    office.clock.advance(5)
    assert all(outcome.ok for outcome in office.node.fire_due_timers())
    # The forwarding cannot be followed, so the phone keeps ringing (like an unreachable target).
    parties = office.switch.calls[call].parties
    assert len(parties) == 8
    assert office.switch.calls[call].state_of("332") is ConnectionState.ALERTING
    assert not office.switch.timers
    office.assert_replays()
