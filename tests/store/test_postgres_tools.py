"""The tools that open a node's log work on a PostgreSQL log too (`--store` or `CTI_STORE`):
`cti replay`, `cti archive` (retention, specs/store.md), `cti users` and `cti devices` on a
stopped node and `cti broker-config`; a running writer keeps `cti archive` off its log."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from cti.app.clock import ManualClock, SystemClock
from cti.app.config import load_config, load_site
from cti.app.node import Node
from cti.calls import commands as c
from cti.cli import main
from cti.mqtt.face.outbox import POSITION_KEY
from cti.store.postgres import PostgresStore
from tests.mqtt.conftest import seed_tester


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def pg_log(pg_dsn: str) -> str:
    """node1's log of 42 events in PostgreSQL, everything published."""
    with PostgresStore(pg_dsn, "node1") as store:
        node = Node(load_site(), store, ManualClock())
        seed_tester(node)
        for n in range(40):
            node.execute(c.SetDoNotDisturb(device="330", on=n % 2 == 0))
        store.set_meta(POSITION_KEY, str(store.last_seq()))
    return pg_dsn


def test_replay_and_archive_a_postgres_log(
    pg_log: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"  # no SQLite log here: the tools must not look for one
    assert main(["replay", "--store", pg_log, "--data-dir", str(data)]) == 0
    assert "replayed 42 events" in flat(capsys.readouterr().err)

    assert main(["archive", "--store", pg_log, "--data-dir", str(data), "--keep", "10"]) == 0
    assert "archived 32 events (1..32)" in flat(capsys.readouterr().err)
    with PostgresStore.open_readonly(pg_log, "node1") as store:
        assert (store.first_seq(), store.last_seq()) == (33, 42)
    assert main(["archive", "--store", pg_log, "--data-dir", str(data), "--verify"]) == 0
    assert "from seq 1 to 42" in flat(capsys.readouterr().err)
    assert main(["replay", "--store", pg_log, "--data-dir", str(data)]) == 1
    assert "the log starts at seq 33: give the archive" in flat(capsys.readouterr().err)
    archive = ["--archive", str(data / "archive")]
    assert main(["replay", "--store", pg_log, "--data-dir", str(data), *archive]) == 0
    assert "replayed 42 events" in flat(capsys.readouterr().err)
    # The node goes on from the snapshot the archive took, with the next seq.
    with PostgresStore(pg_log, "node1") as store:
        node = Node(load_site(), store, ManualClock())
        assert node.execute(c.SetDoNotDisturb(device="331", on=True)).events[0].seq == 43


def test_the_tools_read_cti_store_from_the_environment(
    pg_log: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTI_STORE", pg_log)
    assert main(["replay", "--data-dir", str(tmp_path)]) == 0
    assert "replayed 42 events" in flat(capsys.readouterr().err)
    assert main(["replay", "--data-dir", str(tmp_path), "--store", "sqlite"]) == 1  # flag wins
    assert "no event log at" in capsys.readouterr().err
    monkeypatch.setenv("CTI_STORE", "mysql://u:pw@h/db")
    assert main(["replay"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cti replay: CTI_STORE: neither 'sqlite' nor") and "pw" not in err


def test_archive_keeps_off_a_running_writers_log(
    pg_log: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with PostgresStore(pg_log, "node1"):
        assert main(["archive", "--store", pg_log, "--data-dir", str(tmp_path)]) == 1
    assert "is in use by another writer" in flat(capsys.readouterr().err)
    with PostgresStore.open_readonly(pg_log, "node1") as store:
        assert store.first_seq() == 1


def test_users_and_broker_config_on_a_stopped_postgres_node(
    pg_dsn: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["users", "--store", pg_dsn, "--data-dir", str(tmp_path / "data")]
    monkeypatch.setenv("CTI_NEW_PASSWORD", "Lager-2026!")
    # No log of node1 in the database (a wrong --store or --site): refused, nothing made.
    assert main([*args, "add", "334"]) == 1
    err = flat(capsys.readouterr().err)
    assert err.startswith("cti users: no event log at ") and "(node node1)" in err, err
    assert "not the node's --store or --site?" in err
    assert main(["archive", "--store", pg_dsn, "--data-dir", str(tmp_path / "data")]) == 1
    assert "cti archive: no event log at " in flat(capsys.readouterr().err)
    assert not PostgresStore.exists(pg_dsn, "node1")
    assert main([*args, "--init", "add", "334"]) == 0
    with PostgresStore(pg_dsn, "node1") as store:
        accounts = Node(load_config().site, store, SystemClock()).state.accounts.accounts
        assert "334" in accounts and "phone-sim" in accounts  # the site's seeds first
    assert not (tmp_path / "data" / "node1.db").exists()
    out = tmp_path / "broker"
    config = ["broker-config", "--store", pg_dsn, "--data-dir", str(tmp_path / "data")]
    assert main([*config, "--out", str(out)]) == 0
    assert "334:" in (out / "passwords").read_text()
    # The cti serve it says to run next is on this log, not an SQLite file of --data-dir,
    # in one line to copy.
    assert f"--store {shlex.quote(pg_dsn)} --data-dir {tmp_path / 'data'}\n" in (
        capsys.readouterr().out
    )


def test_devices_forget_on_a_stopped_postgres_node(
    pg_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cti devices forget` on a node's log in PostgreSQL: the load site does not configure
    331, whose DND the example office's log holds (specs/operations.md)."""
    load = str(Path(__file__).parents[2] / "cti" / "sites" / "load.toml")
    args = ["devices", "--site", load, "--store", pg_dsn, "--data-dir", str(tmp_path / "data")]
    assert main([*args, "forget", "331"]) == 1  # no log yet: nothing made
    assert "cti devices: no event log at " in flat(capsys.readouterr().err)
    assert not PostgresStore.exists(pg_dsn, "node1")
    with PostgresStore(pg_dsn, "node1") as store:
        assert (
            Node(load_site(), store, ManualClock())
            .execute(c.SetDoNotDisturb(device="331", on=True))
            .ok
        )
    assert main([*args, "forget", "--unconfigured"]) == 0
    assert capsys.readouterr().out == "forgotten: 331\n"
    with PostgresStore(pg_dsn, "node1") as store:
        assert [r.kind for r in store.read(1)] == ["doNotDisturb", "deviceForgotten"]
        assert not Node(load_site(load), store, ManualClock()).state.calls.devices
    assert not (tmp_path / "data" / "node1.db").exists()


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            "postgres://u:pw@h:5433/db?sslmode=verify-full&options=-csearch_path%3Dsite2",
            "postgres://u@h:5433/db?sslmode=verify-full&options=-csearch_path%3Dsite2",
        ),
        (
            "postgresql://u@h/db?host=/var/run/postgresql&password=x",
            "postgresql://u@h/db?host=/var/run/postgresql",
        ),
        ("postgresql://u:pw@h1,h2/db", "postgresql://u@h1,h2/db"),
        ("postgresql://u:pw@[::1]:5432/db", "postgresql://u@[::1]:5432/db"),
        ("postgresql://u:p%40w@h/db", "postgresql://u@h/db"),
        ("postgresql://:pw@h/db", "postgresql://h/db"),
        # a password left where the cut does not look: the database alone, as in messages
        ("postgresql://u:pw@h?password=x", "postgresql://u@h/u"),
    ],
)
def test_broker_config_s_hint_keeps_the_store_but_its_password(given: str, shown: str) -> None:
    """The `cti serve --store` that cti broker-config says to run next opens the same log:
    the schema in options, sslmode, every host; only the password goes (it printed user,
    host, port and database alone, so a node followed the hint into another schema)."""
    from psycopg import conninfo

    from cti.store.postgres import without_password

    assert without_password(given) == shown
    assert conninfo.conninfo_to_dict(shown).get("password") is None


def test_broker_config_s_hint_leaves_a_store_from_cti_store_to_it() -> None:
    """A store that came from CTI_STORE is left out of the hint: `cti serve` reads it too,
    with its password, which a printed --store (without it) would override."""
    from cti.store.location import store_flag

    dsn = "postgresql://cti:secret@db/cti"
    assert store_flag(dsn, {"CTI_STORE": dsn}) == ""
    assert store_flag(dsn, {}) == " --store postgresql://cti@db/cti"
    assert store_flag(dsn, {"CTI_STORE": "postgresql://other@db/cti"}) == (
        " --store postgresql://cti@db/cti"
    )
    assert store_flag("sqlite", {}) == ""
