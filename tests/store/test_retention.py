"""Retention: `cti archive` moves old events of a stopped node's log into a verified archive,
keeps what followers have not taken, and the node, `cti replay --archive` and the MQTT replay
go on from there (issue 18: the log grew without bound; specs/store.md, "Retention")."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from cti.api.requests import BadRequest
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node, replay
from cti.calls import commands as c
from cti.cli import main
from cti.domain import CODEC, NodeState, evolve
from cti.mqtt.face.outbox import POSITION_KEY
from cti.mqtt.face.service import MqttFace
from cti.store import SqliteStore, StoreError, archive
from tests.mqtt.conftest import TESTER, seed_tester


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A node's log of 41 events (DND on and off, 20 times each, on top of the seeding),
    everything published: the outbox's acknowledged position is the last seq."""
    data = tmp_path / "data"
    data.mkdir()
    with SqliteStore(data / "node1.db") as store:
        node = Node(load_site(), store, ManualClock())
        seed_tester(node)  # an integrator: replays every event
        for n in range(40):
            node.execute(c.SetDoNotDisturb(device="330", on=n % 2 == 0))
        store.set_meta(POSITION_KEY, str(store.last_seq()))
    return data


def full_replay(path: Path, archives: Path | None = None) -> NodeState:
    state = NodeState()
    with SqliteStore.open_readonly(path) as store:
        found = archive.manifests(archives, store.epoch) if archives else []
        events = [*archive.events(archives or Path(), found), *store.iter_from(1)]
    for rec in events:
        state = evolve(state, CODEC.decode(rec.kind, rec.version, rec.data))
    return state


def test_archive_keeps_the_newest_events_and_loses_none(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = log.parent / "before.db"
    shutil.copy(log / "node1.db", before)
    with SqliteStore.open_readonly(before) as store:
        last = store.last_seq()
    assert main(["archive", "--data-dir", str(log), "--keep", "10"]) == 0
    out = flat(capsys.readouterr().err)
    assert f"archived {last - 10} events (1..{last - 10})" in out
    assert f"dropped {last - 10} from the log" in out
    with SqliteStore.open_readonly(log / "node1.db") as store:
        assert (store.first_seq(), store.last_seq()) == (last - 9, last)
    # Archive + log replay to exactly what the whole log did.
    assert full_replay(log / "node1.db", log / "archive") == full_replay(before)

    assert main(["archive", "--data-dir", str(log), "--verify"]) == 0
    assert f"with the log they hold every event from seq 1 to {last}" in flat(
        capsys.readouterr().err
    )
    assert main(["replay", "--data-dir", str(log)]) == 1
    assert flat(capsys.readouterr().err) == (
        f"cti replay: the log starts at seq {last - 9}: give the archive (--archive DIR)"
    )
    assert main(["replay", "--data-dir", str(log), "--archive", str(log / "archive")]) == 0
    assert f"replayed {last} events" in flat(capsys.readouterr().err)


def test_the_node_restarts_from_the_snapshot_and_goes_on(log: Path) -> None:
    assert main(["archive", "--data-dir", str(log), "--keep", "0"]) == 0
    with SqliteStore(log / "node1.db") as store:
        last = store.last_seq()
        assert store.first_seq() == last  # the last event stays: the sequence goes on from it
        node = Node(load_site(), store, ManualClock())
        assert node.state.seq == last and node.state.calls.device("330").dnd is False
        made = node.execute(c.MakeCall(calling="330", called="331"))
        assert made.ok and store.last_seq() > last
        assert replay(store).calls == node.state.calls


def test_what_a_follower_has_not_taken_stays(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SqliteStore(log / "node1.db") as store:
        store.set_meta(POSITION_KEY, "12")  # the broker acknowledged up to 12 only
    assert main(["archive", "--data-dir", str(log), "--keep", "0"]) == 0
    assert "archived 12 events (1..12)" in flat(capsys.readouterr().err)
    with SqliteStore.open_readonly(log / "node1.db") as store:
        assert store.first_seq() == 13


def test_a_damaged_archive_is_one_line_and_refused(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["archive", "--data-dir", str(log), "--keep", "5"]) == 0
    capsys.readouterr()
    [gz] = (log / "archive").glob("*.jsonl.gz")
    data = bytearray(gz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    gz.write_bytes(bytes(data))
    assert main(["archive", "--data-dir", str(log), "--verify"]) == 1
    assert flat(capsys.readouterr().err) == (
        f"cti archive: archive {gz} is damaged: its SHA-256 is not the manifest's"
    )
    assert main(["replay", "--data-dir", str(log), "--archive", str(log / "archive")]) == 1
    assert "is damaged" in capsys.readouterr().err


def test_a_running_node_keeps_its_log(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SqliteStore(log / "node1.db"):  # the writer's lock, as cti serve holds it
        assert main(["archive", "--data-dir", str(log), "--keep", "5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cti archive: ") and len(err.strip().splitlines()) == 1
    with SqliteStore.open_readonly(log / "node1.db") as store:
        assert store.first_seq() == 1


def test_a_node_whose_snapshot_is_unusable_says_what_is_missing(log: Path) -> None:
    assert main(["archive", "--data-dir", str(log), "--keep", "3"]) == 0
    with SqliteStore(log / "node1.db") as store:
        first = store.first_seq()
        with pytest.raises(StoreError, match=f"the log holds events from seq {first}, the state"):
            replay(store, use_snapshot=False)


def test_an_mqtt_replay_from_before_the_log_is_refused(log: Path) -> None:
    """The MQTT face answers a replay from an archived seq with a clear refusal, and pages
    from the first seq the log holds as before (nothing is connected: the answer alone)."""
    assert main(["archive", "--data-dir", str(log), "--keep", "5"]) == 0
    with SqliteStore(log / "node1.db") as store:
        first = store.first_seq()
        face = MqttFace(Engine(Node(load_site(), store, ManualClock())), store, "127.0.0.1", 1)
        with pytest.raises(BadRequest) as refused:
            asyncio.run(face._paged("replay", {"fromSeq": 1}, TESTER))
        assert (refused.value.code, refused.value.message) == (
            "invalidParameterValue",
            f"events before seq {first} are archived: from {first}",
        )
        page = asyncio.run(face._paged("replay", {"fromSeq": first}, TESTER))["result"]
        assert page["events"][0]["seq"] == first
        assert page["complete"] is True


def test_broker_config_after_retention_takes_the_accounts_from_the_snapshot(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cti broker-config` reads the accounts of a node whose log was archived from the
    snapshot the archive left, as the node does: it replayed from seq 1 and stopped with
    `give the archive (--archive DIR)`, an option it does not have."""
    assert main(["archive", "--data-dir", str(log), "--keep", "5"]) == 0
    capsys.readouterr()
    out = tmp_path / "conf"
    config = ["broker-config", "--data-dir", str(log), "--out", str(out), "--tls-port", "0"]
    assert main(config) == 0
    assert "accounts from the node's log" in flat(capsys.readouterr().out)
    assert TESTER in (out / "acl.plain").read_text()  # seeded into the log, not the site file
