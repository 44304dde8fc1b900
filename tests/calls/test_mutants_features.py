"""Switch features of a device (CALL-16, CALL-02): switching forwarding off and changing it,
and that each feature event leaves the device's other features alone.

Written to kill surviving mutants of ``make mutants`` (TESTING.md): ``set_forwarding`` in
``cti/calls/services/features.py`` and ``_forwarding`` / ``_dnd`` in ``cti/calls/evolve.py``.
"""

from __future__ import annotations

from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.evolve import evolve
from cti.calls.services import queries as q
from cti.calls.values import ForwardingType
from tests.office import Office

IMMEDIATE = ForwardingType.IMMEDIATE
BUSY = ForwardingType.BUSY


def _forward(office: Office, kind: ForwardingType, dest: str) -> list[str]:
    return office.do(c.SetForwarding(device="331", forwarding_type=kind, on=True, destination=dest))


def _forwarding(office: Office) -> object:
    return office.node.query(q.GetForwarding(device="331"))


def test_call_16_forwarding_switched_off_no_longer_forwards(office: Office) -> None:
    """CALL-16: after forwarding is switched off, calls ring the phone itself again."""
    _forward(office, IMMEDIATE, "332")
    assert office.do(c.SetForwarding(device="331", forwarding_type=IMMEDIATE, on=False)) == [
        "forwarding device=331 forwarding_type=forwardImmediate on=False ring_time=0"
    ]
    assert _forwarding(office) == {"forwarding": []}
    office.do(c.MakeCall(calling="330", called="331"))
    assert office.connections("331") == [(1, "alerting")]
    assert office.connections("332") == []
    office.assert_replays()


def test_call_16_switching_one_forwarding_off_keeps_the_others(office: Office) -> None:
    """CALL-16: forwarding types are independent: switching busy forwarding off leaves
    immediate forwarding on."""
    _forward(office, IMMEDIATE, "332")
    _forward(office, BUSY, "351")
    office.do(c.SetForwarding(device="331", forwarding_type=BUSY, on=False))
    assert _forwarding(office) == {
        "forwarding": [{"type": IMMEDIATE, "destination": "332", "ringTime": 0}]
    }
    assert office.do(c.MakeCall(calling="330", called="331"))[-2] == (
        "diverted(callForwardImmediate) call=1 diverting=331 new_destination=332"
        " | 330:connected 331:null"
    )


def test_call_16_changing_the_forwarding_destination_is_recorded(office: Office) -> None:
    """CALL-16: setting the same forwarding again records nothing; a new destination is
    recorded and used."""
    _forward(office, IMMEDIATE, "332")
    assert _forward(office, IMMEDIATE, "332") == []
    assert _forward(office, IMMEDIATE, "333") == [
        "forwarding device=331 forwarding_type=forwardImmediate on=True destination=333 ring_time=0"
    ]
    office.do(c.MakeCall(calling="330", called="331"))
    assert office.connections("333") == [(1, "alerting")]


def test_call_16_call_02_features_leave_each_other_and_the_redial_list_alone(
    office: Office,
) -> None:
    """CALL-16, CALL-02: do-not-disturb, forwarding and the redial list live side by side
    on one device; recording one keeps the others."""
    office.do(c.MakeCall(calling="331", called="330"))
    office.do(c.ClearCall(call=1))
    redial = {"numbers": ["330"]}
    assert office.node.query(q.RedialList(device="331")) == redial
    office.do(c.SetDoNotDisturb(device="331", on=True))
    assert office.node.query(q.RedialList(device="331")) == redial
    _forward(office, BUSY, "351")
    assert office.node.query(q.GetDoNotDisturb(device="331")) == {"on": True}
    assert office.node.query(q.RedialList(device="331")) == redial
    office.do(c.SetDoNotDisturb(device="331", on=False))
    assert _forwarding(office) == {
        "forwarding": [{"type": BUSY, "destination": "351", "ringTime": 0}]
    }
    assert office.node.query(q.RedialList(device="331")) == redial
    office.assert_replays()


def test_evolve_is_total_forwarding_off_that_was_not_on_changes_nothing(
    office: Office,
) -> None:
    """evolve never refuses an event (cti/calls/evolve.py): switching off a forwarding that
    is not on leaves the state as it is."""
    _forward(office, IMMEDIATE, "332")
    before = office.switch
    event = ev.Forwarding(device="331", forwarding_type=BUSY, on=False)
    assert evolve(before, event) == before
