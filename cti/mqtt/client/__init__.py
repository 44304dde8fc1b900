"""Our MQTT 5 / 3.1.1 client: pipelined QoS 1 publishing with per-message PUBACK tracking.

Used where publishing speed matters (the node's outbox, load generators); see specs/mqtt.md.
"""

from cti.mqtt.client.connection import ConnectionRefused, MqttClient, parse_url
from cti.mqtt.client.protocol import Message, ProtocolError

__all__ = ["ConnectionRefused", "Message", "MqttClient", "ProtocolError", "parse_url"]
