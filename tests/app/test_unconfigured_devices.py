"""A log holding settings of devices the site does not configure: phones removed from the
site, or another site's log under the same node name (the example office and the load site
are both node1: `cti serve --site load.toml` in the example's data directory went on from
its log without a word). The node starts, and says so once (found following the README)."""

from __future__ import annotations

from pathlib import Path

import structlog

from cti.app.bootstrap import ServeOptions, start, unconfigured_devices
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.node import Node
from cti.calls import commands as c
from cti.store import SqliteStore
from tests.mqtt.conftest import REPO, Mosquitto
from tests.mqtt.conftest import mosquitto as mosquitto  # the fixture

LOAD_SITE = REPO / "cti" / "sites" / "load.toml"


def _example_log(data_dir: Path) -> None:
    """The example office's log, 331 with do-not-disturb on and 330 with a redial list."""
    data_dir.mkdir(parents=True, exist_ok=True)
    site = load_site()
    store = SqliteStore(data_dir / f"{site.node}.db")
    node = Node(site, store, ManualClock())
    node.execute(c.SetDoNotDisturb(device="331", on=True))
    made = node.execute(c.MakeCall(calling="330", called="331"))
    assert made.ok, made
    store.close()


def test_the_devices_of_another_site_are_found(tmp_path: Path) -> None:
    _example_log(tmp_path)
    load = load_site(LOAD_SITE)
    assert load.node == load_site().node == "node1"
    assert "331" not in load.devices and "330" not in load.devices
    store = SqliteStore(tmp_path / "node1.db")
    try:
        node = Node(load, store, ManualClock())
        assert unconfigured_devices(load, node.state.calls) == ["330", "331"]
        assert unconfigured_devices(load_site(), node.state.calls) == []
    finally:
        store.close()


async def test_serve_says_so_once_at_start(tmp_path: Path, mosquitto: Mosquitto) -> None:
    data = tmp_path / "data"
    _example_log(data)
    options = ServeOptions(site=LOAD_SITE, data_dir=data, mqtt_url=mosquitto.url, csta_port=0)
    with structlog.testing.capture_logs() as logs:
        running = await start(options)
        await running.stop()
    warned = [e for e in logs if e["event"] == "node.log_has_unconfigured_devices"]
    assert len(warned) == 1, logs
    assert warned[0]["count"] == 2 and warned[0]["devices"] == ["330", "331"]
    assert warned[0]["log_level"] == "warning"
