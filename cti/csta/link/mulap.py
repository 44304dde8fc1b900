"""MULAP groups on the CSTA link (CALL-14): a monitor on the group number sees the group's calls.

As on OpenScape Business, an application monitors the group number and gets the group's calls
reported against it: calls offered to the group (``delivered`` with ``group``) and calls made
as the group (``serviceInitiated`` with ``calling`` = the group, by a member phone). The group
is one party of such a call: its connection is ``(call, group)`` and its state is derived from
its members' connections (connected if one talks, else held, initiated, fail, alerting). The
member-by-member ringing that does not change that state (the second member starts ringing,
the others stop when one answers) is not reported to the group; everything else of the call is,
while the group is in it, exactly as a phone's monitor sees its calls (specs/csta.md, "MULAP
monitors").

The association keeps one :class:`GroupCalls` that sees every committed event in log order
(the session renders reports in that order), so it knows which calls are the group's even for
events that do not say so (``established`` carries no ``group``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from cti.calls import events as ev
from cti.calls.state import SwitchState
from cti.calls.values import ConnectionState
from cti.csta.ids import device_id, subject
from cti.site.model import DeviceKind, Site

Fields = dict[str, Any]
NULL = ConnectionState.NULL
# The group's state from its members' states: the most engaged member names it.
_RANK = (
    ConnectionState.CONNECTED,
    ConnectionState.HOLD,
    ConnectionState.INITIATED,
    ConnectionState.FAIL,
    ConnectionState.ALERTING,
    ConnectionState.QUEUED,
)
# Member events that are the group's own bookkeeping when the group's state stays: another
# member starts ringing, or stops ringing because one answered (not reported to the group).
_RINGING_ONLY = {ev.Delivered: "alerting", ev.ConnectionCleared: "device"}
# Device fields that name the group's line rather than who acted: on a group monitor a member
# there becomes the group. Devices that acted (answeringDevice, holdingDevice, releasingDevice,
# divertingDevice, transferringDevice, conferencingDevice ...) keep the member phone.
_LINE_FIELDS = ("alertingDevice", "callingDevice", "initiatingDevice")
_CONNECTION_LISTS = ("transferredConnections", "conferenceConnections")


def group_state(states: Iterable[ConnectionState]) -> ConnectionState:
    present = set(states)
    return next((s for s in _RANK if s in present), NULL)


@attrs.frozen
class GroupView:
    """An event as a group's monitor sees it: the group and its state after the event."""

    group: str
    members: frozenset[str]
    state: ConnectionState


