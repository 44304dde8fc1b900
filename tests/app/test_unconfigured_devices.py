"""A log holding settings of devices the site does not configure: phones removed from the
site, or another site's log under the same node name (the example office and the load site
are both node1: `cti serve --site load.toml` in the example's data directory went on from
its log without a word). The node starts, and says so once (found following the README)."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog

from cti.app.bootstrap import ServeOptions, start
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.node import Node, replay
from cti.calls import commands as c
from cti.calls.services.devices import unconfigured_devices
from cti.cli import main
from cti.store import EventStore, SqliteStore
from cti.store.postgres import PostgresStore
from tests.mqtt.conftest import REPO, Mosquitto
from tests.mqtt.conftest import mosquitto as mosquitto  # the fixture
from tests.postgres import private_schema

LOAD_SITE = REPO / "cti" / "sites" / "load.toml"


async def cti(argv: list[str]) -> int:
    """`cti ARGV` (its own event loop, as from a shell) while this test's loop runs."""
    return await asyncio.to_thread(main, argv)


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


async def test_serve_says_so_once_at_start_naming_the_command_that_forgets(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    _example_log(data)
    options = ServeOptions(site=LOAD_SITE, data_dir=data, mqtt_url=mosquitto.url, csta_port=0)
    with structlog.testing.capture_logs() as logs:
        running = await start(options)
        await running.stop()
    [warned] = [e for e in logs if e["event"] == "node.log_has_unconfigured_devices"]
    assert warned["count"] == 2 and warned["devices"] == ["330", "331"]
    assert warned["log_level"] == "warning"
    assert "another site's log" in warned["hint"]  # which of the two, only the operator knows
    # The command as this node runs: its own site and log, which a stopped node's forgetting
    # is decided by (the built-in example's would forget every phone of the load site).
    command = f"cti devices --site {LOAD_SITE} --data-dir {data} forget --unconfigured"
    assert warned["hint"].endswith(f": {command}")
    assert await cti(shlex.split(command)[1:]) == 1  # decided: 330 is still in its call
    assert "330 is in call 1" in capsys.readouterr().out


async def test_cti_devices_on_a_stopped_node_wants_its_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --site the built-in example office would decide what is configured: refused,
    exit 2, nothing recorded."""
    data = tmp_path / "data"
    _example_log(data)
    with SqliteStore(data / "node1.db") as store:
        before = store.last_seq()
    files = sorted(data.iterdir())
    assert await cti(["devices", "--data-dir", str(data), "forget", "--unconfigured"]) == 2
    assert capsys.readouterr().err == (
        "cti devices: the node is stopped: give the --site it runs with (what it configures is"
        " kept)\n"
    )
    with SqliteStore(data / "node1.db") as store:
        assert store.last_seq() == before
    assert sorted(data.iterdir()) == files  # nothing made (the example's conference key)


async def test_cti_devices_forget_on_a_stopped_node_ends_the_warning(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end on an SQLite data directory: refused while 330 is still in its call
    (nothing changes), a configured device refused, then forgotten; `cti serve` starts
    without the warning, from the log and from a snapshot."""
    data = tmp_path / "data"
    _example_log(data)
    log = data / "node1.db"
    args = ["devices", "--site", str(LOAD_SITE), "--data-dir", str(data), "forget"]

    for usage in ([], ["--unconfigured", "331"]):
        assert await cti([*args, *usage]) == 2
        err = capsys.readouterr().err
        assert err == "cti devices: name the devices to forget, or --unconfigured (not both)\n"
    assert await cti([*args, "--unconfigured"]) == 1
    assert capsys.readouterr().out == (
        "refused: invalidDeviceState: 330 is in call 1: clear it first (clearCall)\n"
    )
    assert await cti([*args, "400"]) == 1  # the load site's phone
    assert "refused: requestIncompatibleWithDevice: 400 is configured" in capsys.readouterr().out
    with SqliteStore(log) as store:
        assert store.last_seq() == 4  # nothing recorded
        node = Node(load_site(LOAD_SITE), store, ManualClock())
        assert node.execute(c.ClearCall(call=1)).ok  # what the running node would do

    assert await cti([*args, "--unconfigured"]) == 0
    assert capsys.readouterr().out == "forgotten: 330 331\n"
    assert await cti([*args, "330", "331"]) == 0  # again: nothing left, nothing recorded
    assert capsys.readouterr().out == "nothing kept of: 330 331\n"
    with SqliteStore(log) as store:
        kinds = [r.kind for r in store.read(1)]
        assert kinds[-2:] == ["deviceForgotten", "deviceForgotten"]
        assert kinds.count("deviceForgotten") == 2

    options = ServeOptions(site=LOAD_SITE, data_dir=data, mqtt_url=mosquitto.url, csta_port=0)
    for _ in ("from the log", "from a snapshot"):
        with structlog.testing.capture_logs() as logs:
            running = await start(options)
            assert "330" not in running.node.state.calls.devices
            running.node.snapshot()
            await running.stop()
        assert not [e for e in logs if e["event"] == "node.log_has_unconfigured_devices"]
    with SqliteStore(log) as store:
        snap = store.latest_snapshot()
        assert snap is not None and snap.seq == store.last_seq()


def test_cti_devices_refuses_a_directory_without_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --data-dir: one line, exit 1, and no log made there."""
    typo = tmp_path / "dta"
    assert main(["devices", "--data-dir", str(typo), "forget", "--unconfigured"]) == 1
    assert capsys.readouterr().err == (
        f"cti devices: no event log at {typo / 'node1.db'}: not the node's --data-dir? "
        "(a node that never ran keeps nothing)\n"
    )
    assert not typo.exists()


Reopen = Callable[[], EventStore]


@pytest.fixture(params=["sqlite", "postgres"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Reopen]:
    """Opens the writer of one durable log, again and again (the previous one closed)."""
    if request.param == "sqlite":
        yield lambda: SqliteStore(tmp_path / "node1.db")
        return
    with private_schema() as dsn:
        yield lambda: PostgresStore(dsn, "node1")


def test_forgetting_survives_replay_and_snapshots(reopen: Reopen) -> None:
    """A snapshot before the forgetting and one after it: each restart has the state of the
    node that forgot, and nothing to warn of."""
    example, load = load_site(), load_site(LOAD_SITE)
    store = reopen()
    node = Node(example, store, ManualClock())
    assert node.execute(c.SetDoNotDisturb(device="331", on=True)).ok
    call = node.execute(c.MakeCall(calling="330", called="332"))
    assert call.ok and node.execute(c.ClearCall(call=call.result["call"])).ok  # type: ignore[union-attr]
    store.close()

    store = reopen()
    node = Node(load, store, ManualClock())
    assert unconfigured_devices(load, node.state.calls) == ["330", "331"]
    node.snapshot()  # still holds them
    assert node.execute(c.ForgetDevices(devices=("331",))).ok
    before = node.state
    store.close()

    store = reopen()
    node = Node(load, store, ManualClock())  # the snapshot, then deviceForgotten
    assert node.state == before == replay(store, use_snapshot=False)
    assert unconfigured_devices(load, node.state.calls) == ["330"]
    assert node.execute(c.ForgetDevices(unconfigured=True)).ok
    node.snapshot()  # without them
    before = node.state
    store.close()

    store = reopen()
    node = Node(load, store, ManualClock())
    snap = store.latest_snapshot()
    assert snap is not None and snap.seq == node.state.seq
    assert node.state == before == replay(store, use_snapshot=False)
    assert unconfigured_devices(load, node.state.calls) == []
    assert not node.state.calls.devices
    store.close()
