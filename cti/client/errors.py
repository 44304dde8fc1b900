"""What :class:`cti.client.CtiClient` raises: one small hierarchy under :class:`CtiError`, so a
UI catches the cases it can act on by name and never sees an exception of the MQTT library
underneath (aiomqtt, paho), whose types and messages change between their versions."""

from __future__ import annotations

from typing import Any

__all__ = ["CtiError", "NoReply", "NotConnected", "Refused", "SignInRefused"]


class CtiError(Exception):
    """Base of every error of the client."""


class SignInRefused(CtiError):
    """The broker refused the account: wrong user name or password, or an account that may
    not sign in. Retrying with the same credentials will not help, so the client gives up
    (also when this happens on a reconnect, say after someone changed the password)."""


class NotConnected(CtiError, ConnectionError):
    """No connection to the broker: it cannot be reached (or its TLS certificate is not the
    one ``ca_file`` vouches for), or the connection was lost and the client is reconnecting.
    Also raised for a request whose connection dropped before the reply came: the node may
    or may not have carried it out, so look at the state before sending it again."""


class NoReply(CtiError, TimeoutError):
    """The broker took the request but no reply came in time: is the node running?"""


class Refused(CtiError):
    """The node refused the request.

    ``code`` is the refusal's name (the ECMA-269 error name for call control, e.g.
    ``invalidCallID``, ``notYourDevice``; the full list is ``error.code`` in
    specs/api.schema.json), ``message`` is for people, ``details`` for programs where the
    refusal has them (``{"device": "332", "yours": ["331"]}``)."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details
