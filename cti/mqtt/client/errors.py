"""What our MQTT client raises. Every error is an :class:`MqttError`; the connection-level
ones are also ``ConnectionError``, so code that retries on a lost connection catches them."""

from __future__ import annotations


class MqttError(Exception):
    """Base of the client's errors."""


class ProtocolError(MqttError):
    """The peer sent something that is not valid MQTT (the connection is closed)."""


class ConnectionRefused(MqttError, ConnectionError):
    """The broker answered CONNACK with a failure; ``reason`` is its MQTT 5 reason code (a
    3.1.1 return code as the MQTT 5 code of the same meaning: 4 is 0x86, 5 is 0x87).

    Tools tell a refusal of who signs in (:attr:`credentials`: no other broker member would
    take it) from the others by this code, never by the message's words. ``user``: the user
    name the refused CONNECT carried (None: none), for the tool's line to name the account
    refused, whichever of several it was."""

    # MQTT 5 CONNACK reason codes (3.1.1 return codes map onto the same meaning).
    NOT_AUTHORIZED = 0x87
    BAD_CREDENTIALS = 0x86

    def __init__(self, reason: int, message: str, user: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.user = user

    @property
    def credentials(self) -> bool:
        """Refused for who we are (user name, password): retrying will not help."""
        return self.reason in (self.BAD_CREDENTIALS, self.NOT_AUTHORIZED)


class PublishRefused(ProtocolError):
    """The broker's PUBACK refused a message (reason code 0x80 or above: its ACL, say); the
    client ends the connection (the outbox publishes again from what was confirmed)."""

    def __init__(self, pid: int, reason: int) -> None:
        super().__init__(f"broker refused message {pid} (reason {reason:#x})")
        self.reason = reason


class ConnectionLost(MqttError, ConnectionError):
    """The connection ended (broker closed it, network, keep-alive). ``refused``: the
    reason code of the PUBACK that refused a message and so ended it, else None."""

    def __init__(self, message: str, refused: int | None = None) -> None:
        super().__init__(message)
        self.refused = refused


class SubscriptionRefused(MqttError, ConnectionError):
    """The broker's SUBACK refused a filter (reason code 0x80 or above): a NATS member that
    could not make the subscription's JetStream consumer, say, while it elects leaders, or
    its permissions (an ACL) not letting the account read there. ``topics``: the filters
    refused. A ConnectionError (retry code takes it as one), but a tool must not call it an
    unreachable broker: the broker answered, and said no."""

    def __init__(self, topics: list[str]) -> None:
        super().__init__(f"the broker refused the subscription to {', '.join(topics)}")
        self.topics = topics
