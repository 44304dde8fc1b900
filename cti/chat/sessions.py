"""Who is online (IM-01, IM-02): live sessions plus a timeout, never a stored flag
(UC-LESSONS rule 2). Pure: times are given in ms by the caller's clock.

Each client announces its session with a retained marker on a topic only its user may write
(``users/{user}/sessions/{client}``), refreshes it every :data:`REFRESH_S` seconds, and leaves
a Last Will that clears it. A user is online while at least one session was seen within
:data:`TIMEOUT_MS`. Nothing is stored: after a restart or a broker reconnect the node learns
the sessions anew from the retained markers (:meth:`Sessions.resync` / :meth:`settle`), and a
marker left behind by a client whose Will was lost expires by the timeout.
"""

from __future__ import annotations

from collections.abc import Iterable

REFRESH_S = 30  # how often a client refreshes its marker (its MQTT keepalive too)
# Three refreshes missed: longer than a missed keepalive plus the broker's Will delay
# (1.5 keepalives), so a live client is never shown offline by a late refresh.
TIMEOUT_MS = 3 * REFRESH_S * 1000
# Sessions one user may hold (tabs, phones, laptops). Markers cost the node memory and the
# broker a retained message each, and any client id is a valid topic level: a user (or a
# script of theirs) announcing ever new ids must not grow either without bound.
MAX_SESSIONS = 20


class Sessions:
    """The live sessions of every user: ``{user: {client: last seen ms}}``."""

    def __init__(self, timeout_ms: int = TIMEOUT_MS) -> None:
        self.timeout_ms = timeout_ms
        self._seen: dict[str, dict[str, int]] = {}
        self._unconfirmed: set[tuple[str, str]] = set()
        self._announced: dict[str, bool] = {}  # what changes() last reported

    def online(self, user: str, now: int) -> bool:
        return any(now - at < self.timeout_ms for at in self._seen.get(user, {}).values())

    def users(self) -> list[str]:
        """Every user with a session known (live or not yet expired)."""
        return sorted(self._seen)

    def clients(self, user: str) -> list[str]:
        return sorted(self._seen.get(user, {}))

    def seen(self, user: str, client: str, now: int) -> list[str]:
        """A marker arrived: the session was announced or refreshed. Returns the user's
        sessions dropped for it (the least recently seen beyond :data:`MAX_SESSIONS`), for
        their markers to be cleared on the broker."""
        clients = self._seen.setdefault(user, {})
        clients[client] = now
        self._unconfirmed.discard((user, client))
        excess = max(0, len(clients) - MAX_SESSIONS)
        dropped = sorted(clients, key=lambda c: (clients[c], c))[:excess]
        for old in dropped:
            self.gone(user, old)
        return dropped

    def gone(self, user: str, client: str) -> None:
        """A marker was cleared (the client's Will, or its goodbye)."""
        clients = self._seen.get(user)
        if clients is not None:
            clients.pop(client, None)
            if not clients:
                del self._seen[user]
        self._unconfirmed.discard((user, client))

    def expire(self, now: int) -> list[tuple[str, str]]:
        """Forget the sessions not seen within the timeout; they are returned, for their
        markers to be cleared on the broker."""
        expired = [
            (user, client)
            for user, clients in self._seen.items()
            for client, at in clients.items()
            if now - at >= self.timeout_ms
        ]
        for user, client in expired:
            self.gone(user, client)
        return expired

    def resync(self) -> None:
        """A new connection to the broker: every known session must be announced again (its
        retained marker arrives after the subscription) or it is dropped by :meth:`settle`."""
        self._unconfirmed = {(u, c) for u, clients in self._seen.items() for c in clients}

    def settle(self) -> None:
        """The retained markers of the new connection are in: drop the sessions that were not
        among them (cleared while the node was not listening)."""
        stale, self._unconfirmed = sorted(self._unconfirmed), set()
        for user, client in stale:
            self.gone(user, client)

    def changes(self, now: int, users: Iterable[str] | None = None) -> dict[str, bool]:
        """The users whose online state differs from what was last taken from here, with
        their state now (what the retained ``online/{user}`` documents must show); of
        ``users`` only, if given (a marker concerns one user: checking everyone on each of
        them would cost the event loop users x refreshes per second)."""
        out: dict[str, bool] = {}
        if users is None:
            users = set(self._seen) | {u for u, on in self._announced.items() if on}
        for user in users:
            now_on = self.online(user, now)
            if self._announced.get(user, False) != now_on:
                out[user] = now_on
                self._announced[user] = now_on
        return out
