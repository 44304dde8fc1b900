"""cti serve's wiring (cti.app.bootstrap): what starts, in which order it stops, and that every
start-up problem a user can cause is one StartupError line with nothing left running."""

from __future__ import annotations

import gc
import socket
from pathlib import Path

import pytest

from cti.app.bootstrap import ServeOptions, StartupError, records_path, start
from cti.app.clock import ManualClock
from cti.calls import commands as c
from cti.calls.records_db import CallRecordsDb
from cti.mqtt.broker import free_port
from cti.store import SqliteStore
from cti.store.postgres import PostgresStore, where
from tests.mqtt.conftest import Mosquitto, broker  # noqa: F401  (fixture)


def options(tmp_path: Path, mosquitto: Mosquitto, **kw: object) -> ServeOptions:
    given: dict[str, object] = {"csta_port": 0, "mqtt_url": mosquitto.url, **kw}
    return ServeOptions(data_dir=tmp_path / "data", **given)  # type: ignore[arg-type]


async def test_start_serves_and_stop_releases_everything(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
) -> None:
    # A free port, not the default 8800: another node on this machine may hold that one.
    running = await start(options(tmp_path, broker, csta_port=free_port()), ManualClock())
    try:
        assert [f.name for f in running.faces] == [
            "disk-watch",
            "call-records",
            "directory-index",
            "journal",
            "voicemail-audio-sweep",
            "chat",
            "mqtt",
            "csta",
        ]
        assert running.mqtt.connected.is_set() and running.csta is not None
        assert running.node.state.accounts.account("330") is not None  # the site's [[users]]
        assert (await running.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
        last = running.node.state.seq
    finally:
        await running.stop()
    assert gc.get_freeze_count() == 0  # the frozen heap is collectable again
    # Everything closed: the log can be opened by a new writer, the records file exists.
    with SqliteStore(tmp_path / "data" / "node1.db") as again:
        assert again.last_seq() == last
    db = CallRecordsDb.open_readonly(records_path(tmp_path / "data", "node1"))
    db.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"site": Path("/nonexistent/site.toml")}, "/nonexistent/site.toml"),
        ({"mqtt_url": "http://x"}, "--mqtt-url must look like mqtt://HOST:PORT"),
        ({"mqtt_url": "mqtt://b1:1883,http://x"}, "--mqtt-url must look like mqtt://HOST:PORT"),
    ],
)
async def test_user_errors_are_one_line(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
    change: dict[str, object],
    message: str,
) -> None:
    with pytest.raises(StartupError, match=message) as info:
        await start(options(tmp_path, broker, **change))
    assert "\n" not in str(info.value)
    if "site" not in change:  # the log was opened: it must be free again
        SqliteStore(tmp_path / "data" / "node1.db").close()


async def test_a_log_in_use_is_refused_before_anything_starts(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
) -> None:
    (tmp_path / "data").mkdir()
    with (
        SqliteStore(tmp_path / "data" / "node1.db"),
        pytest.raises(StartupError, match="in use by another writer"),
    ):
        await start(options(tmp_path, broker))


async def test_a_postgres_log_starts_serves_and_is_released(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
    pg_dsn: str,
) -> None:
    """--store postgresql://...: every face starts as on SQLite (the CSTA link's reader
    too), no SQLite log is made, and a second writer of the node is refused at start; after
    stop the log is free again."""
    opts = options(tmp_path, broker, store=pg_dsn, csta_port=free_port())
    running = await start(opts, ManualClock())
    try:
        # The lease watch first: a writer that lost its log stops (cti/app/standby.py).
        assert [f.name for f in running.faces] == [
            "lease",
            "disk-watch",
            "call-records",
            "directory-index",
            "journal",
            "voicemail-audio-sweep",
            "chat",
            "mqtt",
            "csta",
        ]
        assert running.log_name == f"{where(pg_dsn)} (node node1)"
        assert (await running.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
        last = running.node.state.seq
        with pytest.raises(StartupError, match=r"node node1 .* in use by another writer"):
            await start(options(tmp_path / "other", broker, store=pg_dsn))
    finally:
        await running.stop()
    assert not (tmp_path / "data" / "node1.db").exists()
    with PostgresStore(pg_dsn, "node1") as again:
        assert again.last_seq() == last


async def test_an_unreachable_postgres_is_one_line_without_its_password(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
) -> None:
    dsn = "postgresql://cti:s3cret@127.0.0.1:1/cti?connect_timeout=2"
    with pytest.raises(StartupError, match="cannot open event store postgresql://cti@127") as info:
        await start(options(tmp_path, broker, store=dsn))
    assert "\n" not in str(info.value) and "s3cret" not in str(info.value)


async def test_a_busy_csta_port_asked_for_stops_what_had_started(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupError, match=f"CSTA link: cannot listen on 127.0.0.1:{port}"):
            await start(options(tmp_path, broker, csta_port=port))
    SqliteStore(tmp_path / "data" / "node1.db").close()  # the writer's lock was released


async def test_the_site_port_taken_is_a_note_not_an_error(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        site = tmp_path / "site.toml"
        site.write_text(
            '[location]\ncountry_code = "49"\narea_code = "89"\nbase_number = "7007"\n'
            f'[[devices]]\nnumber = "330"\n[csta]\nport = {port}\n'
        )
        running = await start(options(tmp_path, broker, site=site, csta_port=None))
        try:
            assert running.csta is None
            assert any("CSTA link NOT started" in note for note in running.notes)
        finally:
            await running.stop()
