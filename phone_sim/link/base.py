"""The one interface phones need from a node: send a request, hear events and device states.

Both links deliver the documents of specs/mqtt.md (event docs with ``connections``, retained
``deviceState`` docs), so the phone model cannot tell how it is connected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Doc = dict[str, Any]
EventsListener = Callable[[list[Doc]], None]
StateListener = Callable[[Doc], None]


class Refusal(Exception):
    """The node refused a request; ``code`` is the CSTA error name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Unreachable(Exception):
    """The link could not connect at its start: ``cause`` says why (nothing listens there, a
    name that does not resolve, no MQTT at that port). A refusal of the broker is not this:
    the link raises its ConnectionRefused, which has the reason code."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.cause = cause


class NoStatus(Exception):
    """At the start, a node of ``states`` had no online status (``cti/NODE/status``) while
    the link waited for it: none at all (None: no node of that name on this broker, a wrong
    ``--node``, or one that never ran there) or its own last word, "offline" (stopped).
    Nothing was run."""

    def __init__(self, states: dict[str, str | None]) -> None:
        super().__init__(", ".join(states))
        self.states = states


class Interrupted(Exception):
    """A run broken off after the link had started: ``cause`` is the ConnectionError (the
    connection to the broker lost, or the broker refusing us on the reconnect) or the
    TimeoutError (no reply in time); ``doing`` says what was going on, for the one line."""

    def __init__(self, doing: str, cause: BaseException) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.doing = doing
        self.cause = cause


class Link(Protocol):
    node: str

    def listen(self, on_events: EventsListener, on_state: StateListener) -> None:
        """Register the listeners; call before :meth:`start`."""

    async def start(self) -> None:
        """Connect; every configured device's state is delivered once before this returns.
        An MQTT link raises Unreachable (or the broker's ConnectionRefused) when it cannot."""

    async def close(self) -> None: ...

    async def request(self, service: str, fields: Doc) -> Doc:
        """The reply document ``{"ok":..,"result":..,"seq":..}``; never raises Refusal."""
        ...
