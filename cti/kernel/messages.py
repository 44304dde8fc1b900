"""The three kinds of message a context defines: commands, queries and events.

``SERVICE`` is the name a client requests a command or query by (ECMA-269 names for call
control); ``KIND`` is an event's name in the log and in every document; ``VERSION`` is the
version of the event's fields, raised whenever they change (see :mod:`cti.kernel.versions`).
"""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict

import attrs


class NoResult(TypedDict):
    """A service with nothing to report answers ``{}``."""


@attrs.frozen(kw_only=True)
class Command:
    """A request to change something; decided by exactly one context. ``INTERNAL`` commands
    come from the node itself (timers, seeding), never from a client."""

    SERVICE: ClassVar[str] = ""
    INTERNAL: ClassVar[bool] = False
    ADMIN: ClassVar[bool] = False  # only administrators (and integrators) may send it
    ACTS_AS: ClassVar[tuple[str, ...]] = ()  # fields naming devices the sender must control
    ON_CALL: ClassVar[str | None] = None  # a field naming a call the sender must be in
    SELF: ClassVar[str | None] = None  # a field naming an account: its owner may send it too
    RESULT: ClassVar[Any] = NoResult  # the type of the service's result (the API contract)
    # The client's service an INTERNAL command carries out (setPassword for setPasswordHash):
    # what its refusals name, as no client ever sent the internal one.
    ASKED_AS: ClassVar[str | None] = None


@attrs.frozen(kw_only=True)
class Query:
    """A request to read something; answered from the committed state, records nothing."""

    SERVICE: ClassVar[str] = ""
    ACTS_AS: ClassVar[tuple[str, ...]] = ()  # fields naming devices the asker must control
    ON_CALL: ClassVar[str | None] = None  # a field naming a call the asker must be in
    ADMIN: ClassVar[bool] = False  # only administrators, integrators and monitors may ask
    SELF: ClassVar[str | None] = None  # a field naming an account: its owner may ask too
    RESULT: ClassVar[Any] = NoResult  # the type of the answer (the API contract)


@attrs.frozen(kw_only=True)
class Event:
    """A fact recorded in the log; the only thing that changes state. ``INTERNAL`` events are
    the node's bookkeeping (timers): recorded and replayed, never published."""

    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    INTERNAL: ClassVar[bool] = False
    # A field naming the account whose own event this is (a person's presence, profile,
    # mailbox): published on that account's event topic (``users/{owner}/events``) and read
    # back by that account alone, never on the topic of the device of that number, which
    # other accounts may read too (a MULAP group's, a shared phone's: specs/security.md).
    OWNER: ClassVar[str | None] = None

    def devices(self) -> tuple[str, ...]:
        """The devices this event is about: whose monitors receive it and whose state
        documents it may change (the owner's number included)."""
        return ()

    def owned_by(self) -> str | None:
        """The account whose own event this is (``OWNER``); None: no one's own."""
        return None if self.OWNER is None else str(getattr(self, self.OWNER))

    def topic_devices(self) -> tuple[str, ...]:
        """The devices whose event topics carry it: :meth:`devices` but the owner's number,
        whose copy goes to the owner's own event topic instead (the caller's phone still
        hears a greeting, the phone a message plays on still sees it play)."""
        devices = self.devices()
        owner = self.owned_by()
        return devices if owner is None else tuple(d for d in devices if d != owner)


@attrs.frozen
class Committed:
    """An event as recorded in the log: its global, gap-free sequence number and the time
    (ms since the Unix epoch, UTC) it was committed. What every follower of the log reads."""

    seq: int
    ts_ms: int
    event: Event
