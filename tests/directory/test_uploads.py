"""DIR-01: a contacts file bigger than one request (1 MiB) comes in parts
(uploadContactsPart), then importContacts names the upload. Parts are in order, bounded in
size, one upload per user, forgotten after 10 minutes (the injected clock) or once imported;
the broker's packet limit stays below 2 MiB whatever the file."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from cti.api import execute
from cti.api.directory import MAX_PART, UPLOAD_MS
from cti.api.requests import largest_payload, parse_action
from cti.app.clock import ManualClock
from cti.app.engine import Engine
from cti.directory.fileimport import MAX_FILE_BYTES
from cti.mqtt.limits import MAX_PACKET
from tests.directory.helpers import seeded

A, B = "331", "332"


@pytest_asyncio.fixture
async def engine() -> AsyncIterator[Engine]:
    engine = Engine(seeded())
    await engine.start()
    yield engine
    await engine.stop()


async def ask(engine: Engine, service: str, by: str = A, **fields: Any) -> dict[str, Any]:
    return await execute.execute(engine, parse_action(service, fields), by)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def big_file(rows: int) -> bytes:
    body = "".join(f"Kontakt {i};Firma {i % 7};0171 {1_000_000 + i}\n" for i in range(rows))
    return ("Name;Firma;Mobil\n" + body).encode()


def test_every_request_fits_below_the_packet_limit() -> None:
    assert largest_payload() < MAX_PACKET < 2 * 1024 * 1024
    assert MAX_FILE_BYTES > 10 * MAX_PART


async def test_dir01_a_big_file_is_imported_from_its_parts(engine: Engine) -> None:
    data = big_file(70_000)
    assert len(data) > 2 * MAX_PART
    parts = [data[i : i + MAX_PART] for i in range(0, len(data), MAX_PART)]
    for n, part in enumerate(parts, 1):
        reply = await ask(engine, "uploadContactsPart", user=A, upload="f1", part=n, data=b64(part))
        assert reply["result"] == {"upload": "f1", "part": n, "bytes": sum(map(len, parts[:n]))}
    report = (await ask(engine, "importContacts", user=A, upload="f1"))["result"]
    assert (report["added"], report["rejected"]) == (70_000, 0)
    # Taken: the same upload cannot be imported twice.
    again = await ask(engine, "importContacts", user=A, upload="f1")
    assert again["error"]["code"] == "unknownUpload"


async def test_dir01_parts_come_in_order_and_only_the_owner_sends_them(engine: Engine) -> None:
    one = b64(b"Name;Mobil\n")
    assert (await ask(engine, "uploadContactsPart", user=A, upload="u", part=1, data=one))["ok"]
    wrong = await ask(engine, "uploadContactsPart", user=A, upload="u", part=3, data=one)
    assert wrong["error"]["details"] == {"field": "part", "reason": "outOfOrder"}
    other = await ask(engine, "uploadContactsPart", user=A, upload="v", part=2, data=one)
    assert other["error"]["code"] == "unknownUpload"
    spy = await ask(engine, "uploadContactsPart", by=B, user=A, upload="u", part=2, data=one)
    assert spy["error"]["code"] == "notPermitted"
    steal = await ask(engine, "importContacts", by=B, user=A, upload="u")
    assert steal["error"]["code"] == "notPermitted"
    both = await ask(engine, "importContacts", user=A, upload="u", data=one)
    assert both["error"]["details"] == {"field": "data", "reason": "oneOf"}
    # A new part 1 starts the user's upload anew.
    fresh = b64(b"Name;Mobil\nAnna;0171 1000001\n")
    assert (await ask(engine, "uploadContactsPart", user=A, upload="w", part=1, data=fresh))["ok"]
    assert (await ask(engine, "importContacts", user=A, upload="u"))["error"]["code"] == (
        "unknownUpload"
    )
    assert (await ask(engine, "importContacts", user=A, upload="w"))["result"]["added"] == 1


async def test_dir01_an_upload_beyond_the_file_limit_is_refused_and_dropped(
    engine: Engine,
) -> None:
    chunk = b64(b"x" * MAX_PART)
    parts = MAX_FILE_BYTES // MAX_PART
    for n in range(1, parts + 1):
        assert (await ask(engine, "uploadContactsPart", user=A, upload="u", part=n, data=chunk))[
            "ok"
        ]
    over = await ask(engine, "uploadContactsPart", user=A, upload="u", part=parts + 1, data=chunk)
    assert over["error"]["code"] == "unusableFile"
    assert over["error"]["details"] == {"reason": "tooBig"}
    gone = await ask(engine, "importContacts", user=A, upload="u")
    assert gone["error"]["code"] == "unknownUpload"


async def test_dir01_an_upload_not_imported_within_ten_minutes_is_forgotten(
    engine: Engine,
) -> None:
    clock = engine.node.clock
    assert isinstance(clock, ManualClock)
    one = b64(b"Name;Mobil\nAnna;0171 1000001\n")
    assert (await ask(engine, "uploadContactsPart", user=A, upload="u", part=1, data=one))["ok"]
    clock.advance(UPLOAD_MS / 1000 + 1)
    late = await ask(engine, "importContacts", user=A, upload="u")
    assert late["error"]["code"] == "unknownUpload"
    assert len(engine.node.state.directory.of(A).contacts) == 0
