"""Scenario tests: the exact event sequence of every row of specs/call-model.md.

Each event is rendered ``kind(cause) call=N fields | device:state ...``; the part after ``|`` is
the localConnectionInfo every receiving device gets, so these lists are the per-party streams.
"""

from __future__ import annotations

from cti.calls import commands as c
from cti.calls.values import ForwardingType
from tests.office import Office


def test_make_call_internal_and_answer(office: Office) -> None:  # CALL-01, CALL-03
    assert office.do(c.MakeCall(calling="330", called="331")) == [
        "serviceInitiated(makeCall) call=1 device=330 calling=330 called=331 | 330:initiated",
        "originated(newCall) call=1 calling=330 called=331 | 330:connected",
        "delivered(newCall) call=1 alerting=331 calling=330 called=331"
        " | 330:connected 331:alerting",
    ]
    assert office.last_result == {"call": 1, "device": "330"}
    assert office.do(c.AnswerCall(call=1, device="331")) == [
        "established(newCall) call=1 answering=331 calling=330 called=331"
        " | 330:connected 331:connected",
    ]
    office.assert_replays()


def test_make_call_external_dialable_reaches_network(office: Office) -> None:  # CALL-01
    assert office.do(c.MakeCall(calling="330", called="0 089 7007 98765"))[1:] == [
        "originated(newCall) call=1 calling=330 called=+4989700798765 | 330:connected",
        "networkReached(newCall) call=1 calling=330 called=+4989700798765 trunk=trunk1"
        " | 330:connected",
        "delivered(newCall) call=1 alerting=+4989700798765 calling=330 called=+4989700798765"
        " | 330:connected +4989700798765:alerting",
    ]


def test_make_call_canonical_to_own_extension_is_internal(office: Office) -> None:  # CALL-01
    events = office.do(c.MakeCall(calling="330", called="+49 (89) 7007-331"))
    assert events[-1].startswith("delivered(newCall) call=1 alerting=331")


def test_clear_connection_ends_two_party_call(office: Office) -> None:  # CALL-03
    call = office.talking("330", "331")
    assert office.do(c.ClearConnection(call=call, device="331")) == [
        "connectionCleared(normalClearing) call=1 device=331 | 330:connected 331:null",
        "callCleared(normalClearing) call=1 | 330:null",
    ]
    assert office.connections("330") == [] and not office.switch.calls


def test_clear_call(office: Office) -> None:  # CALL-03
    call = office.talking("330", "331")
    assert office.do(c.ClearCall(call=call)) == [
        "connectionCleared(normalClearing) call=1 device=330 | 330:null 331:connected",
        "callCleared(normalClearing) call=1 | 331:null",
    ]


def test_clear_call_of_a_ringing_call_clears_the_caller_first(office: Office) -> None:
    office.do(c.MakeCall(calling="330", called="331"))
    assert office.do(c.ClearCall(call=1)) == [
        "connectionCleared(normalClearing) call=1 device=330 | 330:null 331:alerting",
        "callCleared(normalClearing) call=1 | 331:null",
    ]
    assert not office.switch.calls


def test_busy_destination_fails_the_caller(office: Office) -> None:
    office.talking("331", "332")
    assert office.do(c.MakeCall(calling="330", called="331"))[-1] == (
        "failed(busy) call=2 failing=331 calling=330 called=331 | 330:fail 331:null"
    )
    assert office.do(c.OnHook(device="330")) == ["callCleared(normalClearing) call=2 | 330:null"]


def test_hold_and_retrieve(office: Office) -> None:  # CALL-04
    call = office.talking("330", "331")
    assert office.do(c.HoldCall(call=call, device="330")) == [
        "held(normal) call=1 device=330 | 330:hold 331:connected",
    ]
    assert office.do(c.RetrieveCall(call=call, device="330")) == [
        "retrieved(normal) call=1 device=330 | 330:connected 331:connected",
    ]


