"""What an association's account may read, asked again before its reports are written.

monitorStart checks the account's rights once (as snapshotDevice / snapshotCall); they change
afterwards: an administrator takes a device away from the account, the account's device leaves
the call a call monitor follows. So the session asks again before it writes any report
(specs/csta.md "Monitors and the account's rights", specs/security.md "CSTA"), with the node's
own rule (:func:`cti.accounts.access.readable`, that of snapshotDevice and replay, and
:func:`cti.accounts.access.in_call`, that of snapshotCall):

- a **device monitor** reports while its device is among the account's readable devices;
- a **call monitor** reports an event while one of the account's devices is a party of it
  (before or after it: the event's ``local`` list; callCleared, which names no party, always),
  and ends once none of them is left in the call after the batch of events that took the
  last one out (a decision's events are committed in one batch: when they end the call,
  callCleared ends the monitor instead).

A monitor that fails is stopped and the application is told with the switch's own monitorStop
invoke (ECMA-269 Monitor Stop, which either side may invoke); see :meth:`Session.flush_reports`.

A change of the account that leaves its readable devices as they were (a profile, presence
visibility, display name, licence) checks nothing again.

Cost: ``readable`` runs only when the account (a new immutable object on every change) or the
site differ from the last time; otherwise :meth:`refresh` is one map lookup and two identity
comparisons per flush. Per report a device monitor costs one set lookup, a call monitor one
per party of the event. Integrators, monitor accounts and the ``[csta]`` account read every
device: ``scope`` is None and nothing is checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cti.accounts.access import in_call, readable
from cti.calls import events as ev
from cti.calls.values import ConnectionState
from cti.kernel.refusal import Refusal

if TYPE_CHECKING:
    from cti.app.node import Node
    from cti.csta.link.monitors import Monitor, Monitors

NOTHING: frozenset[str] = frozenset()


class Rights:
    """The devices ``principal`` may read now (``scope``; None: every device)."""

    def __init__(self, node: Node, principal: str | None) -> None:
        self.node = node
        self.principal = principal
        self.scope: frozenset[str] | None = None
        self._basis: tuple[object, object] | None = None  # (account, site) of ``scope``
        self.refresh()  # the rights it associated with

    def refresh(self) -> bool:
        """Read the account and the site again; True if the devices the account may read
        changed since the last time (monitors checked before may no longer pass). Any other
        change of the account (its profile, presence visibility, display name, licences) is
        a new account object too, but leaves the scope, and so the monitors, as they were."""
        principal = self.principal
        if principal is None:  # the [csta] account: an integrator
            return False
        node = self.node
        account = node.state.accounts.account(principal)
        basis = self._basis
        if basis is not None and basis[0] is account and basis[1] is node.site:
            return False
        self._basis = (account, node.site)
        before = self.scope
        try:
            self.scope = readable(node.site, node.state, principal)
        except Refusal:  # removed, or must change its password: reads nothing
            self.scope = NOTHING
        return self.scope != before

    def reads_device(self, device: str) -> bool:
        scope = self.scope
        return scope is None or device in scope

    def reads_call(self, parties: Iterable[str]) -> bool:
        scope = self.scope
        return scope is None or in_call(scope, parties)

    def revoked(self, monitors: Monitors) -> list[Monitor]:
        """The monitors the account may no longer have (after :meth:`refresh` said its rights
        changed, once every queued report is written, so the node's calls are those the
        monitors were told of): device monitors of devices it may not read, call monitors of
        calls none of its devices is in now (a call already gone is left to its callCleared)."""
        if self.scope is None:
            return []
        calls = self.node.state.calls
        out = []
        for monitor in monitors.all():
            if monitor.device is not None:
                if not self.reads_device(monitor.device):
                    out.append(monitor)
            elif monitor.call is not None:
                call = calls.call(monitor.call)
                if call is not None and not self.reads_call([p.device for p in call.parties]):
                    out.append(monitor)
        return out

    def left(self, event: ev.CallEvent, monitors: Monitors) -> list[Monitor]:
        """After ``event``, the latest of its call in a committed batch (reported, and followed
        by the monitors): the call monitors of its call when none of the account's devices is
        in the call any more. A call that ended in the batch has no monitors left (its
        callCleared ended them)."""
        if self.scope is None:
            return []
        watching = monitors.on_call(event.call)
        if not watching:
            return []
        remaining = [e.device for e in event.local if e.state is not ConnectionState.NULL]
        return [] if self.reads_call(remaining) else list(watching)
