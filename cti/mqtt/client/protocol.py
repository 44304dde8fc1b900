"""MQTT 5.0 packets, just the ones the engine's own client needs.

The engine publishes every event to several topics at QoS 1; common Python clients send one
packet per call and await each ack, which caps a node near 1,500 messages/s. Encoding packets
here lets the publisher write thousands of PUBLISH packets in one socket write and track their
PUBACKs itself, which is what the outbox needs to know what the broker really has.
"""

from __future__ import annotations

import functools
import struct
import sys
from array import array
from collections.abc import Container, Sequence
from enum import IntEnum
from typing import NamedTuple

import attrs

from cti.mqtt.client.errors import ProtocolError as ProtocolError  # re-exported: p.ProtocolError


class PacketType(IntEnum):
    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14


# Property identifiers (MQTT 5.0, 2.2.2.2).
PAYLOAD_FORMAT = 0x01
MESSAGE_EXPIRY = 0x02
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SESSION_EXPIRY = 0x11
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
MAXIMUM_PACKET_SIZE = 0x27
REASON_STRING = 0x1F
USER_PROPERTY = 0x26

_U8 = {PAYLOAD_FORMAT, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A}
_U16 = {0x13, RECEIVE_MAXIMUM, TOPIC_ALIAS_MAXIMUM, 0x23}
_U32 = {MESSAGE_EXPIRY, SESSION_EXPIRY, 0x18, 0x27}
_STR = {0x03, RESPONSE_TOPIC, 0x12, 0x15, 0x1A, 0x1C, REASON_STRING}
_BIN = {CORRELATION_DATA, 0x16}


def varint(n: int) -> bytes:
    if n < 0x4000:  # one or two bytes: every packet but the largest
        return bytes((n,)) if n < 0x80 else bytes(((n & 0x7F) | 0x80, n >> 7))
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _bin(b: bytes) -> bytes:
    return struct.pack("!H", len(b)) + b


def encode_properties(props: dict[int, object] | None, version: int = 5) -> bytes:
    if version != 5:
        return b""  # MQTT 3.1.1 has no properties
    body = bytearray()
    for pid, value in (props or {}).items():
        body.append(pid)
        if pid in _U8:
            body.append(int(value))  # type: ignore[call-overload]
        elif pid in _U16:
            body += struct.pack("!H", value)
        elif pid in _U32:
            body += struct.pack("!I", value)
        elif pid in _STR:
            body += _str(str(value))
        elif pid in _BIN:
            body += _bin(bytes(value))  # type: ignore[call-overload]
        else:
            raise ValueError(f"unsupported property {pid:#x}")
    return varint(len(body)) + bytes(body)


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + varint(len(body)) + body


def connect(
    client_id: str,
    *,
    keepalive: int,
    will: tuple[str, bytes, bool] | None = None,
    clean_start: bool = True,
    version: int = 5,
    username: str | None = None,
    password: str | None = None,
    max_packet_size: int | None = None,
) -> bytes:
    flags = 0x02 if clean_start else 0
    if will is not None:
        flags |= 0x04 | (0x08)  # will flag, will QoS 1
        if will[2]:
            flags |= 0x20
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    props: dict[int, object] = {RECEIVE_MAXIMUM: 65535}
    if max_packet_size is not None:
        props[MAXIMUM_PACKET_SIZE] = max_packet_size  # the broker drops bigger messages for us
    body = _str("MQTT") + bytes([version, flags]) + struct.pack("!H", keepalive)
    body += encode_properties(props, version)
    body += _str(client_id)
    if will is not None:
        body += encode_properties(None, version) + _str(will[0]) + _bin(will[1])
    if username is not None:
        body += _str(username)
    if password is not None:
        body += _bin(password.encode("utf-8"))
    return _packet(0x10, body)


@functools.lru_cache(maxsize=4096)
def _topic(topic: str) -> bytes:
    # Device and call topics repeat all the time; encode each once.
    return _str(topic)


def publish(
    topic: str,
    payload: bytes,
    *,
    qos: int = 1,
    retain: bool = False,
    packet_id: int = 0,
    props: dict[int, object] | None = None,
    version: int = 5,
) -> bytes:
    """One PUBLISH packet (the outbox's hot path: built with as few copies as possible)."""
    head = _topic(topic)
    if qos:
        head += packet_id.to_bytes(2, "big")
    if props:
        head += encode_properties(props, version)
    elif version == 5:
        head += b"\x00"  # no properties
    first = 0x30 | (qos << 1) | int(retain)
    return b"".join((bytes((first,)), varint(len(head) + len(payload)), head, payload))


