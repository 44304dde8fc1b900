"""The call records read model in a SQLite file of its own: a checkpointed follower of the log.

Rows and the position they cover are written in one transaction, so after any crash the file
holds exactly the records of the log up to its position, and the follower resumes right after
it. A file written for another log (its epoch) or in another format is emptied and rebuilt
from the log (cti/app/read_model_db.py, shared with the other read models). The only module
of the calls context that does I/O.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from cti.app.read_model_db import ReadModelDb
from cti.calls.records import CallRecord, apply
from cti.kernel.messages import Committed

FORMAT = "1"
_COLUMNS = [f.name for f in attrs.fields(CallRecord)]
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS calls (call INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL,"
    " last_seq INTEGER NOT NULL, started_ms INTEGER NOT NULL, origin TEXT NOT NULL,"
    " calling TEXT NOT NULL, called TEXT NOT NULL, answered_by TEXT, answered_ms INTEGER,"
    " group_number TEXT, parties TEXT NOT NULL, ended_ms INTEGER, end_cause TEXT,"
    " merged_into INTEGER)",
    "CREATE INDEX IF NOT EXISTS calls_started ON calls (started_ms)",
)
_SELECT = (
    "SELECT call, first_seq, last_seq, started_ms, origin, calling, called, answered_by,"
    " answered_ms, group_number, parties, ended_ms, end_cause, merged_into FROM calls"
)
_UPSERT = f"INSERT OR REPLACE INTO calls VALUES ({', '.join('?' for _ in _COLUMNS)})"


def _row(rec: CallRecord) -> tuple[Any, ...]:
    values = attrs.astuple(rec, recurse=False)
    i = _COLUMNS.index("parties")
    return (*values[:i], json.dumps(list(rec.parties)), *values[i + 1 :])


def _record(row: Sequence[Any]) -> CallRecord:
    values = list(row)
    i = _COLUMNS.index("parties")
    values[i] = tuple(json.loads(values[i]))
    return CallRecord(*values)


class CallRecordsDb(ReadModelDb):
    name = "call-records"
    SCHEMA = _SCHEMA
    FORMAT = FORMAT
    TABLES = ("calls",)

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str]) -> CallRecordsDb:
        """For tools: read what the follower wrote, change nothing (FileNotFoundError if
        there is no such file)."""
        db = cls.__new__(cls)
        db.path = os.fspath(path)
        if not os.path.exists(db.path):
            raise FileNotFoundError(db.path)
        uri = Path(db.path).resolve().as_uri() + "?mode=ro"
        db._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        db._lock = threading.Lock()
        return db

    def apply(self, batch: Sequence[Committed]) -> None:
        with self._transaction() as conn:
            ids = set()
            for item in batch:
                for field in ("call", "secondary_call"):
                    value = getattr(item.event, field, None)
                    if value is not None:
                        ids.add(value)
            records = self._load(conn, ids)
            changed: set[int] = set()
            for item in batch:
                changed.update(apply(records, item.seq, item.ts_ms, item.event))
            self._write(conn, [records[c] for c in sorted(changed)])
            self._set_position(conn, batch[-1].seq)

    def _load(self, conn: sqlite3.Connection, ids: set[int]) -> dict[int, CallRecord]:
        found: dict[int, CallRecord] = {}
        wanted = sorted(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in conn.execute(f"{_SELECT} WHERE call IN ({marks})", chunk):
                found[row[0]] = _record(row)
        return found

    def _write(self, conn: sqlite3.Connection, records: Sequence[CallRecord]) -> None:
        conn.executemany(_UPSERT, [_row(r) for r in records])

    # -- reading ------------------------------------------------------------------------------
    def records(self, *, last: int | None = None) -> list[CallRecord]:
        """Records by call id (the ``last`` newest only, if given), oldest first."""
        if last is None:
            rows = self._query(f"{_SELECT} ORDER BY call")
        else:
            rows = self._query(f"{_SELECT} ORDER BY call DESC LIMIT ?", (last,))
            rows.reverse()
        return [_record(r) for r in rows]

    def record(self, call: int) -> CallRecord | None:
        rows = self._query(f"{_SELECT} WHERE call = ?", (call,))
        return None if not rows else _record(rows[0])
