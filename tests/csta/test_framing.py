"""cti.csta.codec.framing: both header styles, split and coalesced input, bad headers."""

from __future__ import annotations

import pytest

from cti.csta.codec.framing import FrameDecoder, FramingError, Style, encode_frame

PAYLOADS = [b"\xa1\x03\x02\x01\x01", b"", b"x" * 300, bytes(range(256)) * 3]


def test_siemens_header() -> None:
    assert encode_frame(b"abc").hex() == "268003616263"
    assert encode_frame(b"y" * 0x1234)[:3].hex() == "269234"


def test_length2_header() -> None:
    assert encode_frame(b"abc", style="length2").hex() == "0003616263"
    assert encode_frame(b"y" * 0x1234, style="length2")[:2].hex() == "1234"


@pytest.mark.parametrize("style", ["siemens", "length2"])
def test_split_at_every_byte_boundary(style: Style) -> None:
    stream = b"".join(encode_frame(p, style=style) for p in PAYLOADS)
    for cut in range(len(stream) + 1):
        decoder = FrameDecoder(style)
        frames = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert frames == PAYLOADS
        assert decoder.pending == 0


@pytest.mark.parametrize("style", ["siemens", "length2"])
def test_byte_by_byte(style: Style) -> None:
    stream = b"".join(encode_frame(p, style=style) for p in PAYLOADS)
    decoder = FrameDecoder(style)
    frames = [f for i in range(len(stream)) for f in decoder.feed(stream[i : i + 1])]
    assert frames == PAYLOADS


def test_coalesced_frames_in_one_chunk() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"".join(encode_frame(p) for p in PAYLOADS)) == PAYLOADS


def test_partial_frame_is_kept() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(b"hello")
    assert decoder.feed(frame + frame[:4]) == [b"hello"]
    assert decoder.pending == 4
    assert decoder.feed(frame[4:]) == [b"hello"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bytes.fromhex("27800161"), "marker"),
        (bytes.fromhex("26000161"), "0x8000"),
        (bytes.fromhex("26ffff"), "exceeds"),
    ],
)
def test_bad_siemens_headers(data: bytes, message: str) -> None:
    decoder = FrameDecoder("siemens", max_length=4096)
    with pytest.raises(FramingError, match=message):
        decoder.feed(data)
    with pytest.raises(FramingError):  # the stream stays broken
        decoder.feed(encode_frame(b"ok"))


def test_oversize_after_good_frame() -> None:
    decoder = FrameDecoder("length2", max_length=10)
    with pytest.raises(FramingError, match="exceeds"):
        decoder.feed(encode_frame(b"ok", style="length2") + bytes.fromhex("000b"))


def test_max_length_is_inclusive() -> None:
    decoder = FrameDecoder("length2", max_length=3)
    assert decoder.feed(encode_frame(b"abc", style="length2")) == [b"abc"]


def test_encode_limits() -> None:
    with pytest.raises(FramingError):
        encode_frame(b"x" * 0x8000)
    with pytest.raises(FramingError):
        encode_frame(b"x" * 0x10000, style="length2")
    with pytest.raises(ValueError):
        encode_frame(b"x", style="bogus")  # type: ignore[arg-type]


def test_many_frames_in_one_feed_with_a_partial_tail() -> None:
    frames = [bytes((n % 256,)) * (n % 7) for n in range(5000)]
    data = b"".join(encode_frame(f) for f in frames)
    decoder = FrameDecoder()
    tail = encode_frame(b"xyz")
    assert decoder.feed(data + tail[:2]) == frames
    assert decoder.pending == 2
    assert decoder.feed(tail[2:]) == [b"xyz"]
    assert decoder.pending == 0
