"""Refusals of the call-control queries: an unknown call or device is refused with the CSTA
error name and a message that says what was asked for (CALL-02, CALL-11, CALL-16).

Written to kill surviving mutants of ``make mutants`` (TESTING.md) in
``cti/calls/services/queries.py``: the error names and messages were never looked at.
"""

from __future__ import annotations

import pytest

from cti.calls.errors import CstaError
from cti.calls.services import queries as q
from cti.kernel.messages import Query
from tests.office import Office


def _refused(office: Office, query: Query) -> tuple[str, str]:
    with pytest.raises(CstaError) as info:
        office.node.query(query)
    return info.value.name, info.value.message


def test_call_11_snapshot_of_an_unknown_call_is_invalid_call_id(office: Office) -> None:
    """CALL-11: snapshotCall of a call that does not exist (or no longer does)."""
    office.talking("330", "331")
    assert office.node.query(q.SnapshotCall(call=1))
    assert _refused(office, q.SnapshotCall(call=2)) == ("invalidCallID", "no call 2")


@pytest.mark.parametrize(
    "query",
    [
        q.SnapshotDevice(device="999"),
        q.GetForwarding(device="999"),
        q.GetDoNotDisturb(device="999"),
    ],
    ids=lambda query: query.SERVICE,
)
def test_call_11_call_16_queries_of_an_unknown_device_are_invalid_device_id(
    office: Office, query: Query
) -> None:
    """CALL-11, CALL-16: device queries name the unknown device."""
    assert _refused(office, query) == ("invalidDeviceID", "unknown device '999'")


def test_call_02_a_trunk_party_has_no_redial_list(office: Office) -> None:
    """CALL-02: redial lists belong to users of the site; an external number is none."""
    assert _refused(office, q.RedialList(device="+4930123456")) == (
        "invalidDeviceID",
        "'+4930123456' is not a user of this site",
    )
    assert _refused(office, q.RedialList(device="999")) == (
        "invalidDeviceID",
        "'999' is not a user of this site",
    )
