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

    def devices(self) -> tuple[str, ...]:
        """The devices this event is about: whose event topic and monitors receive it and
        whose state documents it may change."""
        return ()


@attrs.frozen
class Committed:
    """An event as recorded in the log: its global, gap-free sequence number and the time
    (ms since the Unix epoch, UTC) it was committed. What every follower of the log reads."""

    seq: int
    ts_ms: int
    event: Event
