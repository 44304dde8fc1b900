"""A generated site of N phones for benchmarks (4-digit numbers 1000..)."""

from __future__ import annotations

import attrs

from cti.app.config import load_site
from cti.site.model import Device, DeviceKind, Site


def big_site(phones: int, node: str = "bench") -> Site:
    base = load_site()
    devices = {
        str(1000 + i): Device(str(1000 + i), DeviceKind.SYSTEM_PHONE, name=f"Phone {i}")
        for i in range(phones)
    }
    devices["351"] = Device("351", DeviceKind.VOICEMAIL, name="Voicemail")
    location = attrs.evolve(base.location, internal_number_length=max(4, len(str(1000 + phones))))
    return Site(node=node, location=location, devices=devices, voicemail="351")


def pair(i: int) -> tuple[str, str]:
    return str(1000 + 2 * i), str(1001 + 2 * i)
