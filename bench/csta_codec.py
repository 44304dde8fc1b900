"""Section 5: the CSTA codec on the hottest PDU of the link, a delivered event report."""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.sections import Row
from cti.csta import codec
from cti.csta.codec.framing import FrameDecoder, encode_frame


def _device(number: str) -> Any:
    return ("deviceIdentifier", {"deviceIdentifier": ("dialingNumber", number)})


def delivered_report(call: int) -> codec.Invoke:
    """What the server sends a monitor when 331 starts ringing from 330."""
    connection = (
        "both",
        {
            "callID": call.to_bytes(4, "big"),
            "deviceID": ("staticID", {"deviceIdentifier": ("dialingNumber", "331")}),
        },
    )
    event = {
        "connection": connection,
        "alertingDevice": _device("331"),
        "callingDevice": _device("330"),
        "calledDevice": _device("331"),
        "lastRedirectionDevice": ("notRequired", None),
        "localConnectionInfo": "alerting",
        "cause": "newCall",
    }
    report = {
        "crossRefIdentifier": b"\x00\x00\x00\x01",
        "eventSpecificInfo": ("callControlEvents", ("delivered", event)),
    }
    return codec.Invoke(call, "cSTAEventReport", report)


def _round_trips(n: int) -> float:
    pdu = delivered_report(4711)
    decoder = FrameDecoder()
    started = time.perf_counter()
    for _ in range(n):
        (frame,) = decoder.feed(encode_frame(codec.encode_rose(pdu)))
        codec.decode_rose(frame)
    return n / (time.perf_counter() - started)


def _encodes(n: int) -> float:
    """What the server does per report and monitor."""
    pdu = delivered_report(4711)
    started = time.perf_counter()
    for _ in range(n):
        encode_frame(codec.encode_rose(pdu))
    return n / (time.perf_counter() - started)


def _decodes(n: int) -> float:
    """What a client (ours, cti csta monitor) does per report."""
    data = codec.encode_rose(delivered_report(4711))
    started = time.perf_counter()
    for _ in range(n):
        codec.decode_rose(data)
    return n / (time.perf_counter() - started)


def csta_rows(reps: int = 3, n: int = 2_000) -> list[Row]:
    size = len(encode_frame(codec.encode_rose(delivered_report(4711))))
    return [
        (
            "delivered event report: encode + frame + decode",
            statistics.median(_round_trips(n) for _ in range(reps)),
            "ops/s",
            None,
        ),
        (
            "  encode + frame (server, per report)",
            statistics.median(_encodes(10 * n) for _ in range(reps)),
            "ops/s",
            None,
        ),
        ("  decode (client)", statistics.median(_decodes(n) for _ in range(reps)), "ops/s", None),
        ("  size on the wire", float(size), "bytes", None),
    ]
