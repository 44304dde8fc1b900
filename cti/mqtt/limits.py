"""Bounds on what hostile or runaway MQTT clients can make the node and its broker hold.

- ``MAX_PACKET``: the largest MQTT packet the node accepts (announced in its CONNECT, MQTT 5
  Maximum Packet Size) and the embedded broker takes from anyone (``max_packet_size``): the
  largest request payload plus room for topic and properties. Mosquitto drops a bigger
  packet before it is buffered, and disconnects a client that sends one.
- ``EVENTS_MESSAGE_BYTES``: the node's own messages stay far below it: the batched
  ``events`` topic carries a big commit batch as several arrays of at most this size.
- ``REPLY_BYTES``: a replay page ends once its events pass this size (``nextSeq`` goes on),
  so a page of a thousand big events cannot exceed the packet limit either.
- ``MAX_PENDING``: requests the MQTT face answers at once; beyond that it answers
  ``resourceBusy`` at once (the client may retry), so a flood cannot queue without bound.
"""

from __future__ import annotations

from typing import Final

from cti.api.requests import largest_payload

MAX_PACKET: Final = largest_payload() + 64 * 1024
EVENTS_MESSAGE_BYTES: Final = 256 * 1024
REPLY_BYTES: Final = 256 * 1024
MAX_PENDING: Final = 1000
