"""forgetDevices: an administrator forgets what the switch keeps of devices the site no longer
configures (do-not-disturb, forwarding, a redial list; specs/operations.md, "Devices removed
from the site"). A configured device, or one still in a call, is refused and nothing changes;
the forgetting is an event (deviceForgotten) that replays like any other (CALL-02, CALL-16)."""

from __future__ import annotations

import attrs
import pytest

from cti.accounts.commands import SeedAccounts
from cti.app.config import load_config, load_site
from cti.app.node import Node, replay
from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.evolve import evolve
from cti.calls.services.devices import unconfigured_devices
from cti.calls.state import DeviceRuntime, SwitchState
from cti.calls.values import ForwardingType
from cti.domain import snapshot
from cti.site import Site
from tests.office import Office

FULL = load_site()


def without(*numbers: str) -> Site:
    """The example office with these phones removed from its site file."""
    devices = {n: d for n, d in FULL.devices.items() if n not in numbers}
    return attrs.evolve(FULL, devices=devices)


def removed_office(*numbers: str) -> Office:
    """The example office's log with settings of 333 and 334 (and 330's DND), then the node
    started again on a site without ``numbers``."""
    office = Office()
    office.do(c.SetDoNotDisturb(device="333", on=True))
    office.do(
        c.SetForwarding(
            device="333", forwarding_type=ForwardingType.IMMEDIATE, on=True, destination="351"
        )
    )
    call = office.call_of(c.MakeCall(calling="333", called="332"))  # 333's redial list
    office.do(c.ClearCall(call=call))
    office.do(c.SetDoNotDisturb(device="334", on=True))
    office.do(c.SetDoNotDisturb(device="330", on=True))
    office.site = without(*numbers)
    office.node = Node(office.site, office.store, office.clock)
    return office


def test_the_settings_of_a_removed_phone_are_forgotten_and_replay() -> None:
    office = removed_office("333")
    kept = office.switch.device("333")
    assert kept.dnd and kept.forwarding and kept.redial == ("332",)
    assert unconfigured_devices(office.site, office.switch) == ["333"]
    assert office.do(c.ForgetDevices(devices=("333",))) == ["deviceForgotten device=333"]
    assert office.last_result == {"forgotten": ["333"]}
    assert "333" not in office.switch.devices
    assert unconfigured_devices(office.site, office.switch) == []
    assert office.switch.device("330").dnd  # a configured phone keeps its own
    office.assert_replays()
    assert snapshot.decode(snapshot.encode(office.state)) == office.state


def test_evolve_drops_the_entry_and_leaves_the_others() -> None:
    other = DeviceRuntime(dnd=True)
    state = SwitchState(
        devices=SwitchState()
        .devices.set("333", DeviceRuntime(dnd=True, redial=("1",)))
        .set("330", other)
    )
    after = evolve(state, ev.DeviceForgotten(device="333"))
    assert dict(after.devices) == {"330": other}
    assert evolve(after, ev.DeviceForgotten(device="333")) == after  # nothing kept: as it is


def test_a_configured_device_is_refused_and_nothing_changes() -> None:
    office = removed_office("333")
    refusal = office.refuse(c.ForgetDevices(devices=("330",)))
    assert refusal.name == "requestIncompatibleWithDevice"
    assert refusal.details == {"device": "330"}
    assert "330 is configured by the site" in refusal.message
    # One configured device among removed ones: none is forgotten.
    assert office.refuse(c.ForgetDevices(devices=("333", "330"))).details == {"device": "330"}
    assert office.switch.device("333").dnd and office.switch.device("330").dnd


def test_a_device_in_a_call_is_refused_until_the_call_is_cleared() -> None:
    """A log may hold a call of a phone removed since (the node stopped during it)."""
    office = Office()
    office.do(c.SetDoNotDisturb(device="333", on=True))
    call = office.call_of(c.MakeCall(calling="333", called="332"))
    office.site = without("333")
    office.node = Node(office.site, office.store, office.clock)
    for command in (c.ForgetDevices(devices=("333",)), c.ForgetDevices(unconfigured=True)):
        refusal = office.refuse(command)
        assert refusal.name == "invalidDeviceState"
        assert refusal.details == {"device": "333", "calls": [call]}
        assert refusal.message == f"333 is in call {call}: clear it first (clearCall)"
    office.do(c.ClearCall(call=call))
    assert office.do(c.ForgetDevices(devices=("333",))) == ["deviceForgotten device=333"]
    office.assert_replays()


def test_unconfigured_forgets_every_removed_device_with_settings() -> None:
    office = removed_office("333", "334")
    events = office.do(c.ForgetDevices(unconfigured=True))
    assert events == ["deviceForgotten device=333", "deviceForgotten device=334"]
    assert office.last_result == {"forgotten": ["333", "334"]}
    assert office.switch.device("330").dnd
    # Again: nothing is left to forget, nothing is recorded.
    assert office.do(c.ForgetDevices(unconfigured=True)) == []
    assert office.last_result == {"forgotten": []}


def test_a_device_with_nothing_kept_is_left_as_it_is() -> None:
    office = removed_office("333")
    seq = office.store.last_seq()
    assert office.do(c.ForgetDevices(devices=("3330", "333", "333"))) == [
        "deviceForgotten device=333"
    ]
    assert office.last_result == {"forgotten": ["333"]}  # 3330 (a typo) had nothing
    assert office.store.last_seq() == seq + 1


@pytest.mark.parametrize(
    "command",
    [c.ForgetDevices(), c.ForgetDevices(devices=("333",), unconfigured=True)],
    ids=["neither", "both"],
)
def test_devices_or_unconfigured_exactly(command: c.ForgetDevices) -> None:
    office = removed_office("333")
    refusal = office.refuse(command)
    assert refusal.name == "invalidParameterValue" and refusal.details == {"field": "devices"}


def test_only_administrators_forget() -> None:
    config = load_config()
    office = removed_office("333")
    seeds = tuple(u.seed() for u in config.users if u.name in ("330", "331"))
    office.do(SeedAccounts(accounts=seeds))
    before = office.node.state
    refused = office.node.execute(c.ForgetDevices(devices=("333",)), "331")
    assert not refused.ok and refused.error.name == "notPermitted"  # type: ignore[union-attr]
    assert office.node.state is before
    assert office.node.execute(c.ForgetDevices(devices=("333",)), "330").ok  # an admin
    assert replay(office.store, use_snapshot=False) == office.node.state
