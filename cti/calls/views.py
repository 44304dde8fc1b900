"""Connection-state summary of a device (CALL-11) with the services allowed on each of its
connections (CALL-12), as UIs show it next to favourites and in the internal directory.

Computed from the node state, which is itself a replay of the log, so the summary can never
drift from the calls it describes.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

import attrs

from cti.accounts import settings
from cti.calls import events as ev
from cti.calls.services.allowed import allowed_services
from cti.calls.state import Call, SwitchState

if TYPE_CHECKING:
    from cti.domain.state import NodeState
from cti.calls.values import ConnectionState
from cti.site.model import DeviceKind, DialMethod, Site


class Summary(StrEnum):
    IDLE = "idle"
    INCOMING_INTERNAL = "incoming-internal"
    INCOMING_EXTERNAL = "incoming-external"
    OUTGOING = "outgoing"
    TALKING_INTERNAL = "talking-internal"
    TALKING_EXTERNAL = "talking-external"
    HELD = "held"
    DND = "dnd"


# When a device has several connections the most urgent one names its summary.
_PRIORITY = [
    Summary.INCOMING_EXTERNAL,
    Summary.INCOMING_INTERNAL,
    Summary.TALKING_EXTERNAL,
    Summary.TALKING_INTERNAL,
    Summary.OUTGOING,
    Summary.HELD,
]


@attrs.frozen
class ConnectionView:
    call: int
    state: ConnectionState
    peer: str | None  # the number of the one other party (None: a lone or conference one)
    peer_name: str | None  # its name (None: no peer, or a party without a name: a trunk)
    parties: tuple[str, ...]  # every other device in the call
    summary: Summary
    allowed: tuple[str, ...]
    # The device that holds this connection for the viewed number: a mobility user's mobile
    # (CALL-15) or the member phone of a MULAP group (CALL-14); requests name it.
    via: str | None = None


@attrs.frozen
class DeviceView:
    device: str
    summary: Summary
    connections: tuple[ConnectionView, ...]
    dnd: bool
    forwarding: tuple[tuple[str, str, int], ...]  # (type, destination, ring_time)
    assigned_phone: str | None = None  # MULAP: the phone in force for CTI calls (CALL-14)
    dial_method: DialMethod | None = None  # mobility user: the method in force (CALL-15)


def _peer(site: Site, call: Call, device: str, st: ConnectionState) -> str | None:
    """The one party this connection is with, as a UI should name it; None for a conference."""
    others = call.others(device)
    if st is ConnectionState.ALERTING:
        # Ring-mates of a group call are not the peer; the party ringing us is.
        others = tuple(p for p in others if p.state is not ConnectionState.ALERTING)
    elif (
        call.group is not None
        and others
        and all(p.state is ConnectionState.ALERTING for p in others)
    ):
        return call.group  # the caller of a group that is still ringing (CALL-14)
    if len(others) != 1:
        return None
    peer = others[0].device
    presented = site.device(call.calling)
    if (
        presented is not None
        and peer != call.calling
        and (site.mulap_of(peer) == call.calling or presented.mobile == peer)
    ):
        return call.calling  # the MULAP / mobility number, not the phone behind it
    return peer


def _connection(site: Site, state: SwitchState, call: Call, device: str) -> ConnectionView:
    st = call.state_of(device)
    others = call.others(device)
    peer = _peer(site, call, device, st)
    if st is ConnectionState.ALERTING and call.pending is None:
        external = site.is_external(peer or call.calling)
        summary = Summary.INCOMING_EXTERNAL if external else Summary.INCOMING_INTERNAL
    elif st is ConnectionState.HOLD:
        summary = Summary.HELD
    elif st is ConnectionState.CONNECTED and any(
        p.state in (ConnectionState.CONNECTED, ConnectionState.HOLD) for p in others
    ):
        # Named by the peer as presented: a mobility user's mobile talks as the user (CALL-15).
        external = (
            site.is_external(peer) if peer else any(site.is_external(p.device) for p in others)
        )
        summary = Summary.TALKING_EXTERNAL if external else Summary.TALKING_INTERNAL
    else:
        summary = Summary.OUTGOING
    dev = site.device(peer) if peer else None
    return ConnectionView(
        call=call.id,
        state=st,
        peer=peer,
        peer_name=(dev.name or None) if dev is not None else None,
        parties=tuple(p.device for p in others),
        summary=summary,
        allowed=allowed_services(site, state, device, call),
    )


def device_view(site: Site, node: NodeState, device: str) -> DeviceView:
    state = node.calls
    runtime = state.device(device)
    conns = tuple(_connection(site, state, call, device) for call, _ in state.connections(device))
    dev = site.devices.get(device)
    if dev is not None and dev.mobile is not None:
        # CALL-15: a mobility user's calls on the mobile are the user's calls; the office
        # device shows them (and watchers see the user busy) although the mobile holds them.
        conns += tuple(
            attrs.evolve(_connection(site, state, call, dev.mobile), via=dev.mobile)
            for call, _ in state.connections(dev.mobile)
        )
    if dev is not None and dev.members:
        conns += _group_connections(site, state, dev.number, dev.members)
    summaries = {c.summary for c in conns}
    summary = next((s for s in _PRIORITY if s in summaries), None)
    if summary is None:
        summary = Summary.DND if runtime.dnd else Summary.IDLE
    return DeviceView(
        device=device,
        summary=summary,
        connections=conns,
        dnd=runtime.dnd,
        assigned_phone=None
        if dev is None or dev.kind is not DeviceKind.MULAP
        else settings.assigned_phone(node.accounts, dev),
        dial_method=None
        if dev is None or dev.mobile is None
        else settings.dial_method(node.accounts, dev),
        forwarding=tuple(
            (str(kind), fwd.destination, fwd.ring_time)
            for kind, fwd in sorted(runtime.forwarding.items())
        ),
    )


def _group_connections(
    site: Site, state: SwitchState, group: str, members: tuple[str, ...]
) -> tuple[ConnectionView, ...]:
    """CALL-14: the MULAP number's calls, held by its member phones: calls offered to the
    group and calls made as the group (not a member phone's own calls). Each call once, on
    the member that has answered or holds it, else the first member it rings at."""
    chosen: dict[int, tuple[Call, str]] = {}
    for member in members:
        for call, st in state.connections(member):
            if call.group != group and call.calling != group:
                continue
            held = chosen.get(call.id)
            if held is None or (
                held[0].state_of(held[1]) is ConnectionState.ALERTING
                and st is not ConnectionState.ALERTING
            ):
                chosen[call.id] = (call, member)
    return tuple(
        attrs.evolve(_connection(site, state, call, member), via=member)
        for call, member in sorted(chosen.values(), key=lambda cm: cm[0].id)
    )


def touched_devices(events: Iterable[ev.Event], site: Site | None = None) -> set[str]:
    """Devices whose view may have changed through these events (with ``site``: also the
    mobility users whose mobile took part and the MULAP groups whose phones did)."""
    out: set[str] = set()
    for event in events:
        out.update(event.devices())
        if isinstance(event, ev.TimerSet | ev.TimerCleared):
            # Internal, never published, yet about a device: its state's seq covers them,
            # so a command whose last event sets a timer is seen done (specs/mqtt.md).
            out.add(event.device)
    if site is not None:
        for device in list(out):
            owner = site.owner_of(device) or site.mulap_of(device)
            if owner is not None:
                out.add(owner)
    return out
