"""What the web client's proxy reads of the MQTT it carries (specs/web.md, "Rules of the
proxy"): the browser's first packet, which must be a CONNECT with a client id of the signing-in
account's own (``web-{user}-{tab}``), and the broker's first packet, whose CONNACK tells that
the sign-in is done. Everything after the CONNECT goes through unread.

Why read the CONNECT at all: a broker ends the older connection of a client id when another
connects with it (session takeover), so a browser free to choose any id could knock another
account's tab, or the node itself, off the broker. Why the CONNACK: a WebSocket that never
signs in must not hold a connection slot for long.

Pure: bytes in, decisions out; the proxy (cti/web/face.py) does the I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import attrs

from cti.mqtt.client import protocol as p

# The web client's CONNECT is about 200 bytes (its Will is an empty marker): a "CONNECT"
# still incomplete beyond this is no sign-in.
MAX_CONNECT = 64 * 1024
CLIENT_ID_PREFIX = "web-"
MAX_TAB = 64  # the part after `web-{user}-`: the web client's 12 random hex digits
MQTT_NAMES = {b"MQTT": (4, 5), b"MQIsdp": (3,)}


class Refused(Exception):
    """The browser's first packet is no CONNECT the proxy passes on. ``reply``: what to send
    the browser before closing (a CONNACK refusing the client id), or nothing."""

    def __init__(self, why: str, reply: bytes = b"") -> None:
        super().__init__(why)
        self.why, self.reply = why, reply


@attrs.frozen
class Connect:
    version: int  # 3, 4 (MQTT 3.1.1) or 5
    client_id: str
    username: str | None


def read_connect(body: bytes) -> Connect:
    """The fields of a CONNECT's body the proxy checks; ValueError when it is malformed."""
    try:
        (n,) = struct.unpack_from("!H", body, 0)
        name = body[2 : 2 + n]
        pos = 2 + n
        version, flags = body[pos], body[pos + 1]
        pos += 4  # level, flags, keepalive
        if version not in MQTT_NAMES.get(name, ()):
            raise ValueError(f"not MQTT 3.1, 3.1.1 or 5 (level {version})")
        if version == 5:
            pos = _skip_properties(body, pos)
        client_id, pos = _string(body, pos)
        if flags & 0x04:  # a Will: its properties, topic and payload
            if version == 5:
                pos = _skip_properties(body, pos)
            _, pos = _string(body, pos)
            _, pos = _string(body, pos, text=False)
        username = _string(body, pos)[0] if flags & 0x80 else None
    except (IndexError, struct.error, UnicodeDecodeError, p.ProtocolError) as exc:
        raise ValueError(f"malformed CONNECT: {exc}") from None
    return Connect(version, client_id, username)


def _string(body: bytes, pos: int, *, text: bool = True) -> tuple[str, int]:
    (n,) = struct.unpack_from("!H", body, pos)
    if pos + 2 + n > len(body):
        raise IndexError("string beyond the packet")
    raw = body[pos + 2 : pos + 2 + n]
    return (raw.decode() if text else ""), pos + 2 + n


def _skip_properties(body: bytes, pos: int) -> int:
    length, pos = p.read_varint(body, pos)
    return pos + length


def owns(connect: Connect) -> bool:
    """Whether the client id is one of the signing-in account's: ``web-{user}-`` and 1 to 64
    letters or digits. No ``-`` after the user's part, so account ``a`` cannot pick an id of
    account ``a-b`` (``web-a-b-…``); without a user name no id is anyone's."""
    if connect.username is None:
        return False
    prefix = f"{CLIENT_ID_PREFIX}{connect.username}-"
    tab = connect.client_id[len(prefix) :]
    return (
        connect.client_id.startswith(prefix)
        and 1 <= len(tab) <= MAX_TAB
        and tab.isascii()
        and tab.isalnum()
    )


def refuse_client_id(version: int) -> bytes:
    """A CONNACK refusing the client id: 0x85 (MQTT 5), 0x02 identifier rejected (3.1.x)."""
    return b"\x20\x03\x00\x85\x00" if version == 5 else b"\x20\x02\x00\x02"


class Gate:
    """One WebSocket's sign-in: :meth:`upstream` holds the browser's bytes until its CONNECT
    is complete and checked, :meth:`downstream` watches for the broker's CONNACK."""

    def __init__(self, on_signed_in: Callable[[], None] | None = None) -> None:
        self._up = bytearray()
        self._down = bytearray()
        self.connect: Connect | None = None  # once the CONNECT passed: bytes go through
        self.signed_in = False  # the broker accepted it (CONNACK, reason 0)
        self._on_signed_in = on_signed_in
        self._down_seen = False  # the broker's first packet was read (or cannot be)

    def upstream(self, data: bytes) -> bytes:
        """What of the browser's ``data`` goes to the broker now (nothing while the CONNECT
        is incomplete); raises :class:`Refused`."""
        if self.connect is not None:
            return data
        self._up += data
        try:
            split = p.split_packet(self._up, 0)
        except p.ProtocolError as exc:
            raise Refused(f"not MQTT: {exc}") from None
        if split is None:
            if len(self._up) > MAX_CONNECT:
                raise Refused("no CONNECT in the first 64 KiB")
            return b""
        packet, _ = split
        if packet.type is not p.PacketType.CONNECT:
            raise Refused(f"the first packet is {packet.type.name}, not CONNECT")
        try:
            connect = read_connect(packet.body)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        if not owns(connect):
            raise Refused(
                "a client id not of the signing-in account", refuse_client_id(connect.version)
            )
        self.connect = connect
        out = bytes(self._up)
        self._up.clear()
        return out

    def downstream(self, data: bytes) -> None:
        """Read the broker's first packet from ``data`` (the proxy passes it on as it is)."""
        if self._down_seen:
            return
        self._down += data
        try:
            split = p.split_packet(self._down, 0)
        except p.ProtocolError:
            split, self._down_seen = None, True
        if split is None:
            self._down_seen = self._down_seen or len(self._down) > 64
            return
        packet, _ = split
        self._down_seen = True
        self._down.clear()
        body = packet.body
        self.signed_in = packet.type is p.PacketType.CONNACK and len(body) >= 2 and body[1] == 0
        if self.signed_in and self._on_signed_in is not None:
            self._on_signed_in()
