"""The phone inputs off-hook and dial (CALL-01, CALL-03, CALL-13): the result of each way
they can go, which names the call and the device (specs/call-model.md, offHook and dial).

Written to kill surviving mutants of ``make mutants`` (TESTING.md) in
``cti/calls/services/basic.py``.
"""

from __future__ import annotations

from cti.calls import commands as c
from tests.office import Office


def test_call_03_off_hook_then_dial_results(office: Office) -> None:
    """CALL-01, CALL-03: lifting the handset starts a call; dialling goes on on it."""
    office.do(c.OffHook(device="330"))
    assert office.last_result == {"call": 1, "device": "330"}
    office.do(c.Dial(device="330", digits="331"))
    assert office.last_result == {"call": 1, "device": "330"}


def test_call_01_dial_on_hook_starts_the_call(office: Office) -> None:
    """CALL-01: a system phone dials without lifting first (speaker); the result is the new
    call at the dialling device."""
    office.talking("331", "332")
    office.do(c.Dial(device="330", digits="333"))
    assert office.last_result == {"call": 2, "device": "330"}


def test_call_03_off_hook_while_ringing_answers(office: Office) -> None:
    """CALL-03: lifting a ringing phone answers the call; the result names it."""
    office.do(c.MakeCall(calling="330", called="331"))
    office.do(c.OffHook(device="331"))
    assert office.last_result == {"call": 1, "device": "331"}
    assert office.connections("331") == [(1, "connected")]


def test_call_13_lifting_a_prompted_analogue_phone_dials(office: Office) -> None:
    """CALL-13: makeCall from an analogue phone prompts it; lifting the handset dials the
    destination on that call, and the result names it."""
    office.do(c.MakeCall(calling="334", called="331"))
    assert office.do(c.OffHook(device="334")) == [
        "originated(newCall) call=1 calling=334 called=331 | 334:connected",
        "delivered(newCall) call=1 alerting=331 calling=334 called=331"
        " | 334:connected 331:alerting",
    ]
    assert office.last_result == {"call": 1, "device": "334"}


def test_call_13_an_analogue_phone_prompted_by_make_call_is_the_result(
    office: Office,
) -> None:
    """CALL-13: makeCall by the analogue phone 334 only prompts it (the user must lift the
    handset); the result names the new call and the phone."""
    assert office.do(c.MakeCall(calling="334", called="331")) == [
        "serviceInitiated(makeCall) call=1 device=334 calling=334 called=331 pending=331"
        " | 334:initiated"
    ]
    assert office.last_result == {"call": 1, "device": "334"}