def test_consultation_alternate_reconnect(office: Office) -> None:  # CALL-05, CALL-06
    call = office.talking("330", "331")
    assert office.do(c.ConsultationCall(call=call, device="330", consulted="332")) == [
        "held(consultation) call=1 device=330 | 330:hold 331:connected",
        "serviceInitiated(consultation) call=2 device=330 calling=330 called=332 | 330:initiated",
        "originated(consultation) call=2 calling=330 called=332 | 330:connected",
        "delivered(consultation) call=2 alerting=332 calling=330 called=332"
        " | 330:connected 332:alerting",
    ]
    office.do(c.AnswerCall(call=2, device="332"))
    assert office.do(c.AlternateCall(device="330")) == [
        "held(alternate) call=2 device=330 | 330:hold 332:connected",
        "retrieved(alternate) call=1 device=330 | 330:connected 331:connected",
    ]
    assert office.do(c.ReconnectCall(device="330", held_call=2, active_call=1)) == [
        "connectionCleared(normalClearing) call=1 device=330 | 330:null 331:connected",
        "callCleared(normalClearing) call=1 | 331:null",
        "retrieved(normal) call=2 device=330 | 330:connected 332:connected",
    ]
    office.assert_replays()


def test_transfer_keeps_the_held_call(office: Office) -> None:  # CALL-07
    call = office.talking("330", "331")
    office.do(c.ConsultationCall(call=call, device="330", consulted="332"))
    office.do(c.AnswerCall(call=2, device="332"))
    assert office.do(c.TransferCall(device="330")) == [
        "transferred(transfer) call=1 secondary=2 transferring=330 transferred_to=332 moved=332"
        " | 330:null 331:connected 332:connected",
    ]
    assert office.connections("331") == [(1, "connected")]
    assert office.connections("332") == [(1, "connected")]
    assert office.connections("330") == []
    office.assert_replays()


def test_transfer_while_consulted_party_rings(office: Office) -> None:  # CALL-07
    call = office.talking("330", "331")
    office.do(c.ConsultationCall(call=call, device="330", consulted="332"))
    office.do(c.TransferCall(device="330"))
    assert office.connections("332") == [(1, "alerting")]
    assert office.do(c.AnswerCall(call=1, device="332")) == [
        "established(transfer) call=1 answering=332 calling=331 called=332 redirecting=330"
        " | 331:connected 332:connected",
    ]


def test_single_step_transfer(office: Office) -> None:  # CALL-07
    call = office.talking("330", "331")
    assert office.do(c.SingleStepTransferCall(call=call, device="331", to="332")) == [
        "transferred(singleStepTransfer) call=1 transferring=331 transferred_to=332"
        " | 330:connected 331:null",
        "delivered(singleStepTransfer) call=1 alerting=332 calling=330 called=332"
        " redirecting=331 | 330:connected 332:alerting",
    ]


def test_conference_of_three_and_leave(office: Office) -> None:  # CALL-08
    call = office.talking("330", "331")
    office.do(c.ConsultationCall(call=call, device="330", consulted="332"))
    office.do(c.AnswerCall(call=2, device="332"))
    assert office.do(c.ConferenceCall(device="330")) == [
        "conferenced(conference) call=1 secondary=2 conferencing=330 added=332"
        " | 330:connected 331:connected 332:connected",
    ]
    assert office.do(c.ClearConnection(call=1, device="330")) == [
        "connectionCleared(normalClearing) call=1 device=330"
        " | 330:null 331:connected 332:connected",
    ]
    office.assert_replays()


def test_conference_limit_is_eight(office: Office) -> None:  # CALL-08
    call = office.talking("330", "+4930111111")
    parties = [
        "+4930222222",
        "+4930333333",
        "+4930444444",
        "+4930555555",
        "+4930666666",
        "+4930777777",
    ]
    for number in parties:
        office.do(c.ConsultationCall(call=call, device="330", consulted=number))
        consult = office.last_result["call"]
        assert isinstance(consult, int)
        office.do(c.AnswerCall(call=consult, device=number))
        office.do(c.ConferenceCall(device="330"))
    assert len(office.switch.calls[call].parties) == 8
    office.do(c.ConsultationCall(call=call, device="330", consulted="+4930888888"))
    office.do(c.AnswerCall(call=office.last_result["call"], device="+4930888888"))  # type: ignore[arg-type]
    err = office.refuse(c.ConferenceCall(device="330"))
    assert err.name == "conferenceMemberLimitExceeded"