_QOS1_FIRST = (bytes((0x32,)), bytes((0x33,)))  # PUBLISH, QoS 1, without / with retain


def publish_qos1(topic: str, payload: bytes, packet_id: int, retain: bool, version: int) -> bytes:
    """:func:`publish` at QoS 1 without properties, the outbox's hot path (one join, no
    keyword arguments): what nearly every message of the node is."""
    head = _topic(topic)
    props = b"\x00" if version == 5 else b""
    return b"".join(
        (
            _QOS1_FIRST[retain],
            varint(len(head) + 2 + len(props) + len(payload)),
            head,
            packet_id.to_bytes(2, "big"),
            props,
            payload,
        )
    )


def publish_qos1_many(
    messages: Sequence[tuple[str, bytes, bool]],
    last_id: int,
    taken: set[int],
    reserved: Container[int] = (),
    version: int = 5,
) -> tuple[bytes, list[int]]:
    """The packets of :func:`publish_qos1` for each ``(topic, payload, retain)`` of
    ``messages``, in order, in one buffer: the outbox's batches, built in one loop. Packet
    ids count on from ``last_id`` (1 to 65535, wrapping round), skipping those in ``taken``
    or ``reserved``; each id used is added to ``taken``. Returns the packets and their ids."""
    parts: list[bytes] = []
    ids: list[int] = []
    add = taken.add
    # After the topic: the packet id, and in MQTT 5 an empty property length (one int).
    extra, shift = (3, 8) if version == 5 else (2, 0)
    nid = last_id
    for topic, payload, retain in messages:
        nid = nid % 65535 + 1
        while nid in taken or nid in reserved:
            nid = nid % 65535 + 1
        add(nid)
        ids.append(nid)
        head = _topic(topic)
        size = len(head) + extra + len(payload)
        if size < 0x80:
            fixed = ((0x32 | retain) << 8 | size).to_bytes(2, "big")
        elif size < 0x4000:
            low = size & 0x7F | 0x80
            fixed = ((0x32 | retain) << 16 | low << 8 | size >> 7).to_bytes(3, "big")
        else:
            fixed = _QOS1_FIRST[retain] + varint(size)
        parts += (fixed, head, (nid << shift).to_bytes(extra, "big"), payload)
    return b"".join(parts), ids


def puback(packet_id: int) -> bytes:
    return _packet(0x40, struct.pack("!H", packet_id))


def subscribe(packet_id: int, filters: list[tuple[str, int]], version: int = 5) -> bytes:
    body = struct.pack("!H", packet_id) + encode_properties(None, version)
    for topic, qos in filters:
        body += _str(topic) + bytes([qos])
    return _packet(0x82, body)


def suback_codes(body: bytes, version: int = 5) -> bytes:
    """The reason codes of a SUBACK, one per filter, from its body after the packet id."""
    if version != 5:
        return body
    _, pos = decode_properties(body, 0)
    return body[pos:]


def unsubscribe(packet_id: int, filters: list[str], version: int = 5) -> bytes:
    body = struct.pack("!H", packet_id) + encode_properties(None, version)
    for topic in filters:
        body += _str(topic)
    return _packet(0xA2, body)


NO_LOCAL = 0x04  # MQTT 5 subscription option: do not send us our own messages
# MQTT 5 subscription option: keep the RETAIN flag of a message published while we are
# subscribed (without it the broker clears the flag on everything but the retained messages
# sent when we subscribe, so a retained publish made meanwhile looks like a plain one).
RETAIN_AS_PUBLISHED = 0x08

PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"


@attrs.frozen
class Packet:
    type: PacketType
    flags: int
    body: bytes


