"""The bookkeeping of gap filling, without I/O (so it is tested without a broker).

Events are numbered by the node's log (``seq``, global and gap-free), but each device's
event topic carries only that device's events (and a user's own event topic only that
user's presence, profile and mailbox events), so a jump in ``seq`` there says nothing:
a gap can only be known from the connection. While one connection is up and its
subscriptions are in place, the broker delivers everything in the order the node published
it, which is ``seq`` order: every live event proves that all before it have arrived. (MQTT
promises that order per topic only; Mosquitto keeps one queue per session, so it holds
across topics: this relies on it.)
:attr:`Streams.covered` is that position. When the connection was lost (or a new device,
or the user's own events, is watched) the client *holds* live updates, asks the node's log
(``replay``) for what came after ``covered``, and releases both together in ``seq`` order,
each event once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cti.client.updates import (
    DeviceEvent,
    DeviceState,
    Lamp,
    OwnEvent,
    Update,
    device_events,
    own_events,
)

__all__ = ["Held", "Streams"]

Held = DeviceEvent | OwnEvent | DeviceState | Lamp  # what waits while a gap is filled
Event = DeviceEvent | OwnEvent


def _order(update: Held) -> tuple[int, int]:
    # A state or lamp document reflects every event up to its seq: it goes after them.
    return (update.seq, 0 if isinstance(update, Event) else 1)


def _stream(event: Event) -> tuple[str, str]:
    """Which stream an event is of: a device's event topic, or a user's own one."""
    return ("device", event.device) if isinstance(event, DeviceEvent) else ("user", event.user)


class Streams:
    """Per watched stream: the last event delivered (events are dropped by ``seq`` when they
    come twice: replayed and live, or republished by the node after a restart, which
    publishes at least once) and the seq of the last state and lamp document."""

    def __init__(self) -> None:
        self.devices: set[str] = set()  # watched: their states and events
        self.owners: set[str] = set()  # users whose own events are watched (the signed-in one)
        self.epoch: str | None = None  # of the node's log, from the status document
        # Every watched stream is complete up to here (None: not yet synced in this epoch).
        self.covered: int | None = None
        # (device or user, name): the seq of its last event delivered
        self._last: dict[tuple[str, str], int] = {}
        self._seen: dict[tuple[str, str], int] = {}  # (kind, device): seq of the last document
        self._held: list[Held] | None = None  # None: live, delivered as they come

    @property
    def holding(self) -> bool:
        return self._held is not None

    def hold(self) -> None:
        """From now on live updates wait for :meth:`release` (a gap is being filled)."""
        if self._held is None:
            self._held = []

    def live(self, update: Held) -> list[Update]:
        """A live update: what to deliver now (nothing while holding, or for a duplicate)."""
        if self._held is not None:
            self._held.append(update)
            return []
        if isinstance(update, Event) and self.covered is not None:
            self.covered = max(self.covered, update.seq)
        return self._pass(update)

    def status_seen(self, seq: int) -> None:
        """A live status: everything up to ``seq`` was published before it, and so has
        arrived (not a retained one: that was published while we were not listening)."""
        if self._held is None and self.covered is not None:
            self.covered = max(self.covered, seq)

    def start(self, status_seq: int) -> int:
        """Where the replay of a gap starts: after ``covered``; the first time after the
        status's seq (the retained states reflect everything published before it)."""
        return (self.covered if self.covered is not None else status_seq) + 1

    def release(self, replayed: Iterable[dict[str, Any]], published: int) -> list[Update]:
        """End the hold: the held live updates and the ``replayed`` events, in seq order,
        each event once. Of the replayed events only those published before the replay's
        reply are taken: up to ``published`` (the reply's ``publishedSeq``) or a held live
        event, whichever is later. The log can be ahead of what the node has published; such
        an event is published after the reply, so its live copy comes: an event happening now
        arrives live, not replayed."""
        held = self._held or []
        self._held = None
        cap = max([published, *(i.seq for i in held if isinstance(i, Event))])
        items: list[Held] = list(held)  # first: a live copy wins over its replayed twin
        for doc in replayed:
            if doc["seq"] <= cap:
                items += device_events(doc, self.devices)
                items += own_events(doc, self.owners)
        items.sort(key=_order)  # stable
        out: list[Update] = []
        for item in items:
            out += self._pass(item)
        self.covered = max(self.covered or 0, cap)
        return out

    def reset(self, epoch: str) -> None:
        """A new log: its seqs start again, so nothing remembered holds. Hold until synced."""
        self.epoch = epoch
        self.covered = None
        self._last.clear()
        self._seen.clear()
        self._held = []

    def _pass(self, update: Held) -> list[Update]:
        if isinstance(update, Event):
            stream = _stream(update)
            if update.seq <= self._last.get(stream, -1):
                return []
            self._last[stream] = update.seq
            return [update]
        key = ("state" if isinstance(update, DeviceState) else "lamp", update.device)
        # The same seq is the same document (a retained one again, or republished by the
        # node on its reconnect); an older one is stale.
        if update.seq <= self._seen.get(key, -1):
            return []
        self._seen[key] = update.seq
        return [update]
