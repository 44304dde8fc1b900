"""Forwarding never rings the device that forwarded the call (CALL-16, CALL-14)."""

from __future__ import annotations

import pytest

from cti.calls import commands as c
from cti.calls.values import ForwardingType
from tests.office import Office

IMMEDIATE = ForwardingType.IMMEDIATE


def _forward(office: Office, device: str, dest: str, kind: ForwardingType = IMMEDIATE) -> None:
    office.do(c.SetForwarding(device=device, forwarding_type=kind, on=True, destination=dest))


@pytest.mark.parametrize("kind", list(ForwardingType))
def test_call_16_mulap_member_cannot_forward_to_its_own_group(
    office: Office, kind: ForwardingType
) -> None:
    err = office.refuse(
        c.SetForwarding(device="337", forwarding_type=kind, on=True, destination="340")
    )
    assert (err.name, err.message) == (
        "invalidForwardingDestination",
        "337 cannot forward to its own MULAP group 340",
    )


def test_call_16_device_cannot_forward_to_itself(office: Office) -> None:
    err = office.refuse(
        c.SetForwarding(device="331", forwarding_type=IMMEDIATE, on=True, destination="331")
    )
    assert (err.name, err.message) == (
        "invalidForwardingDestination",
        "331 cannot forward to itself",
    )


def test_call_16_forwarding_loop_stops_before_ringing_the_forwarder(office: Office) -> None:
    _forward(office, "331", "332")
    _forward(office, "332", "331")
    assert office.do(c.MakeCall(calling="330", called="331"))[2:] == [
        "diverted(callForwardImmediate) call=1 diverting=331 new_destination=332"
        " | 330:connected 331:null",
        "delivered(callForwardImmediate) call=1 alerting=332 calling=330 called=331"
        " redirecting=331 | 330:connected 332:alerting",
    ]
    assert office.connections("331") == []


def test_call_14_forwarding_into_the_group_of_the_forwarder_skips_it(office: Office) -> None:
    _forward(office, "337", "331")
    _forward(office, "331", "340")
    assert office.do(c.MakeCall(calling="330", called="337"))[2:] == [
        "diverted(callForwardImmediate) call=1 diverting=337 new_destination=331"
        " | 330:connected 337:null",
        "diverted(callForwardImmediate) call=1 diverting=331 new_destination=340"
        " | 330:connected 331:null",
        "delivered(callForwardImmediate) call=1 alerting=338 calling=330 called=337"
        " redirecting=331 group=340 | 330:connected 338:alerting",
    ]
    assert office.connections("337") == []


def test_call_14_forwarding_into_a_group_of_forwarders_rings_the_last_phone(
    office: Office,
) -> None:
    _forward(office, "337", "338")
    _forward(office, "338", "331")
    _forward(office, "331", "340")
    events = office.do(c.MakeCall(calling="330", called="337"))
    assert events[-1] == (
        "delivered(callForwardImmediate) call=1 alerting=331 calling=330 called=337"
        " redirecting=338 | 330:connected 331:alerting"
    )
    assert office.connections("337") == [] and office.connections("338") == []
