"""USER-04: a MULAP user's assigned phone and a mobility user's dial method change at run time.

The site file gives the first value; a change is a command recorded as an event, so restarts,
replays and snapshots keep it, and call control uses it at once (CALL-14, CALL-15).
"""

from __future__ import annotations

import pytest

from cti.accounts.commands import SetAssignedPhone, SetDialMethod
from cti.accounts.settings import assigned_phone, dial_method
from cti.app.clock import ManualClock
from cti.app.config import site_from_dict
from cti.app.node import Node, replay
from cti.calls import commands as c
from cti.calls.views import device_view
from cti.domain import snapshot
from cti.site import DialMethod
from tests.office import Office


def test_call_14_a_mulap_user_changes_the_assigned_phone() -> None:
    office = Office()
    assert office.do(c.MakeCall(calling="340", called="331"))[0].endswith("| 337:initiated")
    office.do(c.ClearCall(call=1))
    assert office.do(SetAssignedPhone(user="340", phone="338")) == [
        "assignedPhoneSet user=340 phone=338"
    ]
    made = office.do(c.MakeCall(calling="340", called="331"))
    assert (
        made[0]
        == "serviceInitiated(makeCall) call=2 device=338 calling=340 called=331 | 338:initiated"
    )
    assert device_view(office.site, office.state, "340").assigned_phone == "338"


def test_call_15_a_mobility_user_changes_the_dial_method() -> None:
    office = Office()
    assert office.do(SetDialMethod(user="335", dial_method=DialMethod.CTI_ASSOCIATED)) == [
        "dialMethodSet user=335 dial_method=cti_associated"
    ]
    made = office.do(c.MakeCall(calling="335", called="331"))
    assert made[0].endswith("| 335:initiated")  # the office phone, not the mobile first
    view = device_view(office.site, office.state, "335")
    assert view.dial_method is DialMethod.CTI_ASSOCIATED


def test_setting_what_is_in_force_records_nothing() -> None:
    office = Office()
    assert office.do(SetAssignedPhone(user="340", phone="337")) == []  # the site's value
    assert office.do(SetDialMethod(user="336", dial_method=DialMethod.CTI_ASSOCIATED)) == []
    office.do(SetAssignedPhone(user="340", phone="338"))
    assert office.do(SetAssignedPhone(user="340", phone="338")) == []
    assert office.do(SetAssignedPhone(user="340", phone="337")) == [
        "assignedPhoneSet user=340 phone=337"
    ]


@pytest.mark.parametrize(
    ("command", "name", "details"),
    [
        (SetAssignedPhone(user="999", phone="337"), "unknownUser", {}),
        (SetAssignedPhone(user="330", phone="337"), "notAMulapUser", {}),
        (SetAssignedPhone(user="340", phone="330"), "notAMember", {"members": ["337", "338"]}),
        (
            SetDialMethod(user="330", dial_method=DialMethod.CALLBACK_PREFERRED),
            "notAMobilityUser",
            {},
        ),
        (SetDialMethod(user="999", dial_method=DialMethod.CALLBACK_PREFERRED), "unknownUser", {}),
    ],
)
def test_refusals_name_the_rule(command: object, name: str, details: dict[str, object]) -> None:
    err = Office().refuse(command)  # type: ignore[arg-type]
    assert (err.name, dict(err.details)) == (name, details)
    assert err.message


def test_settings_survive_restart_replay_and_snapshot() -> None:
    office = Office()
    office.do(SetAssignedPhone(user="340", phone="338"))
    office.do(SetDialMethod(user="335", dial_method=DialMethod.CTI_ASSOCIATED))
    state = office.state
    assert replay(office.store, use_snapshot=False) == state
    assert snapshot.decode(snapshot.encode(state)) == state
    office.node.snapshot()
    restarted = Node(office.site, office.store, ManualClock())
    assert restarted.state == state
    assert restarted.state.accounts.of("340").assigned_phone == "338"


def test_a_change_the_site_no_longer_allows_is_not_used() -> None:
    """The site file was edited: 338 left the MULAP. The user's old choice is ignored (the
    site's value is in force) rather than dialling from a phone outside the group."""
    office = Office()
    office.do(SetAssignedPhone(user="340", phone="338"))
    raw = {
        "location": {"country_code": "49", "area_code": "89", "base_number": "7007"},
        "devices": [{"number": n} for n in ("337", "338", "339")],
        "mulap": [{"number": "340", "members": ["337", "339"], "assigned_phone": "339"}],
    }
    site = site_from_dict(raw)
    group = site.devices["340"]
    assert assigned_phone(office.state.accounts, group) == "339"
    node = Node(site, office.store, ManualClock())  # the same log under the new site
    made = node.execute(c.MakeCall(calling="340", called="337"))
    assert made.ok and made.result["device"] == "339"  # type: ignore[union-attr]
    mobility = office.site.devices["335"]
    assert dial_method(node.state.accounts, mobility) is DialMethod.CALLBACK_PREFERRED


def test_an_empty_store_has_the_site_values() -> None:
    office = Office()
    assert device_view(office.site, office.state, "340").assigned_phone == "337"
    assert device_view(office.site, office.state, "330").assigned_phone is None
