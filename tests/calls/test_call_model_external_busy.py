"""Trunk parties (external numbers, mobiles) are busy while they have a connection (CALL-13,
CALL-15): a second call fails with cause busy, a hand-on service is refused."""

from __future__ import annotations

from cti.calls import commands as c
from cti.calls.values import ForwardingType
from tests.office import Office

EXT = "+4930111111"
MOBILE = "+491707654321"  # the mobile of 336 (CTI associated dialling)


def test_call_13_busy_external_party_fails_the_caller(office: Office) -> None:
    office.talking("331", EXT)
    assert office.do(c.MakeCall(calling="330", called=EXT))[1:] == [
        f"originated(newCall) call=2 calling=330 called={EXT} | 330:connected",
        f"networkReached(newCall) call=2 calling=330 called={EXT} trunk=trunk1 | 330:connected",
        f"failed(busy) call=2 failing={EXT} calling=330 called={EXT} | 330:fail",
    ]
    assert office.connections(EXT) == [(1, "connected")]


def test_call_13_off_hook_external_party_is_busy(office: Office) -> None:
    office.do(c.OffHook(device=EXT))
    assert office.do(c.MakeCall(calling="330", called=EXT))[-1] == (
        f"failed(busy) call=2 failing={EXT} calling=330 called={EXT} | 330:fail"
    )


def test_call_15_busy_mobile_fails_the_caller(office: Office) -> None:
    office.talking("331", MOBILE)
    assert office.do(c.MakeCall(calling="330", called=MOBILE))[-1] == (
        f"failed(busy) call=2 failing={MOBILE} calling=330 called={MOBILE} | 330:fail"
    )


def test_call_16_busy_external_forwarding_target_fails_with_busy(office: Office) -> None:
    office.talking("332", EXT)
    office.do(
        c.SetForwarding(
            device="331", forwarding_type=ForwardingType.IMMEDIATE, on=True, destination=EXT
        )
    )
    assert office.do(c.MakeCall(calling="330", called="331"))[-1] == (
        f"failed(busy) call=2 failing={EXT} calling=330 called=331 | 330:fail"
    )


def test_call_07_single_step_transfer_to_a_busy_external_party_is_refused(
    office: Office,
) -> None:
    office.talking("332", EXT)
    call = office.talking("330", "331")
    err = office.refuse(c.SingleStepTransferCall(call=call, device="331", to=EXT))
    assert (err.name, err.message) == ("invalidDestinationDeviceState", f"{EXT} is busy")


def test_call_15_callback_to_a_busy_mobile_is_refused(office: Office) -> None:
    office.talking("331", "+491701234567")  # the mobile of 335 (callback preferred)
    err = office.refuse(c.MakeCall(calling="335", called="332"))
    assert (err.name, err.message) == (
        "invalidCallingDeviceState",
        "the mobile +491701234567 of 335 is busy on call 1",
    )
