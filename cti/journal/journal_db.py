"""The per-user journal in a SQLite file of its own: a checkpointed follower of the log
(JOUR-01..04; a read model's file like the call records', cti/app/read_model_db.py).

Entries come from the call events (:mod:`cti.journal.calls`), decided when a call ends; notes,
reminders, done marks and deletions from the journal context's events. Rows, the calls still
in progress (their tracks) and the position they cover are written in one transaction, so
after any crash (kill -9 mid-call included) the file holds exactly the journal of the log up to
its position, resumes right after it, and equals a rebuild from the log. A file of another log
(its epoch) or another format is emptied and rebuilt. The only module of the journal context
that does I/O.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from cti.accounts.events import AccountRemoved
from cti.app.read_model_db import ReadModelDb
from cti.journal import events as jev
from cti.journal.calls import JournalFold, Owners, Track, decode_track, encode_track
from cti.journal.model import Direction, Entry, Folder, Outcome
from cti.kernel.messages import Committed
from cti.site import Site

FORMAT = "1"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tracks (call INTEGER PRIMARY KEY, doc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (user TEXT NOT NULL, call INTEGER NOT NULL,"
    " direction TEXT NOT NULL, number TEXT NOT NULL, started_ms INTEGER NOT NULL,"
    " ended_ms INTEGER NOT NULL, outcome TEXT NOT NULL, answered_ms INTEGER, by_number TEXT,"
    " grp TEXT, forwarded_from TEXT, transferred_to TEXT, first_seq INTEGER NOT NULL,"
    " last_seq INTEGER NOT NULL, connected INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0,"
    " closed_by INTEGER, note TEXT, remind_at INTEGER, overdue INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (user, call)) WITHOUT ROWID",
    # The open entries by party: what a call that connected closes (JOUR-02). Partial, so
    # closing looks at the few open entries with the party, never at every call with it.
    "CREATE INDEX IF NOT EXISTS entries_open ON entries (user, number)"
    " WHERE connected = 0 AND done = 0 AND closed_by IS NULL",
    "CREATE INDEX IF NOT EXISTS entries_started ON entries (user, started_ms)",
)
_ENTRY_COLUMNS = (
    "user, call, direction, number, started_ms, ended_ms, outcome, answered_ms, by_number, grp,"
    " forwarded_from, transferred_to, first_seq, last_seq"
)
_ITEM_COLUMNS = f"{_ENTRY_COLUMNS}, done, closed_by, note, remind_at, overdue"
_INSERT = (
    f"INSERT OR REPLACE INTO entries ({_ENTRY_COLUMNS}, connected)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Open (JOUR-02): did not connect, not done, not closed by a later call that connected.
_OPEN = "connected = 0 AND done = 0 AND closed_by IS NULL"
FOLDERS: dict[Folder, str] = {
    Folder.ALL: "1",
    Folder.ANSWERED: "outcome = 'answered'",
    Folder.MISSED: "direction = 'incoming' AND connected = 0",
    Folder.OPEN: _OPEN,
    Folder.OVERDUE: "overdue = 1",
}


@attrs.frozen
class Item:
    """An entry as the user's journal holds it: the call's facts and what the user did."""

    entry: Entry
    done: bool = False
    closed_by: int | None = None  # the later call with the party that connected (JOUR-02)
    note: str | None = None
    remind_at: int | None = None
    overdue: bool = False

    @property
    def open(self) -> bool:
        return not self.entry.connected and not self.done and self.closed_by is None


@attrs.frozen
class Counts:
    open: int = 0
    missed: int = 0
    answered: int = 0
    all: int = 0
    overdue: int = 0


def _item(row: Sequence[Any]) -> Item:
    (user, call, direction, number, started, ended, outcome, answered, by, grp, fwd, transf,
     first, last, done, closed_by, note, remind_at, overdue) = row  # fmt: skip
    entry = Entry(
        user, call, Direction(direction), number, started, ended, Outcome(outcome), answered,
        by, grp, fwd, transf, first, last,
    )  # fmt: skip
    return Item(entry, bool(done), closed_by, note, remind_at, bool(overdue))


class JournalDb(ReadModelDb):
    name = "journal"
    SCHEMA = _SCHEMA
    FORMAT = FORMAT
    TABLES = ("entries", "tracks")

    def __init__(self, path: str | os.PathLike[str], epoch: str, site: Site) -> None:
        self.site = site
        self._tracks: dict[int, Track] | None = None  # calls in progress, as of the position
        self._owners = Owners(site)
        self._touched: set[str] = set()  # users whose journal changed since last asked
        self.on_applied: Callable[[], None] | None = None  # told after each batch (any thread)
        super().__init__(path, epoch)

    def _emptied(self, conn: sqlite3.Connection) -> None:
        self._tracks = {}

    def _rolled_back(self) -> None:
        self._tracks = None  # the cache may hold what was rolled back: reload

    # -- ReadModel ----------------------------------------------------------------------------
    def reset(self) -> None:
        epoch = self.epoch() or ""
        with self._transaction() as conn:
            self._empty(conn, epoch)
            self._touched.add("*")
        if self.on_applied is not None:
            self.on_applied()

    def apply(self, batch: Sequence[Committed]) -> None:
        with self._transaction() as conn:
            # The cached tracks are changed in place: a failed batch drops the cache
            # (_transaction), and the next one reloads them as committed.
            fold = JournalFold(self.site, self._load_tracks(conn), self._owners)
            touched: set[str] = set()
            changed: set[int] = set()
            entered: list[Entry] = []  # written in one go, before any action that follows
            for item in batch:
                event = item.event
                if isinstance(event, jev.JournalEvent):
                    self._enter(conn, entered)
                    self._action(conn, event)
                    touched.add(event.user)
                    continue
                if isinstance(event, AccountRemoved):  # the journal goes with its account
                    self._enter(conn, entered)
                    conn.execute("DELETE FROM entries WHERE user = ?", (event.name,))
                    touched.add(event.name)
                    continue
                entries, calls = fold.apply(item.seq, item.ts_ms, event)
                changed.update(calls)
                entered.extend(entries)
                touched.update(e.user for e in entries)
            self._enter(conn, entered)
            tracks = fold.tracks
            gone = [(c,) for c in sorted(changed) if c not in tracks]
            kept = [
                (c, json.dumps(encode_track(tracks[c]))) for c in sorted(changed) if c in tracks
            ]
            conn.executemany("DELETE FROM tracks WHERE call = ?", gone)
            conn.executemany("INSERT OR REPLACE INTO tracks VALUES (?, ?)", kept)
            self._set_position(conn, batch[-1].seq)
            self._touched |= touched
        if self.on_applied is not None:
            self.on_applied()

    def _load_tracks(self, conn: sqlite3.Connection) -> dict[int, Track]:
        if self._tracks is None:
            self._tracks = {
                call: decode_track(json.loads(doc), self._owners)
                for call, doc in conn.execute("SELECT call, doc FROM tracks")
            }
        return self._tracks

    def _enter(self, conn: sqlite3.Connection, entries: list[Entry]) -> None:
        """Write the entries decided (in order) and empty the list."""
        if not entries:
            return
        conn.executemany(
            _INSERT,
            [
                (
                    e.user, e.call, e.direction.value, e.number, e.started_ms, e.ended_ms,
                    e.outcome.value, e.answered_ms, e.by, e.group, e.forwarded_from,
                    e.transferred_to, e.first_seq, e.last_seq, int(e.connected),
                )
                for e in entries
            ],
        )  # fmt: skip
        # A call with the party that connected closes the user's earlier open entries with
        # that party (JOUR-02: a callback that connects).
        conn.executemany(
            f"UPDATE entries INDEXED BY entries_open SET closed_by = ?"
            f" WHERE user = ? AND number = ? AND {_OPEN}"
            " AND first_seq < ?",
            [(e.call, e.user, e.number, e.first_seq) for e in entries if e.connected and e.number],
        )
        entries.clear()

    @staticmethod
    def _action(conn: sqlite3.Connection, e: jev.JournalEvent) -> None:
        """What the user did; an action on an entry that is not (or no longer) there changes
        nothing (it was deleted meanwhile)."""
        if isinstance(e, jev.JournalNoteSet):
            conn.execute(
                "UPDATE entries SET note = ?, remind_at = ?, overdue = 0"
                " WHERE user = ? AND call = ?",
                (e.note, e.remind_at, e.user, e.entry),
            )
        elif isinstance(e, jev.JournalReminderDue):
            conn.execute(
                "UPDATE entries SET overdue = 1 WHERE user = ? AND call = ? AND remind_at = ?",
                (e.user, e.entry, e.remind_at),
            )
        elif isinstance(e, jev.JournalEntryDone):
            conn.execute(
                "UPDATE entries SET done = 1, overdue = 0, remind_at = NULL"
                " WHERE user = ? AND call = ?",
                (e.user, e.entry),
            )
        elif isinstance(e, jev.JournalEntryDeleted):
            conn.execute("DELETE FROM entries WHERE user = ? AND call = ?", (e.user, e.entry))
        elif isinstance(e, jev.JournalEntriesDeleted):
            conn.execute(
                "DELETE FROM entries WHERE user = ? AND started_ms < ?", (e.user, e.before)
            )
        elif isinstance(e, jev.JournalCleared):
            conn.execute("DELETE FROM entries WHERE user = ?", (e.user,))

    # -- reading ------------------------------------------------------------------------------
    def take_touched(self) -> set[str]:
        """The users whose journal changed since the last call ("*": everyone's, after a
        reset): whose counts document to publish again."""
        with self._lock:
            touched, self._touched = self._touched, set()
        return touched

    def counts(self, user: str) -> Counts:
        row = self._query(
            "SELECT count(*), "
            + ", ".join(
                f"coalesce(sum({FOLDERS[f]}), 0)"
                for f in (Folder.OPEN, Folder.MISSED, Folder.ANSWERED, Folder.OVERDUE)
            )
            + " FROM entries WHERE user = ?",
            (user,),
        )[0]
        return Counts(open=row[1], missed=row[2], answered=row[3], all=row[0], overdue=row[4])

    def items(
        self, user: str, folder: Folder = Folder.ALL, *, limit: int = 50, before: int | None = None
    ) -> list[Item]:
        """The newest entries of a folder first; ``before``: only entries older than that
        entry id (the next page)."""
        sql = f"SELECT {_ITEM_COLUMNS} FROM entries WHERE user = ? AND ({FOLDERS[folder]})"
        args: list[object] = [user]
        if before is not None:
            sql += " AND call < ?"
            args.append(before)
        sql += " ORDER BY call DESC LIMIT ?"
        args.append(limit)
        return [_item(r) for r in self._query(sql, args)]

    def item(self, user: str, entry: int) -> Item | None:
        rows = self._query(
            f"SELECT {_ITEM_COLUMNS} FROM entries WHERE user = ? AND call = ?", (user, entry)
        )
        return None if not rows else _item(rows[0])

    def users(self) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT user FROM entries ORDER BY user")]

    def dump(self) -> tuple[list[Item], dict[int, dict[str, Any]]]:
        """Everything it holds (tests: a follower equals a rebuild)."""
        items = [
            _item(r)
            for r in self._query(f"SELECT {_ITEM_COLUMNS} FROM entries ORDER BY user, call")
        ]
        tracks = {c: json.loads(d) for c, d in self._query("SELECT call, doc FROM tracks")}
        return items, tracks
