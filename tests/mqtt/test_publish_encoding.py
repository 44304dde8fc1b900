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


MESSAGES = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=40),
        st.one_of(st.integers(0, 200), st.integers(16_250, 16_500)).map(bytes),
        st.booleans(),
    ),
    min_size=1,
    max_size=20,
)


@given(
    messages=MESSAGES,
    last_id=st.integers(0, 65535),
    taken=st.sets(st.integers(1, 65535), max_size=30),
    reserved=st.sets(st.integers(1, 65535), max_size=5),
    version=st.sampled_from([4, 5]),
)
def test_a_batch_is_one_publish_qos1_each_with_the_next_free_ids(
    messages: list[tuple[str, bytes, bool]],
    last_id: int,
    taken: set[int],
    reserved: set[int],
    version: int,
) -> None:
    """publish_qos1_many (the outbox's batches) gives the bytes of one publish per message,
    with the packet ids the one-at-a-time allocation gives (counting on, wrapping past
    65535, skipping ids in flight or used by a subscription)."""
    expected_taken = set(taken)
    expected = bytearray()
    ids = []
    nid = last_id
    for topic, payload, retain in messages:
        while True:
            nid = nid % 65535 + 1
            if nid not in expected_taken and nid not in reserved:
                break
        expected_taken.add(nid)
        ids.append(nid)
        expected += p.publish(topic, payload, qos=1, retain=retain, packet_id=nid, version=version)
    data, got_ids = p.publish_qos1_many(messages, last_id, taken, reserved, version)
    assert (data, got_ids, taken) == (bytes(expected), ids, expected_taken)


PUBLISHES = st.lists(
    st.tuples(
        st.text(max_size=40),
        st.one_of(st.integers(0, 200), st.integers(16_250, 16_500)).map(bytes),
        st.integers(0, 1),
        st.booleans(),
        st.integers(1, 65535),
        st.sampled_from([None, {p.MESSAGE_EXPIRY: 10}, {p.RESPONSE_TOPIC: "r"}]),
    ),
    max_size=8,
)


def general_parse(buffer: bytearray, version: int) -> list[p.Message]:
    messages = []
    pos = 0
    while (parsed := p.split_packet(buffer, pos)) is not None:
        packet, pos = parsed
        messages.append(p.decode_publish(packet, version))
    return messages


@given(
    publishes=PUBLISHES,
    tail=st.sampled_from([b"", b"\x40\x02\x00\x01", b"\xd0\x00", b"\x30", b"\x32\x85"]),
    cut=st.integers(0, 40),
    version=st.sampled_from([4, 5]),
)
def test_publish_run_parses_as_split_packet_and_decode_publish(
    publishes: list[tuple[str, bytes, int, bool, int, dict[int, object] | None]],
    tail: bytes,
    cut: int,
    version: int,
) -> None:
    """The receiver's fast path (publish_run) gives what the general path gives for the
    PUBLISHes it takes, takes only whole ones, and leaves the rest (a packet with properties,
    another packet, an incomplete one) where the general path finds it."""
    buffer = bytearray()
    for topic, payload, qos, retain, packet_id, props in publishes:
        buffer += p.publish(
            topic,
            payload,
            qos=qos,
            retain=retain,
            packet_id=packet_id if qos else 0,
            props=props,
            version=version,
        )
    buffer += tail
    whole = len(buffer) - len(tail)
    end = max(0, len(buffer) - cut)
    messages, pos = p.publish_run(buffer, 0, end, version)
    assert pos <= min(end, whole)
    assert messages == general_parse(buffer[:pos], version)
    # It stops only where the general path has to look: not before a complete PUBLISH
    # without properties whose length fits in two bytes.
    parsed = p.split_packet(buffer[:end], pos)
    if parsed is not None and parsed[0].type is p.PacketType.PUBLISH:
        packet = parsed[0]
        plain = p.decode_publish(packet, version).properties == {}
        assert not plain or len(packet.body) >= 0x4000


@given(
    pids=st.lists(st.integers(0, 65535), max_size=30),
    tail=st.sampled_from(
        [b"", b"\x40\x03\x00\x01\x80", b"\x30\x02\x00\x00", b"\x40", b"\x40\x02\x00"]
    ),
    lead=st.integers(0, 3),
)
def test_puback_run_takes_the_leading_4_byte_pubacks(
    pids: list[int], tail: bytes, lead: int
) -> None:
    buffer = bytearray(b"\x00" * lead)
    for pid in pids:
        buffer += p.puback(pid)
    buffer += tail
    assert p.puback_run(buffer, lead, len(buffer)) == pids
