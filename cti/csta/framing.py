"""TCP framing of CSTA APDUs.

Two styles are in use on PBX links:

* ``"siemens"``: byte 0x26, then a 16-bit big-endian length with the top bit
  set (``length | 0x8000``), then the payload;
* ``"length2"``: a plain 16-bit big-endian length, then the payload.

A framing error leaves the stream unsynchronised: the caller must close it.
"""

from __future__ import annotations

from typing import Literal

from cti.csta.errors import FramingError

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
        self._max = max_length
        self._buffer = bytearray()
        self._error: FramingError | None = None

    def feed(self, data: bytes) -> list[bytes]:
        if self._error is not None:
            raise self._error
        self._buffer += data
        frames: list[bytes] = []
        while len(self._buffer) >= self._header:
            try:
                size = self._length()
            except FramingError as exc:
                self._error = exc
                raise
            end = self._header + size
            if len(self._buffer) < end:
                break
            frames.append(bytes(self._buffer[self._header : end]))
            del self._buffer[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes buffered towards the next frame."""
        return len(self._buffer)

    def _length(self) -> int:
        buf = self._buffer
        if self._style == "siemens":
            if buf[0] != SIEMENS_MARKER:
                raise FramingError(f"bad frame marker 0x{buf[0]:02x}, expected 0x26")
            if not buf[1] & 0x80:
                raise FramingError("length without the 0x8000 flag")
            size = (buf[1] & 0x7F) << 8 | buf[2]
        else:
            size = buf[0] << 8 | buf[1]
        if size > self._max:
            raise FramingError(f"frame of {size} bytes exceeds the limit of {self._max}")
        return size
