"""Our events -> CSTAEventReport arguments (opcode 21), one per interested monitor.

A call event goes to the monitors of every device in its ``local`` list (each party before
and after the event, as the MQTT face publishes it), with that device's state as
localConnectionInfo, and to the call monitors of its call (and of the call a transfer or
conference merged), without localConnectionInfo: a call monitor has no local device.
A MULAP group's calls also go to the monitors of the group number, as the group's connection
(:mod:`cti.csta.link.mulap`). Forwarding and doNotDisturb go to the monitors of their device.
Timer events are internal and never reported. Every report carries the event's own time in
the log (its commit time, not the time it is sent) as CSTACommonArguments security
timestamp, as HiPath / OpenScape Business switches do. With the association's ``rights``
(:mod:`cti.csta.link.rights`), a monitor whose account may no longer read its device, or
whose account has no device among the event's parties (a call monitor; callCleared, which
names no party, excepted), gets no report: it is revoked.
"""

from __future__ import annotations

import functools
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from cti.app.committed import Committed
from cti.calls import events as ev
from cti.calls.values import Cause, ConnectionState
from cti.csta.ids import connection, device_id, subject
from cti.csta.link.monitors import Monitor, Monitors
from cti.csta.link.mulap import as_group
from cti.csta.link.rights import Rights

Fields = dict[str, Any]
LOGICAL = {"doNotDisturb", "forwarding"}
SKIPPED = frozenset(ev.INTERNAL_KINDS)


# Causes of a call that was redirected to where it is now (forwarded, deflected, picked up,
# transferred): its lastRedirectionDevice exists even when the event does not name it.
REDIRECTED = frozenset(
    {
        Cause.CALL_FORWARD_BUSY,
        Cause.CALL_FORWARD_IMMEDIATE,
        Cause.CALL_FORWARD_NO_ANSWER,
        Cause.REDIRECTED,
        Cause.CALL_PICKUP,
        Cause.SINGLE_STEP_TRANSFER,
        Cause.TRANSFER,
    }
)


def _redirection(number: str | None, cause: Cause) -> tuple[str, Any]:
    """RedirectionDeviceID (ECMA-269): the redirecting device when the event names it;
    ``notKnown`` when the call was redirected but the event does not say from where (a
    forwarded call reaching the network or failing there); ``notRequired`` when the call was
    not redirected at all, so there is no such device (specs/csta.md)."""
    if number:
        return ("numberdialed", device_id(number))
    return ("notKnown", None) if cause in REDIRECTED else ("notRequired", None)


def _parties(calling: str, called: str) -> Fields:
    return {"callingDevice": subject(calling), "calledDevice": subject(called)}


def _service_initiated(e: ev.ServiceInitiated) -> Fields:
    out: Fields = {
        "initiatedConnection": connection(e.call, e.device),
        "initiatingDevice": subject(e.device),
    }
    if e.called:
        out["calledDevice"] = subject(e.called)
    return out


def _originated(e: ev.Originated) -> Fields:
    return {"originatedConnection": connection(e.call, e.calling), **_parties(e.calling, e.called)}


def _network_reached(e: ev.NetworkReached) -> Fields:
    """The call left the site: the outbound connection is the trunk party's."""
    return {
        "outboundConnection": connection(e.call, e.called),
        "networkInterfaceUsed": subject(e.trunk),
        **_parties(e.calling, e.called),
        "lastRedirectionDevice": _redirection(None, e.cause),
    }


def _delivered(e: ev.Delivered) -> Fields:
    return {
        "connection": connection(e.call, e.alerting),
        "alertingDevice": subject(e.alerting),
        **_parties(e.calling, e.called),
        "lastRedirectionDevice": _redirection(e.redirecting, e.cause),
    }


def _established(e: ev.Established) -> Fields:
    return {
        "establishedConnection": connection(e.call, e.answering),
        "answeringDevice": subject(e.answering),
        **_parties(e.calling, e.called),
        "lastRedirectionDevice": _redirection(e.redirecting, e.cause),
    }


def _held(e: ev.Held) -> Fields:
    return {"heldConnection": connection(e.call, e.device), "holdingDevice": subject(e.device)}


def _retrieved(e: ev.Retrieved) -> Fields:
    return {
        "retrievedConnection": connection(e.call, e.device),
        "retrievingDevice": subject(e.device),
    }


