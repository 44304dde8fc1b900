"""Queries of call control: read-only views of a device, a call or a redial list (no events).

snapshotDevice and snapshotCall are the ECMA-269 snapshot services; redialList is CALL-02.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import attrs

from cti.calls.errors import CstaError
from cti.calls.state import SwitchState
from cti.calls.values import ConnectionState, ForwardingType
from cti.kernel.messages import Query
from cti.site.model import Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState


class DeviceConnection(TypedDict):
    call: int
    state: ConnectionState


class CallConnection(TypedDict):
    device: str
    state: ConnectionState


class RedialNumbers(TypedDict):
    numbers: list[str]  # newest first, at most 10 (CALL-02)


class ForwardingEntry(TypedDict):
    type: ForwardingType
    destination: str
    ringTime: int


class Forwardings(TypedDict):
    forwarding: list[ForwardingEntry]


class DoNotDisturbOn(TypedDict):
    on: bool


@attrs.frozen(kw_only=True)
class SnapshotDevice(Query):
    SERVICE: ClassVar[str] = "snapshotDevice"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[object] = list[DeviceConnection]
    device: str


@attrs.frozen(kw_only=True)
class SnapshotCall(Query):
    SERVICE: ClassVar[str] = "snapshotCall"
    ON_CALL: ClassVar[str | None] = "call"
    RESULT: ClassVar[object] = list[CallConnection]
    call: int


@attrs.frozen(kw_only=True)
class RedialList(Query):
    SERVICE: ClassVar[str] = "redialList"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[object] = RedialNumbers
    device: str  # the user: a phone, a MULAP or a mobility number


@attrs.frozen(kw_only=True)
class GetForwarding(Query):
    SERVICE: ClassVar[str] = "getForwarding"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[object] = Forwardings
    device: str


@attrs.frozen(kw_only=True)
class GetDoNotDisturb(Query):
    SERVICE: ClassVar[str] = "getDoNotDisturb"
    ACTS_AS: ClassVar[tuple[str, ...]] = ("device",)
    RESULT: ClassVar[object] = DoNotDisturbOn
    device: str


def snapshot_device(state: SwitchState, device: str) -> list[DeviceConnection]:
    """The device's connections (call, local state), oldest first."""
    return [DeviceConnection(call=c.id, state=s) for c, s in state.connections(device)]


def _snapshot_device(site: Site, state: NodeState, q: SnapshotDevice) -> object:
    _known(site, q.device)
    return snapshot_device(state.calls, q.device)


def _snapshot_call(site: Site, state: NodeState, q: SnapshotCall) -> object:
    """Every connection of the call; invalidCallID when there is no such call."""
    call = state.calls.call(q.call)
    if call is None:
        raise CstaError("invalidCallID", f"no call {q.call}")
    return [CallConnection(device=p.device, state=p.state) for p in call.parties]


def _redial_list(site: Site, state: NodeState, q: RedialList) -> object:
    """CALL-02: the last numbers the user dialled, newest first."""
    if site.device(q.device) is None or site.is_external(q.device):
        raise CstaError("invalidDeviceID", f"{q.device!r} is not a user of this site")
    return RedialNumbers(numbers=list(state.calls.device(q.device).redial))


def _known(site: Site, device: str) -> None:
    if site.device(device) is None:
        raise CstaError("invalidDeviceID", f"unknown device {device!r}")


def _get_forwarding(site: Site, state: NodeState, q: GetForwarding) -> object:
    """The device's switch forwarding (CALL-16), one entry per type that is on."""
    _known(site, q.device)
    forwarding = state.calls.device(q.device).forwarding
    return Forwardings(
        forwarding=[
            ForwardingEntry(type=kind, destination=fwd.destination, ringTime=fwd.ring_time)
            for kind, fwd in sorted(forwarding.items())
        ]
    )


def _get_dnd(site: Site, state: NodeState, q: GetDoNotDisturb) -> object:
    _known(site, q.device)
    return DoNotDisturbOn(on=state.calls.device(q.device).dnd)


QUERIES: dict[type[Query], Callable[[Site, Any, Any], object]] = {
    SnapshotDevice: _snapshot_device,
    SnapshotCall: _snapshot_call,
    RedialList: _redial_list,
    GetForwarding: _get_forwarding,
    GetDoNotDisturb: _get_dnd,
}
