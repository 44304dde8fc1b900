"""The production ``EventStore``: one SQLite file in WAL mode.

Durability: each ``append`` writes its whole batch in one transaction, so with
``synchronous=FULL`` a batch of many commands costs one fsync of the WAL (group commit), and a
batch is either entirely in the file or not at all.

Threads: the connection is opened with ``check_same_thread=False`` because the engine calls the
store through ``asyncio.to_thread``, so successive calls may come from different worker threads.
Exactly one thread may use a ``SqliteStore`` at a time; the engine's single writer guarantees
that. Followers of the same process get connections of their own (``sibling``).

One writer per log: opening for writing takes an exclusive OS lock (``flock`` on
``<file>.lock``, which holds the writer's pid) until ``close``; a second writer, in this process
or another, is refused with :class:`StoreLocked` instead of corrupting the sequence. Readers
(``open_readonly``, ``cti replay``) take no lock; WAL lets them read while the writer writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from itertools import starmap
from pathlib import Path
from types import TracebackType
from typing import Literal

from cti.store.base import (
    EPOCH_META_KEY,
    SNAPSHOTS_KEPT,
    Snapshot,
    StoredEvent,
    StoreError,
    StoreLocked,
    check_batch,
    check_limit,
    check_meta_key,
    check_sequence,
)

#: Stored in ``PRAGMA user_version``; a file with a higher number is refused, not guessed at.
#: 2: each event records the version of its fields (a file of version 1 is upgraded on open
#: for writing: its events were all written at version 1).
SCHEMA_VERSION = 2

_SCHEMA = (
    "CREATE TABLE events (seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL, data BLOB NOT NULL, version INTEGER NOT NULL DEFAULT 1)",
    "CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM events"  # max of the rowid: one b-tree descent
_SELECT_EVENTS = "SELECT seq, ts_ms, kind, data, version FROM events WHERE seq >= ? ORDER BY seq"
# A version-1 file opened read-only is not upgraded: its events are all of version 1.
_SELECT_EVENTS_V1 = "SELECT seq, ts_ms, kind, data, 1 FROM events WHERE seq >= ? ORDER BY seq"
_INSERT_EVENT = "INSERT INTO events (seq, ts_ms, kind, data, version) VALUES (?, ?, ?, ?, ?)"
_PRUNE_SNAPSHOTS = (
    "DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)"
)


def _lock(path: str) -> int:
    """Take the writer's lock of the log at ``path``; the file descriptor holds it."""
    lock_path = path + ".lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open event store {path}: {exc.strerror} ({lock_path})") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StoreLocked(
            f"event log {path} is in use by another writer (pid {holder}): a log has one "
            "writer; stop that process, or give this one its own --data-dir"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


class SqliteStore:
    """Events, snapshots and meta in one SQLite file; see the module docstring for threads."""

    _select: str
    _lock_fd: int | None = None
    _writer: SqliteStore | None = None  # set on a sibling: the connection that holds the lock

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        self._lock_fd = _lock(os.fspath(path))
        self._siblings: list[SqliteStore] = []
        try:
            self._setup(path, readonly=False)
        except BaseException:
            self._release()
            raise
        try:
            self._epoch = self._open_for_writing(synchronous)
        except BaseException:
            self._conn.close()
            self._release()
            raise

    def sibling(self, *, readonly: bool = False) -> SqliteStore:
        """A second connection for a follower of this process, living under this writer's
        lock: it reads pages of the log and (unless ``readonly``) keeps its own meta keys,
        but never appends; it is closed with this store."""
        self._check_open("sibling")
        if self._writer is not None:  # a sibling's sibling: the writer's, closed with it
            return self._writer.sibling(readonly=readonly or self.readonly)
        other = SqliteStore.__new__(SqliteStore)
        other._setup(self.path, readonly=readonly or self.readonly)
        if not other.readonly:
            # Its meta keys are a follower's position (the outbox's), saved every 0.2 s: a
            # power cut may only set it back (events published again, at least once), so its
            # commits skip the WAL's fsync. The writer's next commit (FULL) syncs them too.
            other._conn.execute("PRAGMA synchronous=NORMAL")
        other._epoch = self._epoch
        other._select = self._select
        other._writer = self
        self._siblings.append(other)
        return other

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str]) -> SqliteStore:
        """Open an existing store for tools (replay, inspection); every write raises."""
        store = cls.__new__(cls)
        store._siblings = []
        store._setup(path, readonly=True)
        try:
            store._epoch = store._open_for_reading()
        except BaseException:
            store._conn.close()
            raise
        return store

    # -- opening ------------------------------------------------------------------------------
    def _setup(self, path: str | os.PathLike[str], *, readonly: bool) -> None:
        self.path = os.fspath(path)
        self.readonly = readonly
        self._closed = False
        try:
            if readonly:
                # mode=ro makes SQLite itself refuse writes and never create a missing file.
                uri = Path(self.path).resolve().as_uri() + "?mode=ro"
                self._conn = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
            else:
                # isolation_level=None: no implicit transactions; we issue BEGIN/COMMIT ourselves.
                self._conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open event store {self.path}: {exc}") from exc

    def _open_for_writing(self, synchronous: str) -> str:
        with self._guard("open"):
            # Check the version before touching the file: a newer schema must stay untouched.
            self._check_version(self._user_version())
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"cannot put event store {self.path} in WAL mode (got {mode!r})")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
        with self._transaction("create schema") as conn:
            # Re-read under the write lock: another process may have created it meanwhile.
            version = self._user_version()
            self._check_version(version)
            if version == 0:
                if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise StoreError(f"{self.path} is an SQLite file but not an event store")
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("INSERT INTO meta VALUES (?, ?)", (EPOCH_META_KEY, uuid.uuid4().hex))
            elif version == 1:  # adding a column with a default rewrites nothing
                conn.execute("ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._select = _SELECT_EVENTS
        return self._read_epoch()

    def _open_for_reading(self) -> str:
        with self._guard("open"):
            version = self._user_version()
            if version == 0:
                raise StoreError(f"{self.path} is not an event store (no schema)")
            self._check_version(version)
        self._select = _SELECT_EVENTS_V1 if version == 1 else _SELECT_EVENTS
        return self._read_epoch()

    def _user_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"event store {self.path} has schema version {version}, newer than the"
                f" {SCHEMA_VERSION} this software knows; use a newer release to open it"
            )
        if version < 0:
            raise StoreError(f"event store {self.path} has an unknown schema version {version}")

    def _read_epoch(self) -> str:
        epoch = self.get_meta(EPOCH_META_KEY)
        if epoch is None:
            raise StoreError(f"event store {self.path} has no epoch; it is damaged")
        return epoch

    # -- error handling -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Turn SQLite errors (I/O, disk full, read-only, corrupt) into ``StoreError``."""
        self._check_open(what)
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"{what} failed on event store {self.path}: {exc}") from exc

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed (durably) on success, rolled back on any error."""
        self._check_writable(what)
        with self._guard(what):
            # IMMEDIATE takes the write lock up front, so checks made inside hold at commit.
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # SQLite may already have rolled back
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise StoreError(f"{what}: event store {self.path} is closed")

    def _check_writable(self, what: str) -> None:
        self._check_open(what)
        if self.readonly:
            raise StoreError(f"{what}: event store {self.path} is opened read-only")

    # -- EventStore -----------------------------------------------------------------------------
    @property
    def epoch(self) -> str:
        return self._epoch

    def last_seq(self) -> int:
        with self._guard("last_seq"):
            return int(self._conn.execute(_LAST_SEQ).fetchone()[0])

    def append(self, events: Sequence[StoredEvent]) -> None:
        if self._writer is not None:
            raise StoreError(f"append on a follower's connection to {self.path}: one writer")
        if not events:
            self._check_writable("append")
            return
        with self._transaction(f"append of seq {events[0].seq}..{events[-1].seq}") as conn:
            # Read under the write lock rather than cached: a second writer cannot slip in.
            check_sequence(events, conn.execute(_LAST_SEQ).fetchone()[0])
            conn.executemany(
                _INSERT_EVENT, [(e.seq, e.ts_ms, e.kind, e.data, e.version) for e in events]
            )

    def read(self, from_seq: int, limit: int | None = None) -> list[StoredEvent]:
        check_limit(limit)
        with self._guard("read"):
            rows = self._conn.execute(
                self._select + " LIMIT ?", (from_seq, -1 if limit is None else limit)
            ).fetchall()
        return list(starmap(StoredEvent, rows))

    def iter_from(self, from_seq: int, batch: int = 10_000) -> Iterator[StoredEvent]:
        """Stream with one cursor; finish or close the iterator (it holds a read snapshot)."""
        check_batch(batch)
        self._check_open("read")  # fail now rather than at the first next()
        return self._stream(from_seq, batch)

    def _stream(self, from_seq: int, batch: int) -> Iterator[StoredEvent]:
        with self._guard("read"):
            cursor = self._conn.execute(self._select, (from_seq,))
            try:
                # starmap keeps the per-row work in C apart from building the StoredEvent.
                while rows := cursor.fetchmany(batch):
                    yield from starmap(StoredEvent, rows)
            finally:
                with contextlib.suppress(sqlite3.Error):
                    cursor.close()

    def save_snapshot(self, snapshot: Snapshot) -> None:
        with self._transaction(f"snapshot at seq {snapshot.seq}") as conn:
            last = conn.execute(_LAST_SEQ).fetchone()[0]
            if snapshot.seq > last:
                raise StoreError(
                    f"snapshot at seq {snapshot.seq} is ahead of the log (last {last})"
                )
            conn.execute(
                "INSERT OR REPLACE INTO snapshots (seq, data) VALUES (?, ?)",
                (snapshot.seq, snapshot.data),
            )
            conn.execute(_PRUNE_SNAPSHOTS, (SNAPSHOTS_KEPT,))

    def first_seq(self) -> int:
        """Seq of the first event the log still holds (1 unless retention dropped older
        ones, specs/store.md); 0 for an empty log."""
        with self._guard("first_seq"):
            return int(self._conn.execute("SELECT coalesce(min(seq), 0) FROM events").fetchone()[0])

    def drop_before(self, seq: int) -> int:
        """Delete the events before ``seq`` (retention, after they were archived) and the
        snapshots older than the newest one; the number of events deleted. The last event
        always stays: the sequence goes on from it."""
        if self._writer is not None:
            raise StoreError(f"drop_before on a follower's connection to {self.path}: one writer")
        with self._transaction(f"drop events before seq {seq}") as conn:
            last = conn.execute(_LAST_SEQ).fetchone()[0]
            if seq > last:
                raise StoreError(f"cannot drop up to seq {seq}: the last event is {last}")
            snap = conn.execute("SELECT coalesce(max(seq), 0) FROM snapshots").fetchone()[0]
            if seq > snap + 1:
                raise StoreError(f"no snapshot at or after seq {seq - 1}: the state needs them")
            dropped = conn.execute("DELETE FROM events WHERE seq < ?", (seq,)).rowcount
            conn.execute("DELETE FROM snapshots WHERE seq < ?", (snap,))
        return int(dropped)

    def latest_snapshot(self) -> Snapshot | None:
        with self._guard("latest_snapshot"):
            row = self._conn.execute(
                "SELECT seq, data FROM snapshots ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        return None if row is None else Snapshot(row[0], row[1])

    def get_meta(self, key: str) -> str | None:
        with self._guard(f"get meta {key!r}"):
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        check_meta_key(key)
        with self._transaction(f"set meta {key!r}") as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for sibling in getattr(self, "_siblings", ()):
            sibling.close()  # a follower's connection does not outlive the writer's lock
        try:
            self._conn.close()
        except sqlite3.Error as exc:
            raise StoreError(f"closing event store {self.path} failed: {exc}") from exc
        finally:
            self._release()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
