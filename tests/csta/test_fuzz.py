"""Hostile input: decoders must raise only their own exception types and return."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.csta import codec
from cti.csta.codec.errors import CodecError, MistypedArgument, UnknownOperation
from cti.csta.codec.framing import FrameDecoder, FramingError, Style, encode_frame

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.ber"))
SAMPLES = [path.read_bytes() for path in CORPUS]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode_any(data: bytes) -> object:
    """What a server does with a frame: classify, then decode."""
    if codec.classify(data) == "rose":
        return codec.decode_rose(data)
    return codec.decode_acse(data)


def test_corpus_is_present() -> None:
    assert any(p.name.startswith("ok_") for p in CORPUS)
    assert any(p.name.startswith("bad_") for p in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_samples(path: Path) -> None:
    data = path.read_bytes()
    if path.name.startswith("ok_"):
        decode_any(data)
        return
    with pytest.raises(CodecError) as info:
        decode_any(data)
    if "unknown_opcode" in path.name:
        assert isinstance(info.value, UnknownOperation)
    if "mistyped_argument" in path.name:
        assert isinstance(info.value, MistypedArgument)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(data: bytes) -> None:
    for decode in (decode_any, codec.decode_rose, codec.decode_acse):
        with contextlib.suppress(CodecError):
            decode(data)
    with contextlib.suppress(CodecError):
        codec.decode("CSTAEventReportArgument", data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "drop"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from([0x00, 0x80, 0x81, 0x84, 0xFF, 0x30, 0xA0]))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif op == "drop" and data:
            del data[pos]
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_corpus(data: bytes) -> None:
    with contextlib.suppress(CodecError):
        decode_any(data)


@FUZZ
@given(st.lists(st.binary(max_size=40), max_size=8), st.sampled_from(["siemens", "length2"]))
def test_frame_decoder_random_chunks(chunks: list[bytes], style: Style) -> None:
    decoder = FrameDecoder(style, max_length=64)
    try:
        for chunk in chunks:
            for frame in decoder.feed(chunk):
                assert len(frame) <= 64
    except FramingError:
        pass


@FUZZ
@given(st.lists(st.sampled_from(SAMPLES), min_size=1, max_size=5), st.data())
def test_framed_corpus_survives_any_split(samples: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(encode_frame(s) for s in samples)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    decoder = FrameDecoder()
    frames: list[bytes] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        frames += decoder.feed(stream[start:cut])
        start = cut
    assert frames == samples
