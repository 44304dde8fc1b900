"""DIR-04: the search index is a checkpointed read model. Its process is SIGKILLed inside a
batch's transaction: what it had committed is exactly a rebuild from the log up to its
position; restarted, it reaches the rebuild of the whole log."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from cti.accounts.commands import RemoveAccount
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.feed import CommitFeed, LogReader
from cti.app.node import Node
from cti.directory import commands as c
from cti.directory.index_db import DirectoryIndex
from cti.store import SqliteStore
from tests.directory.helpers import done, imported
from tests.favourites.helpers import ACCOUNTS

REPO = Path(__file__).resolve().parents[2]


def tables(path: Path) -> dict[str, list[Any]]:
    """Everything the index holds, scopes by name (what a rebuild must equal)."""
    conn = sqlite3.connect(path)
    try:
        return {
            "position": conn.execute("SELECT value FROM meta WHERE key = 'position'").fetchall(),
            "entries": conn.execute(
                "SELECT s.scope, e.key, e.directory, e.sort, e.name, e.doc FROM entries e"
                " JOIN scopes s ON s.n = e.scope ORDER BY 1, 2"
            ).fetchall(),
            "numbers": conn.execute(
                "SELECT s.scope, e.key, n.number FROM numbers n JOIN entries e ON e.id = n.entry"
                " JOIN scopes s ON s.n = n.scope ORDER BY 1, 2, 3"
            ).fetchall(),
            "terms": conn.execute(
                "SELECT s.scope, e.key, t.keys FROM terms t JOIN entries e ON e.id = t.rowid"
                " JOIN scopes s ON s.n = e.scope ORDER BY 1, 2"
            ).fetchall(),
        }
    finally:
        conn.close()


def rebuild(log_path: Path, path: Path, upto: int) -> dict[str, Any]:
    with SqliteStore.open_readonly(log_path) as store:
        index = DirectoryIndex(path, store.epoch, load_site())
        reader = LogReader(CommitFeed(store.last_seq()), store)
        while (batch := reader.read(index.position() + 1)) and batch[0].seq <= upto:
            index.apply([x for x in batch if x.seq <= upto])
        index.close()
    return tables(path)


def test_dir04_sigkill_mid_batch_then_restart_equals_a_rebuild(tmp_path: Path) -> None:
    log_path, db_path = tmp_path / "node1.db", tmp_path / "node1.directory.db"
    node = seeded_on(log_path)
    for round_ in range(4):
        rows = "".join(f"K{round_} {i};F;0171 {1_000_000 + 100 * round_ + i}\n" for i in range(30))
        imported(node, ("Name;Firma;Mobil\n" + rows).encode())
        done(node, c.AddContact(user="332", name=f"B{round_}", mobile=f"0171 {2_000_000 + round_}"))
        done(node, c.DeleteContact(user="331", id=1 + 30 * round_))
    done(node, RemoveAccount(name="333"), by="330")
    total = node.state.seq
    node.store.close()
    child = [sys.executable, "-m", "tests.directory.index_child", str(log_path), str(db_path)]
    killed = subprocess.run([*child, "--die-after", "77"], cwd=REPO, capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    got = tables(db_path)
    position = int(got["position"][0][0])
    assert 0 < position < total
    assert got == rebuild(log_path, tmp_path / "upto.db", position)
    finished = subprocess.run(child, cwd=REPO, capture_output=True, text=True, check=True)
    assert int(finished.stdout) == total
    assert tables(db_path) == rebuild(log_path, tmp_path / "all.db", total)


def seeded_on(log_path: Path) -> Node:
    """The example office with people's accounts (tests/favourites/helpers.py), on a SQLite
    log (the child process reads it)."""
    from cti.accounts.commands import AccountSeed, SeedAccounts

    site = load_site()
    node = Node(site, SqliteStore(log_path), ManualClock())
    seeds = tuple(
        AccountSeed(
            name=name,
            display_name=site.devices[name].name if name in site.devices else name,
            role=role,
            devices=(name,) if name in site.devices else (),
            licences=frozenset(),
            password="argon2id-stand-in",
            broker_password="$7$-stand-in",
            must_change=must_change,
        )
        for name, (role, must_change) in ACCOUNTS.items()
    )
    assert node.execute(SeedAccounts(accounts=seeds)).ok
    return node
