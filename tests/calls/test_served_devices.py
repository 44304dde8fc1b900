"""What contexts that serve devices (voicemail, conference dial-in) get from call control:
reactions to call events in the same decision, the DTMF keyed towards their devices (never
recorded by call control: it may be a PIN), and calls placed from their devices."""

from __future__ import annotations

from typing import Any

import pytest

from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.decision import CallDecision
from cti.calls.errors import CstaError
from cti.calls.routing import leave
from cti.calls.services.digits import generate_digits
from cti.calls.system import place_call
from cti.calls.values import Cause, ConnectionState, ForwardingType
from cti.domain import model
from cti.domain.model import evolve
from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal
from tests.office import Office, fmt

CONNECTED = ConnectionState.CONNECTED
NO_ANSWER, IMMEDIATE = ForwardingType.NO_ANSWER, ForwardingType.IMMEDIATE


def _decision(office: Office, cls: type[Decision[Any]] = CallDecision) -> Any:
    d = cls(office.site, office.state, office.clock.now_ms(), evolve)
    d.reactions = model._REACT  # as the composition sets them
    return d


def test_the_voicemail_calls_a_phone_and_hangs_up() -> None:
    office = Office()
    office.do(c.SetForwarding(device="331", forwarding_type=NO_ANSWER, on=True, destination="332"))
    d = _decision(office, Decision)  # another context's decision: the call view is the same
    call = place_call(d, "351", "331")
    assert [fmt(e) for e in d.events] == [
        "serviceInitiated(makeCall) call=1 device=351 calling=351 called=331 | 351:initiated",
        "originated(newCall) call=1 calling=351 called=331 | 351:connected",
        "delivered(newCall) call=1 alerting=331 calling=351 called=331"
        " | 351:connected 331:alerting",
        f"timerSet call=1 device=331 purpose=noAnswer due_ms={office.clock.now_ms() + 15000}",
    ]
    office.node.state = d.state
    d = _decision(office)
    d.emit(  # 331 answers: the no-answer timer goes, by call control's reaction
        ev.Established(
            call=call,
            cause=Cause.NEW_CALL,
            local=(
                ev.Local("351", ev.ConnectionState.CONNECTED),
                ev.Local("331", ev.ConnectionState.CONNECTED),
            ),
            answering="331",
            calling="351",
            called="331",
        )
    )
    leave(d, call, "351")
    assert [e.KIND for e in d.events] == [
        "established",
        "timerCleared",
        "connectionCleared",
        "callCleared",
    ]
    assert not d.state.calls.calls


@pytest.mark.parametrize(
    ("device", "dest", "error"),
    [
        ("330", "331", "requestIncompatibleWithCallingDevice"),
        ("351", "351", "notDifferentDevices"),
        ("351", "12x", "invalidDestination"),
        ("999", "331", "invalidCallingDeviceID"),
    ],
)
def test_only_served_devices_place_calls(device: str, dest: str, error: str) -> None:
    with pytest.raises(CstaError) as refused:
        place_call(_decision(Office()), device, dest)
    assert refused.value.name == error


def test_digits_to_the_voicemail_go_to_its_receiver_and_are_not_recorded() -> None:
    office = Office()
    call = office.call_of(c.MakeCall(calling="330", called="351"))  # the voicemail answers
    got: list[tuple[int, str, str, str]] = []
    d = _decision(office)
    d.digit_receivers = {"voicemail": lambda d, *args: got.append(args)}
    generate_digits(d, c.GenerateDigits(call=call, device="330", digits="123456"))
    assert got == [(call, "330", "351", "123456")]
    assert d.events == []  # a PIN: call control writes nothing down

    def refuse(*_: Any) -> None:
        raise Refusal("wrongPin", "no")

    d.digit_receivers = {"voicemail": refuse}
    with pytest.raises(Refusal):
        generate_digits(d, c.GenerateDigits(call=call, device="330", digits="1"))


def test_digits_between_people_are_an_event_for_every_party() -> None:
    office = Office()
    call = office.talking("330", "331")
    assert office.do(c.GenerateDigits(call=call, device="331", digits="*0#")) == [
        "digitsGenerated(normal) call=1 device=331 count=3 digits=*0# | 330:connected 331:connected"
    ]
    office.do(c.HoldCall(call=call, device="330"))
    assert office.refuse(c.GenerateDigits(call=call, device="330", digits="1")).name == (
        "invalidConnectionState"
    )
    for bad in ("", "1" * 33, "12 3", "E"):
        assert office.refuse(c.GenerateDigits(call=call, device="331", digits=bad)).name == (
            "invalidParameterValue"
        )
    office.assert_replays()


def test_digits_towards_an_outside_party_keep_only_their_count() -> None:
    """A PIN keyed into a bank's menu must not reach the log or the call's topics."""
    office = Office()
    call = office.call_of(c.MakeCall(calling="330", called="0301234567"))
    outside = next(p.device for p in office.switch.calls[call].parties if p.device != "330")
    office.do(c.AnswerCall(call=call, device=outside))
    (event,) = office.do(c.GenerateDigits(call=call, device="330", digits="4711"))
    assert event.startswith("digitsGenerated(normal) call=1 device=330 count=4 |"), event
    assert "4711" not in repr(office.committed()[-1])


def test_a_reaction_follows_its_event_and_a_refused_step_takes_it_back() -> None:
    office = Office()
    seen: list[str] = []

    def react(d: Decision[Any], event: ev.DoNotDisturb) -> None:
        seen.append(event.device)
        if event.on:
            d.emit(
                ev.Forwarding(
                    device=event.device, forwarding_type=ev.ForwardingType.IMMEDIATE, on=False
                )
            )

    d = _decision(office)
    d.reactions = {ev.DoNotDisturb: (react,)}
    d.emit(ev.DoNotDisturb(device="331", on=True))
    d.emit(ev.DoNotDisturb(device="332", on=False))
    assert [e.KIND for e in d.events] == ["doNotDisturb", "forwarding", "doNotDisturb"]

    def refused_step() -> None:
        d.emit(ev.DoNotDisturb(device="333", on=True))
        raise Refusal("x", "y")

    assert not d.attempt(refused_step)
    assert [e.KIND for e in d.events] == ["doNotDisturb", "forwarding", "doNotDisturb"]
    assert seen == ["331", "332", "333"]
    assert d.state.calls.device("333").dnd is False
