"""The outbox's hot path encodes QoS 1 PUBLISHes and lengths with shortcuts of its own
(protocol.publish_qos1, varint's one-and-two-byte case): they must give the very bytes of
the general encoder, or a broker reads a corrupt packet only for some sizes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cti.mqtt.client import protocol as p


def general_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


# Around every boundary of the one-, two- and three-byte lengths.
LENGTHS = st.one_of(st.integers(0, 300), st.integers(0x3F00, 0x4100), st.integers(0, 268_435_455))


@given(LENGTHS)
def test_varint_shortcut_is_the_general_encoding(n: int) -> None:
    assert p.varint(n) == general_varint(n)


@given(
    topic=st.text(min_size=1, max_size=80),
    size=st.one_of(st.integers(0, 200), st.integers(16_250, 16_500)),
    packet_id=st.integers(1, 65535),
    retain=st.booleans(),
    version=st.sampled_from([4, 5]),
)
def test_publish_qos1_is_publish_at_qos_1(
    topic: str, size: int, packet_id: int, retain: bool, version: int
) -> None:
    payload = bytes(size)
    assert p.publish_qos1(topic, payload, packet_id, retain, version) == p.publish(
        topic, payload, qos=1, retain=retain, packet_id=packet_id, version=version
    )
