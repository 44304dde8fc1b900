"""The file every SQLite read model is built on (cti/app/read_model_db.py): a minimal model
whose rows are the seqs it was given."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from cti.app.read_model_db import ReadModelDb


class Seqs(ReadModelDb):
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS seqs (seq INTEGER PRIMARY KEY)",
    )
    FORMAT = "1"
    TABLES = ("seqs",)

    def __init__(self, path: Path, epoch: str) -> None:
        self.events: list[str] = []
        super().__init__(path, epoch)

    def _reopened(self, conn: sqlite3.Connection) -> None:
        self.events.append("reopened")

    def _emptied(self, conn: sqlite3.Connection) -> None:
        self.events.append("emptied")

    def _rolled_back(self) -> None:
        self.events.append("rolled back")

    def apply(self, seqs: Sequence[int], *, fail: bool = False) -> None:
        with self._transaction() as conn:
            conn.executemany("INSERT INTO seqs VALUES (?)", [(s,) for s in seqs])
            self._set_position(conn, seqs[-1])
            if fail:
                raise RuntimeError("the batch failed")

    def seqs(self) -> list[int]:
        return [r[0] for r in self._query("SELECT seq FROM seqs ORDER BY seq")]


def test_a_new_file_is_empty_at_position_0(tmp_path: Path) -> None:
    db = Seqs(tmp_path / "m.db", "e1")
    assert (db.position(), db.epoch(), db.seqs(), db.events) == (0, "e1", [], ["emptied"])
    db.close()


def test_rows_and_position_are_kept_for_the_same_log_and_format(tmp_path: Path) -> None:
    db = Seqs(tmp_path / "m.db", "e1")
    db.apply([1, 2, 3])
    db.close()
    again = Seqs(tmp_path / "m.db", "e1")
    assert (again.position(), again.seqs(), again.events) == (3, [1, 2, 3], ["reopened"])
    again.close()


@pytest.mark.parametrize("change", ["epoch", "format"])
def test_a_file_of_another_log_or_format_is_emptied(
    tmp_path: Path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Seqs(tmp_path / "m.db", "e1")
    db.apply([1, 2])
    db.close()
    if change == "format":
        monkeypatch.setattr(Seqs, "FORMAT", "2")
    again = Seqs(tmp_path / "m.db", "e2" if change == "epoch" else "e1")
    assert (again.position(), again.seqs(), again.events) == (0, [], ["emptied"])
    assert again.epoch() == ("e2" if change == "epoch" else "e1")
    assert again._meta("format") == Seqs.FORMAT
    again.close()


def test_a_failed_batch_leaves_rows_and_position_as_they_were(tmp_path: Path) -> None:
    db = Seqs(tmp_path / "m.db", "e1")
    db.apply([1])
    with pytest.raises(RuntimeError, match="the batch failed"):
        db.apply([2, 3], fail=True)
    assert (db.position(), db.seqs(), db.events[-1]) == (1, [1], "rolled back")
    assert not db._conn.in_transaction
    db.apply([2])  # the file is usable again
    assert (db.position(), db.seqs()) == (2, [1, 2])
    db.close()


def test_reset_empties_the_rows_and_keeps_the_epoch(tmp_path: Path) -> None:
    db = Seqs(tmp_path / "m.db", "e1")
    db.apply([1, 2])
    db.reset()
    assert (db.position(), db.seqs(), db.epoch(), db.events[-1]) == (0, [], "e1", "emptied")
    db.close()


def test_the_node_files_open_in_wal_at_their_durability(tmp_path: Path) -> None:
    """One setup (``open_wal``) for the read models (NORMAL: the log redoes what a power cut
    loses), the chat's store and the mail outbox's position (FULL)."""
    from cti.chat.chat_db import ChatDb
    from cti.voicemail.mail_outbox import MailPosition

    model = Seqs(tmp_path / "m.db", "e1")
    chat = ChatDb.sqlite(tmp_path / "chat.db", "node1")
    mail = MailPosition(tmp_path / "mail.db", "e1")
    opened = [(model._conn, 1), (chat._conn, 2), (mail.conn, 2)]  # synchronous: 1 NORMAL, 2 FULL
    for conn, synchronous in opened:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == synchronous
    model.close()
    chat.close()
    mail.close()