def test_deflect_to_voicemail(office: Office) -> None:  # CALL-09
    call = office.call_of(c.MakeCall(calling="330", called="331"))
    assert office.do(c.DeflectCall(call=call, device="331", to="351")) == [
        "diverted(redirected) call=1 diverting=331 new_destination=351 | 330:connected 331:null",
        "delivered(redirected) call=1 alerting=351 calling=330 called=331 redirecting=331"
        " | 330:connected 351:alerting",
        "established(redirected) call=1 answering=351 calling=330 called=331 redirecting=331"
        " | 330:connected 351:connected",
    ]


def test_directed_pickup(office: Office) -> None:  # CALL-10
    call = office.call_of(c.MakeCall(calling="330", called="331"))
    assert office.do(c.DirectedPickupCall(picked="331", device="332")) == [
        "diverted(callPickup) call=1 diverting=331 new_destination=332 | 330:connected 331:null",
        "established(callPickup) call=1 answering=332 calling=330 called=331 redirecting=331"
        " | 330:connected 332:connected",
    ]
    assert office.switch.calls[call].answered_by == "332"


def test_group_pickup_takes_the_oldest_ringing_call(office: Office) -> None:  # CALL-10
    office.call_of(c.Dial(device="+4930111111", digits="331"))
    office.call_of(c.Dial(device="+4930222222", digits="332"))
    events = office.do(c.GroupPickupCall(device="330"))
    assert events[0] == (
        "diverted(callPickup) call=1 diverting=331 new_destination=330"
        " | +4930111111:connected 331:null"
    )
    assert office.connections("330") == [(1, "connected")]


def test_mulap_rings_all_members_and_answer_stops_the_others(office: Office) -> None:  # CALL-14
    events = office.do(c.MakeCall(calling="330", called="340"))
    assert events[-2:] == [
        "delivered(newCall) call=1 alerting=337 calling=330 called=340 group=340"
        " | 330:connected 337:alerting",
        "delivered(newCall) call=1 alerting=338 calling=330 called=340 group=340"
        " | 330:connected 337:alerting 338:alerting",
    ]
    assert office.do(c.AnswerCall(call=1, device="338")) == [
        "established(newCall) call=1 answering=338 calling=330 called=340"
        " | 330:connected 337:alerting 338:connected",
        "connectionCleared(normalClearing) call=1 device=337 answered_by=338"
        " | 330:connected 337:null 338:connected",
    ]


def test_mulap_outgoing_cti_call_starts_on_assigned_phone(office: Office) -> None:  # CALL-14
    assert office.do(c.MakeCall(calling="340", called="331"))[:2] == [
        "serviceInitiated(makeCall) call=1 device=337 calling=340 called=331 | 337:initiated",
        "originated(newCall) call=1 calling=337 called=331 | 337:connected",
    ]


def test_mobility_callback_preferred(office: Office) -> None:  # CALL-15
    assert office.do(c.MakeCall(calling="335", called="331")) == [
        "serviceInitiated(makeCall) call=1 device=+491701234567 calling=335 called=331"
        " pending=331 | +491701234567:initiated",
        "networkReached(callBack) call=1 calling=335 called=+491701234567 trunk=trunk1"
        " | +491701234567:initiated",
        "delivered(callBack) call=1 alerting=+491701234567 calling=335 called=+491701234567"
        " | +491701234567:alerting",
    ]
    assert office.do(c.AnswerCall(call=1, device="+491701234567")) == [
        "established(callBack) call=1 answering=+491701234567 calling=335"
        " called=+491701234567"
        " | +491701234567:connected",
        "originated(newCall) call=1 calling=+491701234567 called=331 | +491701234567:connected",
        "delivered(newCall) call=1 alerting=331 calling=335 called=331"
        " | +491701234567:connected 331:alerting",
    ]


def test_mobility_cti_associated_starts_at_office_phone(office: Office) -> None:  # CALL-15
    assert office.do(c.MakeCall(calling="336", called="331"))[0].startswith(
        "serviceInitiated(makeCall) call=1 device=336"
    )


