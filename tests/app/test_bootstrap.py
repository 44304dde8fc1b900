"""cti serve's wiring (cti.app.bootstrap): what starts, in which order it stops, and that every
start-up problem a user can cause is one StartupError line with nothing left running."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cti.app.bootstrap import ServeOptions, StartupError, records_path, start
from cti.app.clock import ManualClock
from cti.calls import commands as c
from cti.calls.records_db import CallRecordsDb
from cti.mqtt.broker import free_port
from cti.store import SqliteStore
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
        names = [f.name for f in running.faces]
        assert names == ["disk-watch", "call-records", "journal", "mqtt", "csta"]
        assert running.mqtt.connected.is_set() and running.csta is not None
        assert running.node.state.accounts.account("330") is not None  # the site's [[users]]
        assert (await running.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
        last = running.node.state.seq
    finally:
        await running.stop()
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
