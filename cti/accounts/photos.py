"""Profile photos (USER-03): JPEG or PNG, at least 40x40 pixels, at most 512 kB; kept at
200x200.

An uploaded photo is checked and scaled where it arrives (a worker thread of the API, like a
password's hash), never in the node's writer: decoding an image is slow and takes memory. Only
the result travels on, in an INTERNAL command and then the log.

What is kept is the image the node made, never the upload itself: turned upright by its EXIF
orientation, cropped to a centred square, scaled to 200x200 and encoded afresh without any
metadata (so no EXIF position or camera serial is kept or shown to others). It is a JPEG
(quality 85: 5 to 30 kB, however noisy the picture), unless the upload has transparency,
which a PNG keeps while it stays within MAX_STORED (else it is put on white as a JPEG). Only
JPEG and PNG are decoded at all (Pillow's other decoders never see untrusted input), and an
image of more than MAX_PIXELS is refused before it is decoded (a small PNG can claim
gigapixels).

A refusal is ``invalidParameterValue`` with ``details`` ``{"field": "photo", "reason": ...}``:
``notBase64``, ``tooLarge``, ``notJpegOrPng``, ``notAnImage``, ``tooSmall``,
``tooManyPixels``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re

from PIL import Image, ImageOps

from cti.accounts.model import Photo, PhotoType
from cti.kernel.refusal import Refusal

MIN_SIDE = 40  # pixels, both sides of the upload
MAX_UPLOAD = 512 * 1024  # bytes of the uploaded file
SIDE = 200  # pixels: what is kept is SIDE x SIDE
MAX_PIXELS = 16_000_000  # of the upload: refused before decoding (decompression bombs)
MAX_STORED = 64 * 1024  # bytes of a kept image (a JPEG of pure noise is ~30 kB)
JPEG_QUALITY = 85
MAX_BASE64 = 4 * -(-MAX_UPLOAD // 3)  # base64 characters of an upload of MAX_UPLOAD bytes
MAX_TEXT = 768 * 1024  # the photo field: MAX_BASE64, a data: URL prefix, MIME line breaks
_MAGIC = {PhotoType.JPEG: b"\xff\xd8\xff", PhotoType.PNG: b"\x89PNG\r\n\x1a\n"}
_PIL_FORMAT = {PhotoType.JPEG: "JPEG", PhotoType.PNG: "PNG"}
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_DATA_URL = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,")


def refusal(reason: str, message: str, **details: object) -> Refusal:
    return Refusal(
        "invalidParameterValue", message, {"field": "photo", "reason": reason, **details}
    )


def from_base64(text: str) -> bytes:
    """The bytes of an uploaded photo: base64 (standard alphabet), optionally a ``data:``
    URL (``data:image/png;base64,...``), line breaks allowed."""
    text = "".join(_DATA_URL.sub("", text.strip(), count=1).split())
    if len(text) > MAX_BASE64:
        raise _too_large(len(text) * 3 // 4)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise refusal("notBase64", "photo must be base64 (standard alphabet)") from None
    if len(data) > MAX_UPLOAD:
        raise _too_large(len(data))
    return data


def _too_large(size: int) -> Refusal:
    return refusal(
        "tooLarge",
        f"the photo has {size} bytes, at most {MAX_UPLOAD} are taken",
        bytes=size,
        maxBytes=MAX_UPLOAD,
    )


def type_of(data: bytes) -> PhotoType | None:
    """JPEG or PNG by the file's signature, else None."""
    return next((t for t, magic in _MAGIC.items() if data.startswith(magic)), None)


def prepare(data: bytes) -> Photo:
    """The photo to keep of an uploaded file; raises Refusal (invalidParameterValue)."""
    if len(data) > MAX_UPLOAD:
        raise _too_large(len(data))
    kind = type_of(data)
    if kind is None:
        raise refusal("notJpegOrPng", "the photo must be a JPEG or PNG image")
    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[kind]]) as upload:
            width, height = upload.size
            if width * height > MAX_PIXELS:
                raise refusal(
                    "tooManyPixels",
                    f"the photo has {width}x{height} pixels, at most {MAX_PIXELS} are taken",
                    width=width,
                    height=height,
                )
            if min(width, height) < MIN_SIDE:
                raise refusal(
                    "tooSmall",
                    f"the photo has {width}x{height} pixels, at least {MIN_SIDE}x{MIN_SIDE} "
                    "are needed",
                    width=width,
                    height=height,
                )
            upload.draft("RGB", (SIDE, SIDE))  # JPEG: decode at 1/2..1/8 size if still >= SIDE
            upload.load()
            image = ImageOps.exif_transpose(upload)
    except Refusal:
        raise
    except Exception:  # whatever a decoder raises on a broken file (OSError, SyntaxError...)
        raise refusal("notAnImage", f"the photo is not a readable {kind.name} image") from None
    return _encode(image)


def from_upload(text: str) -> Photo:
    """The photo to keep of a base64 upload (:func:`from_base64`, then :func:`prepare`)."""
    return prepare(from_base64(text))


def _encode(image: Image.Image) -> Photo:
    mode = "RGBA" if image.mode in _ALPHA_MODES or "transparency" in image.info else "RGB"
    square = ImageOps.fit(image.convert(mode), (SIDE, SIDE), method=Image.Resampling.LANCZOS)
    if mode == "RGBA":
        alpha = square.getchannel("A")
        low = alpha.getextrema()[0]
        if isinstance(low, int | float) and low < 255:  # something shows through
            png = _save(square, "PNG", optimize=True)
            if len(png) <= MAX_STORED:
                return _photo(PhotoType.PNG, png)
        white = Image.new("RGB", square.size, (255, 255, 255))
        white.paste(square, mask=alpha)
        square = white
    return _photo(PhotoType.JPEG, _save(square, "JPEG", quality=JPEG_QUALITY, optimize=True))


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)  # no exif=, no icc_profile=: nothing but the pixels
    return out.getvalue()


def _photo(kind: PhotoType, data: bytes) -> Photo:
    return Photo(
        content_type=kind,
        data=base64.b64encode(data).decode("ascii"),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def problem_of_kept(photo: Photo) -> str | None:
    """What is wrong with a photo a command asks to keep (None: nothing): the node checks
    what it records without decoding the image (its bytes, their hash, the file type)."""
    try:
        data = base64.b64decode(photo.data, validate=True)
    except (binascii.Error, ValueError):
        return "its data is not base64"
    if len(data) > MAX_STORED:
        return f"it has {len(data)} bytes, a kept photo at most {MAX_STORED}"
    if type_of(data) is not photo.content_type:
        return f"it is not a {photo.content_type.value} file"
    if hashlib.sha256(data).hexdigest() != photo.sha256:
        return "its sha256 is not that of its data"
    return None
