"""Our MQTT 5 / 3.1.1 client: pipelined QoS 1 publishing with per-message PUBACK tracking,
user name and password, TLS.

Used where publishing speed matters (the node's outbox, load generators) and by our tools;
see specs/mqtt.md. UI programs may prefer :mod:`cti.client`, built on aiomqtt.
"""

from cti.mqtt.client.connection import MqttClient, Tls, Will
from cti.mqtt.client.endpoint import PASSWORD_ENV, Endpoint, broker_urls, parse_urls
from cti.mqtt.client.errors import (
    ConnectionLost,
    ConnectionRefused,
    MqttError,
    ProtocolError,
    SubscriptionRefused,
)
from cti.mqtt.client.protocol import Message

__all__ = [
    "PASSWORD_ENV",
    "ConnectionLost",
    "ConnectionRefused",
    "Endpoint",
    "Message",
    "MqttClient",
    "MqttError",
    "ProtocolError",
    "SubscriptionRefused",
    "Tls",
    "Will",
    "broker_urls",
    "parse_urls",
]
