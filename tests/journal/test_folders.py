"""The folders of every CALL-* scenario that makes a journal entry (JOUR-02), through the
read model: which folders each user's entry is in. ``open`` and ``missed`` never hold a call
someone took for the user (a pickup, a group member, a forward that was answered)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cti.calls import commands as c
from cti.calls.values import ForwardingType
from cti.journal.model import Folder
from tests.journal.helpers import feed, open_db
from tests.office import Office

Scenario = Callable[[Office], None]


def answered(o: Office) -> None:  # CALL-01, CALL-03
    o.do(c.ClearCall(call=o.talking("331", "330")))


def missed(o: Office) -> None:  # CALL-03
    call = o.call_of(c.MakeCall(calling="331", called="330"))
    o.do(c.ClearConnection(call=call, device="331"))


def busy(o: Office) -> None:
    first = o.talking("332", "330")
    call = o.call_of(c.MakeCall(calling="331", called="330"))
    o.do(c.ClearConnection(call=call, device="331"))
    o.do(c.ClearCall(call=first))


def forwarded(o: Office) -> None:  # CALL-16
    fwd = ForwardingType.IMMEDIATE
    o.do(c.SetForwarding(device="330", forwarding_type=fwd, on=True, destination="332"))
    call = o.call_of(c.MakeCall(calling="331", called="330"))
    o.do(c.AnswerCall(call=call, device="332"))
    o.do(c.ClearCall(call=call))


def deflected_to_voicemail(o: Office) -> None:  # CALL-09
    call = o.call_of(c.MakeCall(calling="331", called="330"))
    o.do(c.DeflectCall(call=call, device="330", to="351"))
    o.do(c.ClearCall(call=call))


def picked_up(o: Office) -> None:  # CALL-10
    call = o.call_of(c.MakeCall(calling="331", called="330"))
    o.do(c.DirectedPickupCall(picked="330", device="332"))
    o.do(c.ClearCall(call=call))


def mulap(o: Office) -> None:  # CALL-14
    call = o.call_of(c.MakeCall(calling="331", called="340"))
    o.do(c.AnswerCall(call=call, device="338"))
    o.do(c.ClearCall(call=call))


def mobility(o: Office) -> None:  # CALL-15, callback preferred
    call = o.call_of(c.MakeCall(calling="335", called="331"))
    o.do(c.AnswerCall(call=call, device="+491701234567"))
    o.do(c.AnswerCall(call=call, device="331"))
    o.do(c.ClearCall(call=call))


def transfer(o: Office) -> None:  # CALL-07
    a = o.talking("331", "330")
    b = o.call_of(c.ConsultationCall(call=a, device="330", consulted="332"))
    o.do(c.AnswerCall(call=b, device="332"))
    o.do(c.TransferCall(device="330"))
    o.do(c.ClearCall(call=a))


def conference(o: Office) -> None:  # CALL-08
    a = o.talking("331", "330")
    b = o.call_of(c.ConsultationCall(call=a, device="330", consulted="332"))
    o.do(c.AnswerCall(call=b, device="332"))
    o.do(c.ConferenceCall(device="330"))
    o.do(c.ClearCall(call=a))


A, M, OP, ALL = "answered", "missed", "open", "all"
CASES: list[tuple[Scenario, dict[str, list[str]]]] = [
    (answered, {"330": [A, ALL], "331": [A, ALL]}),
    (missed, {"330": [M, OP, ALL], "331": [OP, ALL]}),
    (busy, {"330": [A, M, OP, ALL], "331": [OP, ALL], "332": [A, ALL]}),
    (forwarded, {"330": [ALL], "331": [A, ALL], "332": [A, ALL]}),
    (deflected_to_voicemail, {"330": [M, OP, ALL], "331": [OP, ALL]}),
    (picked_up, {"330": [ALL], "331": [A, ALL], "332": []}),  # 332 was never offered it
    (mulap, {"340": [A, ALL], "337": [ALL], "338": [A, ALL], "331": [A, ALL]}),
    (mobility, {"335": [A, ALL], "331": [A, ALL]}),
    (transfer, {"330": [A, ALL], "331": [A, ALL], "332": [A, ALL]}),
    (conference, {"330": [A, ALL], "331": [A, ALL], "332": [A, ALL]}),
]


@pytest.mark.parametrize(("scenario", "expected"), CASES, ids=[s.__name__ for s, _ in CASES])
def test_the_folders_of_each_scenario(
    scenario: Scenario, expected: dict[str, list[str]], tmp_path: Path
) -> None:
    office = Office()
    scenario(office)
    db = open_db(tmp_path, office)
    feed(db, office)
    found: dict[str, list[str]] = {}
    for user in expected:
        found[user] = [f.value for f in Folder if db.items(user, f)]
        assert not db.items(user, Folder.OVERDUE)
    assert found == {u: sorted(f, key=[x.value for x in Folder].index) for u, f in expected.items()}