def _connection_cleared(e: ev.ConnectionCleared) -> Fields:
    return {
        "droppedConnection": connection(e.call, e.device),
        "releasingDevice": subject(e.device),
    }


def _call_cleared(e: ev.CallCleared) -> Fields:
    return {"clearedCall": connection(e.call)}


def _failed(e: ev.Failed) -> Fields:
    return {
        "failedConnection": connection(e.call, e.failing),
        "failingDevice": subject(e.failing),
        **_parties(e.calling, e.called),
        "lastRedirectionDevice": _redirection(None, e.cause),
    }


def _diverted(e: ev.Diverted) -> Fields:
    return {
        "connection": connection(e.call, e.diverting),
        "divertingDevice": subject(e.diverting),
        "newDestination": subject(e.new_destination),
        "lastRedirectionDevice": _redirection(e.diverting, e.cause),
    }


def connection_list(e: ev.Transferred | ev.Conferenced) -> list[Fields]:
    """The resulting connections; devices that came over from the secondary call name it.

    Used by the transferred / conferenced reports and by the transferCall / conferenceCall
    results, so both show the same connections (those of the committed event)."""
    moved = e.moved if isinstance(e, ev.Transferred) else e.added
    out = []
    for entry in e.local:
        if entry.state is ConnectionState.NULL:
            continue
        item: Fields = {"newConnection": connection(e.call, entry.device)}
        if entry.device in moved and e.secondary_call is not None:
            item["oldConnection"] = connection(e.secondary_call, entry.device)
        item["endpoint"] = ("deviceID", device_id(entry.device))
        out.append(item)
    return out


def _transferred(e: ev.Transferred) -> Fields:
    out: Fields = {"primaryOldCall": connection(e.call, e.transferring)}
    if e.secondary_call is not None:
        out["secondaryOldCall"] = connection(e.secondary_call, e.transferring)
    out["transferringDevice"] = subject(e.transferring)
    out["transferredToDevice"] = subject(e.transferred_to)
    out["transferredConnections"] = connection_list(e)
    return out


def _conferenced(e: ev.Conferenced) -> Fields:
    added = e.added[0] if e.added else e.conferencing
    return {
        "primaryOldCall": connection(e.call, e.conferencing),
        "secondaryOldCall": connection(e.secondary_call, e.conferencing),
        "conferencingDevice": subject(e.conferencing),
        "addedParty": subject(added),
        "conferenceConnections": connection_list(e),
    }


def _do_not_disturb(e: ev.DoNotDisturb) -> Fields:
    return {"device": subject(e.device), "doNotDisturbOn": e.on}


def _forwarding(e: ev.Forwarding) -> Fields:
    out: Fields = {
        "device": subject(e.device),
        "forwardingType": str(e.forwarding_type),
        "forwardStatus": e.on,
    }
    if e.destination:
        out["forwardTo"] = device_id(e.destination)
    if e.ring_time:
        out["ringDuration"] = e.ring_time
    return out


_RENDER: dict[type[ev.Event], Callable[[Any], Fields]] = {
    ev.ServiceInitiated: _service_initiated,
    ev.Originated: _originated,
    ev.NetworkReached: _network_reached,
    ev.Delivered: _delivered,
    ev.Established: _established,
    ev.Held: _held,
    ev.Retrieved: _retrieved,
    ev.ConnectionCleared: _connection_cleared,
    ev.CallCleared: _call_cleared,
    ev.Failed: _failed,
    ev.Diverted: _diverted,
    ev.Transferred: _transferred,
    ev.Conferenced: _conferenced,
    ev.DoNotDisturb: _do_not_disturb,
    ev.Forwarding: _forwarding,
}
# Events whose CSTA type has no localConnectionInfo field.
_NO_LOCAL_INFO = {"callCleared"}


# Rendered bodies of the latest events, shared by every association that reports them: an
# event is rendered once per commit, not once per session. Keyed by id(); the event is kept
# alongside so a reused id never matches. The bodies are read only (encoding never mutates).
_BODIES: OrderedDict[int, tuple[ev.Event, Fields]] = OrderedDict()
_BODIES_KEPT = 1024


