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
from cti.calls.state import Call, Party, SwitchState

if TYPE_CHECKING:
    from cti.domain.state import NodeState
from cti.calls.values import ConnectionState
from cti.site.model import EXTERNAL_KINDS, Device, DeviceKind, DialMethod, Site


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
_RANK = {summary: rank for rank, summary in enumerate(_PRIORITY)}


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


def _peer(site: Site, call: Call, st: ConnectionState, others: tuple[Party, ...]) -> str | None:
    """The one party this connection (in state ``st``; ``others``: the call's other
    parties) is with, as a UI should name it; None for a conference."""
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
    calling = call.calling
    if peer != calling and calling in (site.mulap_of(peer), site.owner_of(peer)):
        return calling  # the MULAP / mobility number, not the phone behind it
    return peer


def _external(dev: Device | None) -> bool:
    return dev is not None and dev.kind in EXTERNAL_KINDS


def _connection(
    site: Site, state: SwitchState, call: Call, device: str, via: str | None = None
) -> ConnectionView:
    # One pass over the parties for the connection's state and the others (a device is a
    # party of a call at most once): this runs for every connection of every device a
    # commit batch touches (issue 19).
    st = ConnectionState.NULL
    others_list: list[Party] = []
    for party in call.parties:
        if party.device == device:
            st = party.state
        else:
            others_list.append(party)
    others = tuple(others_list)
    peer = _peer(site, call, st, others)
    dev = site.device(peer) if peer else None  # looked up once: E.164 numbers make a Device
    if st is ConnectionState.ALERTING and call.pending is None:
        external = _external(dev) if peer else site.is_external(call.calling)
        summary = Summary.INCOMING_EXTERNAL if external else Summary.INCOMING_INTERNAL
    elif st is ConnectionState.HOLD:
        summary = Summary.HELD
    elif st is ConnectionState.CONNECTED and any(
        p.state in (ConnectionState.CONNECTED, ConnectionState.HOLD) for p in others
    ):
        # Named by the peer as presented: a mobility user's mobile talks as the user (CALL-15).
        external = _external(dev) if peer else any(site.is_external(p.device) for p in others)
        summary = Summary.TALKING_EXTERNAL if external else Summary.TALKING_INTERNAL
    else:
        summary = Summary.OUTGOING
    return ConnectionView(
        call=call.id,
        state=st,
        peer=peer,
        peer_name=(dev.name or None) if dev is not None else None,
        parties=tuple(p.device for p in others),
        summary=summary,
        allowed=allowed_services(site, state, device, call),
        via=via,
    )


def device_view(site: Site, node: NodeState, device: str) -> DeviceView:
    state = node.calls
    runtime = state.device(device)
    calls = state.calls
    conns = tuple(_connection(site, state, calls[cid], device) for cid in runtime.calls)
    dev = site.devices.get(device)
    if dev is not None and dev.mobile is not None:
        # CALL-15: a mobility user's calls on the mobile are the user's calls; the office
        # device shows them (and watchers see the user busy) although the mobile holds them.
        mobile = dev.mobile
        conns += tuple(
            _connection(site, state, calls[cid], mobile, via=mobile)
            for cid in state.device(mobile).calls
        )
    if dev is not None and dev.members:
        conns += _group_connections(site, state, dev.number, dev.members)
    if conns:
        summary = min((c.summary for c in conns), key=_RANK.__getitem__)
    else:
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
        )
        if runtime.forwarding
        else (),
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
            if not call.is_groups(group):
                continue
            held = chosen.get(call.id)
            if held is None or (
                held[0].state_of(held[1]) is ConnectionState.ALERTING
                and st is not ConnectionState.ALERTING
            ):
                chosen[call.id] = (call, member)
    return tuple(
        _connection(site, state, call, member, via=member)
        for call, member in sorted(chosen.values(), key=lambda cm: cm[0].id)
    )


_TIMER_EVENTS = (ev.TimerSet, ev.TimerCleared)


def touched_devices(events: Iterable[ev.Event], site: Site | None = None) -> set[str]:
    """Devices whose view may have changed through these events (with ``site``: also the
    mobility users whose mobile took part and the MULAP groups whose phones did). A person's
    own events (presence, profile, mailbox) change no device view: the phone of their number
    is left out, or its state, which others read (a MULAP group's account), would be
    republished with their seq and tell when, say, their voicemail was used."""
    out: set[str] = set()
    for event in events:
        out.update(event.topic_devices())
        if isinstance(event, _TIMER_EVENTS):
            # Internal, never published, yet about a device: its state's seq covers them,
            # so a command whose last event sets a timer is seen done (specs/mqtt.md).
            out.add(event.device)
    if site is not None:
        shown_by = [site.shown_by(device) for device in out]
        out.update(number for number in shown_by if number is not None)
    return out
