"""TCP framing of CSTA APDUs.

Two styles are in use on PBX links:

* ``"siemens"``: byte 0x26, then a 16-bit big-endian length with the top bit
  set (``length | 0x8000``), then the payload;
* ``"length2"``: a plain 16-bit big-endian length, then the payload.

A framing error leaves the stream unsynchronised: the caller must close it.
"""

from __future__ import annotations

from typing import Literal

from cti.csta.codec.errors import FramingError

__all__ = ["MAX_PAYLOAD", "FrameDecoder", "FramingError", "Style", "encode_frame"]

Style = Literal["siemens", "length2"]

SIEMENS_MARKER = 0x26
MAX_PAYLOAD = 0x7FFF  # siemens keeps 15 bits for the length; length2 could go to 0xFFFF


def _header_size(style: str) -> int:
    if style == "siemens":
        return 3
    if style == "length2":
        return 2
    raise ValueError(f"unknown framing style {style!r}")


def encode_frame(payload: bytes, style: Style = "siemens") -> bytes:
    """Prefix ``payload`` with the header of ``style``."""
    size = len(payload)
    if style == "siemens":
        if size > MAX_PAYLOAD:
            raise FramingError(f"payload of {size} bytes does not fit a siemens frame")
        return bytes((SIEMENS_MARKER, 0x80 | size >> 8, size & 0xFF)) + payload
    _header_size(style)
    if size > 0xFFFF:
        raise FramingError(f"payload of {size} bytes does not fit a length2 frame")
    return size.to_bytes(2, "big") + payload


class FrameDecoder:
    """Incremental decoder: ``feed`` any chunk, get back the complete payloads.

    After a FramingError the decoder stays broken (every later ``feed`` raises)
    because there is no way to find the next frame boundary.
    """

    def __init__(self, style: Style = "siemens", max_length: int = MAX_PAYLOAD) -> None:
        self._header = _header_size(style)
        self._style = style
        self.max_length = max_length  # may change between feeds (before/after association)
        self._buffer = bytearray()
        self._error: FramingError | None = None

    def feed(self, data: bytes) -> list[bytes]:
        if self._error is not None:
            raise self._error
        self._buffer += data
        frames: list[bytes] = []
        start = 0  # consumed prefix; deleted once per feed (not once per frame)
        try:
            while len(self._buffer) - start >= self._header:
                size = self._length(start)
                end = start + self._header + size
                if len(self._buffer) < end:
                    break
                frames.append(bytes(self._buffer[start + self._header : end]))
                start = end
        except FramingError as exc:
            self._error = exc
            raise
        finally:
            del self._buffer[:start]
        return frames

    @property
    def pending(self) -> int:
        """Bytes buffered towards the next frame."""
        return len(self._buffer)

    def _length(self, at: int) -> int:
        buf = self._buffer
        if self._style == "siemens":
            if buf[at] != SIEMENS_MARKER:
                raise FramingError(f"bad frame marker 0x{buf[at]:02x}, expected 0x26")
            if not buf[at + 1] & 0x80:
                raise FramingError("length without the 0x8000 flag")
            size = (buf[at + 1] & 0x7F) << 8 | buf[at + 2]
        else:
            size = buf[at] << 8 | buf[at + 1]
        if size > self.max_length:
            raise FramingError(f"frame of {size} bytes exceeds the limit of {self.max_length}")
        return size
