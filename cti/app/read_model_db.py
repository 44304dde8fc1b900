"""The SQLite file of a checkpointed read model (the call records, the directory index, the
journal): what they share, so that each of them holds only its tables and its fold.

One connection in WAL mode, used from the event loop and from the follower's worker thread
under one lock (a reader never sees a batch half-applied: a connection sees its own open
transaction). Rows and the ``position`` they cover are written in one ``BEGIN IMMEDIATE``
transaction, so after any crash the file holds exactly the log up to its position and the
follower (cti/app/follower.py) resumes right after it. A file written for another log (its
``epoch``) or in another ``FORMAT`` is emptied and rebuilt from the log.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Literal


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A connection for the loop and a worker thread (each use under a lock of its owner)."""
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


def open_wal(
    path: str | os.PathLike[str], *, synchronous: Literal["NORMAL", "FULL"]
) -> sqlite3.Connection:
    """:func:`connect` to a file in WAL mode (readers and the writer do not block each other),
    writing it at the ``synchronous`` level: FULL where an acknowledged write must survive a
    power cut, NORMAL where what a power cut loses is applied again from the log. Shared by
    the read models and the other files of a node (the chat's store, the mail outbox)."""
    conn = connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    return conn


class ReadModelDb:
    """The base of a read model's file: ``SCHEMA`` (statements, ``meta`` first), ``FORMAT``
    (raise it when the tables change), ``TABLES`` (emptied on a rebuild) and the hooks."""

    SCHEMA: ClassVar[Sequence[str]]
    FORMAT: ClassVar[str]
    TABLES: ClassVar[Sequence[str]]  # its own tables, emptied by a reset (meta is the base's)

    def __init__(self, path: str | os.PathLike[str], epoch: str) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        # NORMAL: a power cut may lose the newest transactions, never consistency; the
        # follower then applies them again from the log.
        self._conn = open_wal(self.path, synchronous="NORMAL")
        with self._transaction() as conn:
            for statement in self.SCHEMA:
                conn.execute(statement)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("epoch") != epoch or meta.get("format") != self.FORMAT:
                self._empty(conn, epoch)  # another log, or another layout: rebuild
            else:
                self._reopened(conn)

    # -- hooks ----------------------------------------------------------------------------
    def _reopened(self, conn: sqlite3.Connection) -> None:
        """The file is this log's, in this format: what to refresh on opening it."""

    def _emptied(self, conn: sqlite3.Connection) -> None:
        """Its tables were just emptied (in the open transaction): refill or forget caches."""

    def _rolled_back(self) -> None:
        """A transaction was rolled back: drop what the loop caches of it."""

    # -- the file -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                self._rolled_back()
                raise

    def _query(self, sql: str, args: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return None if not rows else str(rows[0][0])

    def _empty(self, conn: sqlite3.Connection, epoch: str) -> None:
        for table in (*self.TABLES, "meta"):
            conn.execute(f"DELETE FROM {table}")
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("epoch", epoch), ("format", self.FORMAT), ("position", "0")],
        )
        self._emptied(conn)

    @staticmethod
    def _set_position(conn: sqlite3.Connection, seq: int) -> None:
        """In the transaction that writes the rows up to ``seq``."""
        conn.execute("UPDATE meta SET value = ? WHERE key = 'position'", (str(seq),))

    # -- ReadModel (cti/app/follower.py) --------------------------------------------------
    def epoch(self) -> str | None:
        """The epoch of the log this file was made from."""
        return self._meta("epoch")

    def position(self) -> int:
        return int(self._query("SELECT value FROM meta WHERE key = 'position'")[0][0])

    def reset(self) -> None:
        epoch = self.epoch() or ""
        with self._transaction() as conn:
            self._empty(conn, epoch)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