@functools.lru_cache(maxsize=64)  # a commit batch shares one time
def time_info(ts_ms: int) -> str:
    """TimeInfo (GeneralizedTime) of a log time, in UTC and in the DER form (X.690 11.7):
    seconds always, a fraction only for milliseconds other than zero, without trailing
    zeros (``20261207081530Z``, ``20261207081530.25Z``)."""
    seconds, ms = divmod(ts_ms, 1000)
    text = time.strftime("%Y%m%d%H%M%S", time.gmtime(seconds))
    if ms:
        text += f".{ms:03d}".rstrip("0")
    return text + "Z"


def _body(item: Committed, render: Callable[[Any], Fields]) -> Fields:
    event = item.event
    hit = _BODIES.get(id(event))
    if hit is not None and hit[0] is event:
        return hit[1]
    body = render(event)
    if isinstance(event, ev.CallEvent):
        body = {**body, "cause": str(event.cause)}
    body["extensions"] = {"security": {"timestamp": time_info(item.ts_ms)}}
    _BODIES[id(event)] = (event, body)
    if len(_BODIES) > _BODIES_KEPT:
        _BODIES.popitem(last=False)
    return body


def reports(item: Committed, monitors: Monitors, rights: Rights | None = None) -> Iterator[Fields]:
    """CSTAEventReportArgument values for the committed event at the monitors of one
    association; with ``rights`` (refreshed), only at the monitors the association's account
    may still have, the others are revoked (``monitors.ended``)."""
    event = item.event
    render = _RENDER.get(type(event))
    if render is None or event.KIND in SKIPPED:
        return
    name = event.KIND
    if isinstance(event, ev.CallEvent):
        # every call event, in log order, so the groups know their calls (even unreported);
        # first, so a failing report below cannot make them miss one
        views = monitors.groups.advance(event) if monitors.groups is not None else []
        for entry in event.local:
            targets = _targets(monitors, entry.device, name, rights)
            if not targets:
                continue
            value = dict(_body(item, render))
            if name not in _NO_LOCAL_INFO:
                value["localConnectionInfo"] = str(entry.state)
            for monitor in targets:
                yield _report(monitor.xref, name, value)
        for view in views:
            targets = _targets(monitors, view.group, name, rights)
            if not targets:
                continue
            value = as_group(_body(item, render), view)
            if name not in _NO_LOCAL_INFO:
                value["localConnectionInfo"] = str(view.state)
            for monitor in targets:
                yield _report(monitor.xref, name, value)
        # callCleared carries only the callID and cause, and ends the call's monitors: it goes
        # to all of them (the account's device may have left in the same decision: a hang-up
        # that ends a two-party call, specs/csta.md "Monitors and the account's rights")
        checked = None if isinstance(event, ev.CallCleared) else rights
        theirs: bool | None = None  # the account has a device among the event's parties
        for call in _calls_of(event):  # call monitors: once each, no local device
            for monitor in monitors.on_call(call):
                if checked is not None:
                    if theirs is None:
                        theirs = checked.reads_call(event.devices())
                    if not theirs:
                        monitors.revoke(monitor)
                        continue
                if monitor.wants(name):
                    yield _report(monitor.xref, name, _body(item, render))
    elif isinstance(event, ev.DoNotDisturb | ev.Forwarding):
        for monitor in _targets(monitors, event.device, name, rights):
            yield _report(monitor.xref, name, _body(item, render))


def _targets(monitors: Monitors, device: str, name: str, rights: Rights | None) -> list[Monitor]:
    """The monitors of ``device`` that want ``name``; none, and all of them revoked, when the
    account may no longer read the device."""
    found = monitors.on(device)
    if not found:
        return found
    if rights is not None and not rights.reads_device(device):
        for monitor in list(found):
            monitors.revoke(monitor)
        return []
    return [m for m in found if m.wants(name)]


def _calls_of(event: ev.CallEvent) -> tuple[int, ...]:
    """The calls an event is about: its call, and the call a transfer or conference merged."""
    if isinstance(event, ev.Transferred | ev.Conferenced):
        merged = event.secondary_call
        if merged is not None and merged != event.call:
            return (event.call, merged)
    return (event.call,)


def _report(xref: bytes, name: str, value: Fields) -> Fields:
    category = "logicalDeviceFeatureEvents" if name in LOGICAL else "callControlEvents"
    return {"crossRefIdentifier": xref, "eventSpecificInfo": (category, (name, value))}
