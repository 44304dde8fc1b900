"""Function keys and their LEDs: DSS/BLF keys light per the watched device's CALL-11 summary."""

from __future__ import annotations

from collections.abc import Mapping

from phone_sim.model.phone import Phone

# off: idle; flash: someone calls it (press to pick up); on: busy; wink: do not disturb.
BLF = {
    "idle": "off",
    "incoming-internal": "flash",
    "incoming-external": "flash",
    "outgoing": "on",
    "talking-internal": "on",
    "talking-external": "on",
    "held": "on",
    "dnd": "wink",
}


def default_keys(phone: Phone, directory: Mapping[str, str], kinds: Mapping[str, str]) -> list[str]:
    """The keys of a system phone: feature keys, then one DSS key per other internal user."""
    keys = ["dnd", "fwd", "hold", "release"]
    keys += [
        f"dss:{n}"
        for n in sorted(directory)
        if n != phone.number
        and kinds.get(n) in ("system_phone", "sip_phone", "analog_phone", "mulap")
    ]
    return keys


def lamp(phone: Phone, key: str, summaries: Mapping[str, str]) -> str:
    if key.startswith("dss:"):
        return BLF.get(summaries.get(key[4:], "idle"), "off")
    if key == "dnd":
        return "on" if phone.dnd else "off"
    if key == "fwd":
        return "on" if any(f["type"] == "forwardImmediate" for f in phone.forwarding) else "off"
    if key == "hold":
        return "flash" if phone.held is not None else "off"
    if key == "release":
        return "on" if phone.off_hook else "off"
    return "off"