class GroupCalls:
    """Which calls are a monitored group's, and the group's state in each (log order)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._members: dict[str, frozenset[str]] = {}  # monitored groups
        self._calls: dict[tuple[int, str], ConnectionState] = {}  # (call, group) -> state

    @staticmethod
    def is_group(site: Site, device: str) -> bool:
        dev = site.device(device)
        return dev is not None and dev.kind is DeviceKind.MULAP

    def watch(self, group: str, calls: SwitchState) -> None:
        """Start following ``group``, seeded with its calls in the committed state."""
        if group in self._members:
            return
        self._members[group] = frozenset(self.site.devices[group].members)
        for call, state in group_calls(self.site, calls, group):
            self._calls[(call, group)] = state

    def forget(self, group: str) -> None:
        """No monitor on ``group`` is left in the association."""
        self._members.pop(group, None)
        for key in [k for k in self._calls if k[1] == group]:
            del self._calls[key]

    def clear(self) -> None:
        self._members.clear()
        self._calls.clear()

    def advance(self, event: ev.Event) -> list[GroupView]:
        """Follow ``event`` (every committed event, in log order); the groups it is reported
        to, each with its state after it."""
        if not self._members or not isinstance(event, ev.CallEvent):
            return []
        views = []
        parties = event.devices()
        for group, members in self._members.items():
            if group in parties:
                continue  # the number itself is a party (a failed group call): its own report
            before = self._calls.pop((event.call, group), None)
            secondary = getattr(event, "secondary_call", None)
            if secondary is not None:  # a transfer or conference merged the group's call in
                merged = self._calls.pop((secondary, group), None)
                before = before if before is not None else merged
            if before is None and not _joins(event, group, members):
                continue
            # Deflected or picked from the group: every member stops ringing (the others'
            # connectionCleared follows), so only a member that is otherwise in the call counts.
            stopping = isinstance(event, ev.Diverted) and event.diverting in members
            after = group_state(
                e.state
                for e in event.local
                if e.device in members and not (stopping and e.state is ConnectionState.ALERTING)
            )
            if after is not NULL:
                self._calls[(event.call, group)] = after
            before = NULL if before is None else before
            if before is NULL and after is NULL:
                continue
            field = _RINGING_ONLY.get(type(event))
            if field is not None and before is after and getattr(event, field) in members:
                continue
            views.append(GroupView(group, members, after))
        return views


def group_calls(site: Site, calls: SwitchState, group: str) -> list[tuple[int, ConnectionState]]:
    """The group's calls in the committed state, each with the group's state, by call id: the
    calls offered to the group or made as it that a member is in (as the MQTT face shows the
    group's calls, specs/mqtt.md). What snapshotDevice of the group answers."""
    members = site.devices[group].members
    found: dict[int, ConnectionState] = {}
    for member in members:
        for call, _ in calls.connections(member):
            if call.id not in found and call.is_groups(group):
                found[call.id] = group_state(p.state for p in call.parties if p.device in members)
    return sorted((c, s) for c, s in found.items() if s is not NULL)


def _joins(event: ev.CallEvent, group: str, members: frozenset[str]) -> bool:
    """The event makes the call the group's: offered to it, or made as it by a member."""
    if isinstance(event, ev.Delivered):
        return event.group == group
    if isinstance(event, ev.ServiceInitiated):
        return event.calling == group and event.device in members
    return False


# -- rendering ---------------------------------------------------------------------------------
def as_group(body: Fields, view: GroupView) -> Fields:
    """A report body with the group's connection: every ConnectionID of a member, and the
    line's device fields, name the group instead (a new dict; ``body`` is shared)."""
    out = dict(body)
    for key, value in body.items():
        if key in _LINE_FIELDS:
            if _subject_number(value) in view.members:
                out[key] = subject(view.group)
        elif key in _CONNECTION_LISTS:
            out[key] = [_entry(item, view) for item in value]
        else:
            out[key] = _connection(value, view)
    return out


def _entry(item: Fields, view: GroupView) -> Fields:
    entry = {k: _connection(v, view) for k, v in item.items()}
    endpoint = item.get("endpoint")
    if endpoint is not None and _subject_number(endpoint) in view.members:
        entry["endpoint"] = ("deviceID", device_id(view.group))
    return entry


def _connection(value: Any, view: GroupView) -> Any:
    if isinstance(value, tuple) and value[0] == "both":
        ident = value[1]["deviceID"][1]["deviceIdentifier"][1]
        if ident in view.members:
            return ("both", {**value[1], "deviceID": ("staticID", device_id(view.group))})
    return value


def _subject_number(value: Any) -> Any:
    """The number of a SubjectDeviceID-like value (or an endpoint ``deviceID``)."""
    if isinstance(value, tuple) and value[0] in ("deviceIdentifier", "deviceID"):
        return value[1]["deviceIdentifier"][1]
    return None


def member_for(site: Site, calls: SwitchState, call_id: int, device: str) -> str:
    """The device a ConnectionID ``(call, device)`` stands for: for a MULAP number reported
    as the group's connection, the member phone that holds the group's call (the one that
    answered, holds or dials it; while it only rings, the first ringing member); any other
    device is itself. Services then act on that member as its own requests would."""
    if not GroupCalls.is_group(site, device):
        return device
    call = calls.call(call_id)
    if call is None:
        return device  # the engine refuses it (invalidCallID)
    dev = site.devices[device]
    holders = [(p.state, p.device) for p in call.parties if p.device in dev.members]
    for state in _RANK:
        for held, member in holders:
            if held is state:
                return member
    return device  # no member in the call: the engine refuses it (invalidConnectionID)
