"""Snapshot services: read-only views of a device or a call (no events)."""

from __future__ import annotations

from cti.domain.errors import CstaError
from cti.domain.state import SwitchState


def snapshot_device(state: SwitchState, device: str) -> list[dict[str, object]]:
    """snapshotDevice: the device's connections (call, local state), oldest first."""
    return [{"call": c.id, "state": str(s)} for c, s in state.connections(device)]


def snapshot_call(state: SwitchState, call_id: int) -> list[dict[str, object]]:
    """snapshotCall: every connection of the call; raises invalidCallID."""
    call = state.call(call_id)
    if call is None:
        raise CstaError("invalidCallID", f"no call {call_id}")
    return [{"device": p.device, "state": str(p.state)} for p in call.parties]
