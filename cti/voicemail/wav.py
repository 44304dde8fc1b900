"""What a recording must be (VM-01, VM-07): a WAV file of 16-bit mono PCM. Read with the
standard library's ``wave`` from bytes in memory; nothing here touches a disk."""

from __future__ import annotations

import hashlib
import io
import struct
import wave

from cti.kernel.refusal import Refusal
from cti.voicemail.model import Audio

MAX_BYTES = 1024 * 1024  # about 65 s at 8 kHz, 16-bit mono
RATES = (8000, 16000)


def _bad(reason: str, message: str) -> Refusal:
    return Refusal("unusableAudio", message, {"reason": reason})


def check_wav(data: bytes) -> Audio:
    """The reference of ``data`` as it will be stored; refuses anything but a WAV file of
    16-bit mono PCM at 8 or 16 kHz of at most MAX_BYTES with at least one frame."""
    if len(data) > MAX_BYTES:
        raise _bad("tooLong", f"at most {MAX_BYTES} bytes of WAV")
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            channels, width, rate, frames = (
                w.getnchannels(),
                w.getsampwidth(),
                w.getframerate(),
                w.getnframes(),
            )
            pcm = w.readframes(frames)
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error) as exc:
        # ``wave`` raises all of these for malformed chunks (RuntimeError for a bad seek).
        raise _bad("notWav", f"not a WAV file: {type(exc).__name__} {exc}") from None
    if channels != 1 or width != 2:
        raise _bad("notMono16", "WAV must be 16-bit mono (VM-07)")
    if rate not in RATES:
        raise _bad("rate", f"WAV sample rate must be one of {RATES} Hz, not {rate}")
    if frames == 0 or len(pcm) != frames * 2:
        raise _bad("empty", "the WAV holds no (or truncated) audio")
    return Audio(
        sha256=hashlib.sha256(data).hexdigest(),
        length=len(data),
        duration_ms=frames * 1000 // rate,
    )


def make_wav(pcm: bytes, rate: int = 8000) -> bytes:
    """A WAV file of 16-bit mono ``pcm`` (tests, phone_sim's generated speech)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()
