"""Administration of what the switch keeps per device: forgetting the settings of devices the
site no longer configures (forgetDevices, specs/operations.md).

A phone removed from the site file keeps its do-not-disturb, forwarding and redial list in the
log, and ``cti serve`` warns of it at every start (``node.log_has_unconfigured_devices``). An
administrator forgets them; a configured device, or one still in a call, is refused and nothing
changes.
"""

from __future__ import annotations

from cti.calls import commands as cmd
from cti.calls import events as ev
from cti.calls.decision import CallDecision as Decision
from cti.calls.errors import CstaError
from cti.calls.state import DeviceRuntime, SwitchState
from cti.site import Site


def has_settings(runtime: DeviceRuntime) -> bool:
    """Does the switch keep anything of the device besides its calls?"""
    return bool(runtime.dnd or runtime.forwarding or runtime.redial)


def unconfigured_devices(site: Site, switch: SwitchState) -> list[str]:
    """Devices whose settings the log holds (do-not-disturb, forwarding, a redial list: only a
    configured device has them) but ``site`` does not configure, sorted."""
    return sorted(
        number
        for number, runtime in switch.devices.items()
        if number not in site.devices and has_settings(runtime)
    )


def forget_devices(d: Decision, c: cmd.ForgetDevices) -> None:
    if c.unconfigured == bool(c.devices):
        raise CstaError(
            "invalidParameterValue",
            "name the devices to forget, or unconfigured: true for every device the site "
            "does not configure (not both)",
            {"field": "devices"},
        )
    targets = (
        unconfigured_devices(d.site, d.switch) if c.unconfigured else list(dict.fromkeys(c.devices))
    )
    for number in targets:
        if number in d.site.devices:
            raise CstaError(
                "requestIncompatibleWithDevice",
                f"{number} is configured by the site: only the settings of a device removed "
                "from the site file can be forgotten",
                {"device": number},
            )
        calls = d.switch.device(number).calls
        if calls:
            raise CstaError(
                "invalidDeviceState",
                f"{number} is in call {calls[0]}: clear it first (clearCall)",
                {"device": number, "calls": list(calls)},
            )
    forgotten = [n for n in targets if has_settings(d.switch.device(n))]
    for number in forgotten:
        d.emit(ev.DeviceForgotten(device=number))
    d.result = {"forgotten": forgotten}