def test_analog_phone_is_prompted_until_lifted(office: Office) -> None:  # CALL-13
    assert office.do(c.MakeCall(calling="334", called="331")) == [
        "serviceInitiated(makeCall) call=1 device=334 calling=334 called=331 pending=331"
        " | 334:initiated",
    ]
    assert office.do(c.OffHook(device="334")) == [
        "originated(newCall) call=1 calling=334 called=331 | 334:connected",
        "delivered(newCall) call=1 alerting=331 calling=334 called=331"
        " | 334:connected 331:alerting",
    ]


def test_forwarding_immediate(office: Office) -> None:  # CALL-16
    assert office.do(
        c.SetForwarding(
            device="331", forwarding_type=ForwardingType.IMMEDIATE, on=True, destination="332"
        )
    ) == [
        "forwarding device=331 forwarding_type=forwardImmediate on=True destination=332"
        " ring_time=0",
    ]
    assert office.do(c.MakeCall(calling="330", called="331"))[2:] == [
        "diverted(callForwardImmediate) call=1 diverting=331 new_destination=332"
        " | 330:connected 331:null",
        "delivered(callForwardImmediate) call=1 alerting=332 calling=330 called=331"
        " redirecting=331 | 330:connected 332:alerting",
    ]


def test_forwarding_on_no_answer_is_a_timer(office: Office) -> None:  # CALL-16
    office.do(
        c.SetForwarding(
            device="331",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="332",
            ring_time=10,
        )
    )
    assert office.do(c.MakeCall(calling="330", called="331"))[-1] == (
        f"timerSet call=1 device=331 purpose=noAnswer due_ms={office.clock.now_ms() + 10_000}"
    )
    office.clock.advance(9.999)
    assert office.node.due_timers() == []
    office.clock.advance(0.001)
    [outcome] = office.node.fire_due_timers()
    assert outcome.ok
    assert office.connections("332") == [(1, "alerting")]
    assert office.connections("331") == []
    assert not office.switch.timers
    office.assert_replays()


def test_forwarding_busy_and_dnd(office: Office) -> None:  # CALL-16
    office.do(
        c.SetForwarding(
            device="331", forwarding_type=ForwardingType.BUSY, on=True, destination="351"
        )
    )
    office.talking("331", "332")
    assert office.do(c.MakeCall(calling="330", called="331"))[-1].startswith(
        "established(callForwardBusy) call=2 answering=351"
    )
    assert office.do(c.SetDoNotDisturb(device="333", on=True)) == [
        "doNotDisturb device=333 on=True"
    ]
    assert office.do(c.MakeCall(calling="336", called="333"))[-1] == (
        "failed(doNotDisturb) call=3 failing=333 calling=336 called=333 | 336:fail 333:null"
    )


def test_answer_on_timer_cancels_it(office: Office) -> None:
    office.do(
        c.SetForwarding(
            device="331", forwarding_type=ForwardingType.NO_ANSWER, on=True, destination="332"
        )
    )
    office.call_of(c.MakeCall(calling="330", called="331"))
    assert office.do(c.AnswerCall(call=1, device="331"))[-1] == (
        "timerCleared call=1 device=331 purpose=noAnswer"
    )


def test_phone_inputs_off_hook_dial_on_hook(office: Office) -> None:
    assert office.do(c.OffHook(device="330")) == [
        "serviceInitiated(newCall) call=1 device=330 calling=330 | 330:initiated",
    ]
    assert office.do(c.Dial(device="330", digits="331"))[0] == (
        "originated(newCall) call=1 calling=330 called=331 | 330:connected"
    )
    assert office.do(c.OffHook(device="331")) == [
        "established(newCall) call=1 answering=331 calling=330 called=331"
        " | 330:connected 331:connected",
    ]
    assert office.do(c.OnHook(device="330"))[0].startswith("connectionCleared")


def test_incoming_external_call(office: Office) -> None:
    events = office.do(c.Dial(device="+4930123456", digits="+49 89 7007 331"))
    assert events[-1] == (
        "delivered(newCall) call=1 alerting=331 calling=+4930123456 called=331"
        " | +4930123456:connected 331:alerting"
    )
