"""The topic contract (specs/mqtt.md). Base ``cti/{node}/``."""

from __future__ import annotations

import attrs


@attrs.frozen
class Topics:
    node: str
    # Every topic starts with it: made once, not for each of the thousands a second the outbox
    # names (issue 19).
    base: str = attrs.field(
        init=False, repr=False, default=attrs.Factory(lambda t: f"cti/{t.node}", takes_self=True)
    )

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def events(self) -> str:
        """Node-wide, one message per commit batch: for recorders and high-rate consumers."""
        return f"{self.base}/events"

    def device_state(self, device: str) -> str:
        return f"{self.base}/devices/{device}/state"

    def device_events(self, device: str) -> str:
        return f"{self.base}/devices/{device}/events"

    def user_events(self, user: str) -> str:
        """A user's own events (their presence, profile, mailbox): for that user alone, unlike
        their phone's topic, which a MULAP group or a shared phone lets others read."""
        return f"{self.base}/users/{user}/events"

    def call_events(self, call: int) -> str:
        return f"{self.base}/calls/{call}/events"

    @property
    def device_states(self) -> str:
        return f"{self.base}/devices/+/state"

    def device_of_state(self, topic: str) -> str | None:
        prefix, suffix = f"{self.base}/devices/", "/state"
        if topic.startswith(prefix) and topic.endswith(suffix):
            return topic[len(prefix) : -len(suffix)]
        return None

    @property
    def watched(self) -> tuple[str, ...]:
        """Every filter of topics only the node publishes on."""
        b = self.base
        return (
            self.status,
            self.events,
            f"{b}/devices/+/state",
            f"{b}/devices/+/events",
            f"{b}/calls/+/events",
            f"{b}/users/+/events",
            f"{b}/lamps/+",
            f"{b}/profiles/+",
            f"{b}/users/+/favourites",
            f"{b}/presence/+",
            f"{b}/users/+/presence",
            f"{b}/users/+/callers",
            f"{b}/users/+/journal",
            f"{b}/users/+/conferences",
            f"{b}/users/+/voicemail",
            f"{b}/online/+",
        )

    def lamp(self, device: str) -> str:
        """A device's busy lamp: what every signed-in user may see of it (CALL-10)."""
        return f"{self.base}/lamps/{device}"

    def profile(self, user: str) -> str:
        return f"{self.base}/profiles/{user}"

    def favourites(self, user: str) -> str:
        """A user's favourites (DIR-05): retained, for that user alone (specs/security.md)."""
        return f"{self.base}/users/{user}/favourites"

    def callers(self, user: str) -> str:
        """Who a user's calls are with, named from the user's directories (DIR-06): retained,
        for that user alone."""
        return f"{self.base}/users/{user}/callers"

    def journal(self, user: str) -> str:
        """The counts of a user's journal folders (JOUR-02): retained, for that user alone."""
        return f"{self.base}/users/{user}/journal"

    def conferences(self, user: str) -> str:
        """The conferences a user is a member of, participant states live (CONF-04):
        retained, for that user alone (only members see a conference)."""
        return f"{self.base}/users/{user}/conferences"

    def voicemail(self, user: str) -> str:
        """The counts of a user's mailbox, the badge and the lamp (VM-02): retained, for that
        user alone."""
        return f"{self.base}/users/{user}/voicemail"

    def presence(self, user: str) -> str:
        """A user's presence as every signed-in user may see it (PRES-04)."""
        return f"{self.base}/presence/{user}"

    def own_presence(self, user: str) -> str:
        """A user's presence for the user's own clients (PRES-05)."""
        return f"{self.base}/users/{user}/presence"

    def chat(self, user: str) -> str:
        """A user's chat events (IM-01): messages to and from the user, the user's read
        watermarks; for that user alone (specs/chat.md)."""
        return f"{self.base}/users/{user}/chat"

    def online(self, user: str) -> str:
        """Whether a user is signed in on any client (IM-01): retained, for every user."""
        return f"{self.base}/online/{user}"

    @property
    def sessions(self) -> str:
        """Every client's session marker (the node subscribes; specs/chat.md "Online")."""
        return f"{self.base}/users/+/sessions/+"

    def session(self, user: str, client: str) -> str:
        """A client's session marker: retained while the client is connected, written only by
        its user, cleared by the client's Last Will."""
        return f"{self.base}/users/{user}/sessions/{client}"

    def session_of(self, topic: str) -> tuple[str, str] | None:
        """(user, client) of a session marker's topic; None: not one."""
        prefix = f"{self.base}/users/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix) :].split("/")
        if len(parts) == 3 and parts[1] == "sessions" and parts[0] and parts[2]:
            return parts[0], parts[2]
        return None

    # -- what accounts send: each on topics with its own name (specs/security.md) ---------------
    @property
    def requests(self) -> str:
        """Every topic below the request topics (a level too many gets an error reply)."""
        return f"{self.base}/users/+/requests/#"

    @property
    def secure_requests(self) -> str:
        """Writable only over the broker's TLS listener: what arrives here came encrypted."""
        return f"{self.base}/users/+/secure/requests/#"

    def request(self, user: str, service: str, *, secure: bool = False) -> str:
        middle = "secure/requests" if secure else "requests"
        return f"{self.base}/users/{user}/{middle}/{service}"

    def inbox(self, user: str) -> str:
        """Where replies to ``user`` go; a request may name a topic below it."""
        return f"{self.base}/users/{user}/inbox"

    def is_inbox_of(self, user: str, topic: str) -> bool:
        inbox = self.inbox(user)
        return topic == inbox or (
            topic.startswith(inbox + "/") and not any(ch in topic for ch in "+#\0")
        )

    def parse_request(self, topic: str) -> Request | None:
        """Who sent a request, for which service, whether over TLS; None: not a request topic.
        The service is everything after ``requests/``: one with a ``/`` in it, or an empty
        one, is no service (the face answers so: :attr:`Request.valid`)."""
        prefix = f"{self.base}/users/"
        if not topic.startswith(prefix):
            return None
        user, _, rest = topic[len(prefix) :].partition("/")
        for middle, secure in (("requests", False), ("secure/requests", True)):
            if rest == middle or rest.startswith(middle + "/"):
                return Request(user, rest[len(middle) + 1 :], secure=secure)
        return None


@attrs.frozen
class Request:
    user: str
    service: str
    secure: bool

    @property
    def valid(self) -> bool:
        """One topic level names the service (``.../requests/{service}``)."""
        return bool(self.service) and "/" not in self.service