class Message(NamedTuple):
    """A PUBLISH received (immutable; a tuple, which a receiver makes at half the cost of an
    attrs class: one per message)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    packet_id: int
    properties: dict[int, object]


_TYPES = {t.value: t for t in PacketType}


def split_packet(buffer: bytearray, pos: int) -> tuple[Packet, int] | None:
    """The packet starting at ``pos`` and the position after it, or None if incomplete."""
    end = len(buffer)
    if end - pos < 2:
        return None
    first = buffer[pos]
    length = shift = 0
    i = pos + 1
    while True:
        if i >= end:
            return None
        byte = buffer[i]
        i += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 21:
            raise ProtocolError("malformed remaining length")
    if i + length > end:
        return None
    kind = _TYPES.get(first >> 4)
    if kind is None:
        raise ProtocolError(f"unexpected packet type {first >> 4}")
    return Packet(kind, first & 0x0F, bytes(buffer[i : i + length])), i + length


def decode_properties(data: bytes, pos: int) -> tuple[dict[int, object], int]:
    length, pos = read_varint(data, pos)
    end = pos + length
    props: dict[int, object] = {}
    while pos < end:
        pid = data[pos]
        pos += 1
        if pid in _U8:
            value: object = data[pos]
            pos += 1
        elif pid in _U16:
            (value,) = struct.unpack_from("!H", data, pos)
            pos += 2
        elif pid in _U32:
            (value,) = struct.unpack_from("!I", data, pos)
            pos += 4
        elif pid in _STR or pid in _BIN:
            (n,) = struct.unpack_from("!H", data, pos)
            raw = data[pos + 2 : pos + 2 + n]
            value = raw.decode() if pid in _STR else raw
            pos += 2 + n
        elif pid == USER_PROPERTY:
            for _ in range(2):
                (n,) = struct.unpack_from("!H", data, pos)
                pos += 2 + n
            continue
        elif pid == 0x0B:  # subscription identifier (varint)
            value, pos = read_varint(data, pos)
        else:
            raise ProtocolError(f"unknown property {pid:#x}")
        props[pid] = value
    return props, end


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(4):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ProtocolError("malformed variable byte integer")


def decode_publish(packet: Packet, version: int = 5) -> Message:
    data = packet.body
    (n,) = struct.unpack_from("!H", data, 0)
    topic = data[2 : 2 + n].decode()
    pos = 2 + n
    qos = (packet.flags >> 1) & 3
    packet_id = 0
    if qos:
        (packet_id,) = struct.unpack_from("!H", data, pos)
        pos += 2
    props: dict[int, object] = {}
    if version == 5:
        props, pos = decode_properties(data, pos)
    return Message(topic, data[pos:], qos, bool(packet.flags & 1), packet_id, props)


_BIG_ENDIAN = sys.byteorder == "big"


def puback_run(buffer: bytearray, pos: int, end: int) -> list[int]:
    """The packet ids of the run of 4-byte PUBACKs (``40 02 id id``: success, no reason code,
    what brokers send) that starts at ``pos``, up to the first other or incomplete packet:
    found and parsed in C (a publisher reads one PUBACK per message, dozens per read)."""
    count = (end - pos) >> 2
    run = buffer[pos : pos + 4 * count]
    # Packets up to the first that is no such PUBACK all start 4 bytes apart.
    count -= max(len(run[0::4].lstrip(b"\x40")), len(run[1::4].lstrip(b"\x02")))
    words = array("H", run[: 4 * count])
    if not _BIG_ENDIAN:
        words.byteswap()
    return words[1::2].tolist()


def publish_run(buffer: bytearray, pos: int, end: int, version: int) -> tuple[list[Message], int]:
    """The PUBLISH packets from ``pos`` on, as :func:`split_packet` and :func:`decode_publish`
    give them, and the position after the last: what a receiver reads most, parsed in one
    loop. Stops at the first packet that is something else, incomplete, has properties or a
    length of three bytes or more, or does not parse: the general path takes that one."""
    messages: list[Message] = []
    append = messages.append
    while pos < end:
        first = buffer[pos]
        if first & 0xF0 != 0x30 or pos + 2 >= end:
            break
        size = buffer[pos + 1]
        start = pos + 2
        if size & 0x80:
            if buffer[start] & 0x80:
                break
            size = (size & 0x7F) | buffer[start] << 7
            start += 1
        stop = start + size
        if stop > end or size < 2:
            break
        at = topic_end = start + 2 + (buffer[start] << 8 | buffer[start + 1])
        qos = (first >> 1) & 3
        packet_id = 0
        if qos:
            if at + 2 > stop:
                break
            packet_id = buffer[at] << 8 | buffer[at + 1]
            at += 2
        if version == 5:
            if at >= stop or buffer[at]:
                break  # no properties is the rule: decode_properties does the others
            at += 1
        elif at > stop:
            break
        try:
            topic = buffer[start + 2 : topic_end].decode()
        except UnicodeDecodeError:
            break
        append(Message(topic, bytes(buffer[at:stop]), qos, bool(first & 1), packet_id, {}))
        pos = stop
    return messages, pos
