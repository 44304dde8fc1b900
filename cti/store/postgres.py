"""An ``EventStore`` in PostgreSQL (psycopg 3): many nodes' logs in one database, keyed by node.

Synchronous, like ``SqliteStore``: the engine calls ``append`` through ``asyncio.to_thread``
(the commit waits off the loop, the next batch queues meanwhile) and the followers call their
own connections on the loop or in worker threads. Each ``PostgresStore`` object is one
connection in autocommit mode; writes are explicit transactions.

Durability and group commit: ``append`` writes the whole batch with one ``COPY`` in one
transaction; with the server's default ``synchronous_commit = on`` the commit returns once
the WAL is flushed, so a batch of many commands costs one WAL flush and is all or nothing.

Gap-free sequence per node: ``cti_logs`` holds one row per node with its ``last_seq``; an
append moves it from ``first - 1`` to ``last`` with a conditional ``UPDATE`` in the batch's
transaction, so a stale or second writer can neither leave a gap nor write a seq twice.

One writer per log: opening for writing takes a session-level advisory lock keyed by the log's
id (a second writer gets :class:`StoreLocked` naming the holder) and increments the log's
``term``. Every write of the writer and its followers' meta writes carry that term, and are
refused once another writer has taken a higher one: a writer that lost its lock (its session
ended: network cut, server restart) cannot write after a successor started (fencing by term and
sequence, specs/store.md).
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

import psycopg
from psycopg import conninfo

from cti.store.base import (
    EPOCH_META_KEY,
    SNAPSHOTS_KEPT,
    SequenceGap,
    Snapshot,
    StoredEvent,
    StoreError,
    StoreLocked,
    StoreLost,
    check_batch,
    check_limit,
    check_meta_key,
    check_sequence,
)

#: In ``cti_schema``; a database with a higher number is refused, not guessed at.
SCHEMA_VERSION = 1
#: The advisory lock that serialises schema creation ("CTI\0", 0). A writer's lock is keyed by
#: the OID of its ``cti_logs`` table and the log's id: advisory locks are per database, and a
#: table's OID is unique in it, so logs in different schemas of one database never collide.
LOCK_CLASS = 0x43544900
CONNECT_TIMEOUT = 10  # seconds: a node that cannot reach its database says so at start
LEASE_LOCK_TIMEOUT = "2s"  # a lease check waits this long for a lock on cti_logs
# A follower's session idle inside a transaction (its process paused, its machine gone
# between a position's write and its commit) is ended by the server after this: it holds the
# log's fence (shared), and a standby's takeover (term + 1) would wait for it until the
# server's TCP keepalive (two hours by default), or forever. A follower writes again.
FOLLOWER_IDLE_IN_TRANSACTION = "5s"

_SCHEMA = (
    "CREATE TABLE cti_schema (version integer NOT NULL)",
    # One row per node's log: its id (the advisory lock's key), epoch, last seq and the term
    # of its current writer, plus who that writer is (for the StoreLocked message).
    "CREATE TABLE cti_logs (node text PRIMARY KEY,"
    " id integer GENERATED ALWAYS AS IDENTITY UNIQUE, epoch text NOT NULL,"
    " last_seq bigint NOT NULL DEFAULT 0, term bigint NOT NULL DEFAULT 0,"
    " writer text NOT NULL DEFAULT '')",
    "CREATE TABLE cti_events (node text NOT NULL, seq bigint NOT NULL, ts_ms bigint NOT NULL,"
    " kind text NOT NULL, data bytea NOT NULL, version integer NOT NULL DEFAULT 1,"
    " PRIMARY KEY (node, seq))",
    "CREATE TABLE cti_snapshots (node text NOT NULL, seq bigint NOT NULL, data bytea NOT NULL,"
    " PRIMARY KEY (node, seq))",
    "CREATE TABLE cti_meta (node text NOT NULL, key text NOT NULL, value text NOT NULL,"
    " PRIMARY KEY (node, key))",
)
# The server's TCP keepalive of the writer's session: idle seconds, then probes this far
# apart, this many unanswered before it ends the session (and frees the lock).
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3
_KEEPALIVE = (
    ("tcp_keepalives_idle", str(KEEPALIVE_IDLE)),
    ("tcp_keepalives_interval", str(KEEPALIVE_INTERVAL)),
    ("tcp_keepalives_count", str(KEEPALIVE_COUNT)),
)
#: Seconds after which a standby may hold a lease the writer cannot confirm: the server ends
#: a writer's session it stops hearing from once 3 probes 5 s apart went unanswered, the
#: first sent after 10 s of silence, or sooner if one was due: as soon as 15 s after the
#: last answer (at most 10 + 15 s). A writer stops before that (cti/app/standby.py).
LEASE_TIMEOUT = float(KEEPALIVE_INTERVAL * KEEPALIVE_COUNT)
_SELECT = (
    "SELECT seq, ts_ms, kind, data, version FROM cti_events"
    " WHERE node = %s AND seq >= %s ORDER BY seq LIMIT %s"
)
_COPY = "COPY cti_events (node, seq, ts_ms, kind, data, version) FROM STDIN"
_MOVE_LAST = "UPDATE cti_logs SET last_seq = %s WHERE node = %s AND last_seq = %s AND term = %s"
_SET_META = (
    "INSERT INTO cti_meta (node, key, value) SELECT %(node)s, %(key)s, %(value)s"
    " WHERE EXISTS (SELECT 1 FROM cti_logs WHERE node = %(node)s AND term = %(term)s)"
    " ON CONFLICT (node, key) DO UPDATE SET value = EXCLUDED.value"
)
# The fence of a log: a transaction-level advisory lock beside the writer's (the log's id
# negated). Every transaction that checks the term takes it shared, in a statement of its
# own before the check (the check's snapshot must be taken after the wait); a takeover takes
# it exclusive around its term + 1. Not the log's row FOR SHARE: the server lets new share
# lockers of a row pass an UPDATE waiting for it, so a steady stream of overlapping fenced
# transactions could hold a takeover off for ever; a lock request waits behind earlier
# conflicting ones, so once a takeover waits, only the fenced transactions already running
# finish first.
_FENCE = (
    "SELECT pg_advisory_xact_lock{mode}('cti_logs'::regclass::oid::int, -id)"
    " FROM cti_logs WHERE node = %s"
)
_FENCE_SHARED = _FENCE.format(mode="_shared")
_FENCE_EXCLUSIVE = _FENCE.format(mode="")
# The fence reads the term in a statement after the one that waited for it, which sees what
# a takeover committed meanwhile only at READ COMMITTED (a snapshot per statement): a server,
# database or role default of REPEATABLE READ would let a fenced write pass. Every session of
# the store and the chat sets it, whatever the defaults say.
READ_COMMITTED = "SET default_transaction_isolation = 'read committed'"


def where(dsn: str) -> str:
    """The database a connection string names, without its password (for messages)."""
    try:
        params = conninfo.conninfo_to_dict(dsn)
    except psycopg.Error:
        return "postgresql://(unparsable connection string)"
    user = params.get("user")
    host = params.get("host") or "localhost"
    port = params.get("port")
    db = params.get("dbname") or user or ""
    return f"postgresql://{f'{user}@' if user else ''}{host}{f':{port}' if port else ''}/{db}"


def without_password(dsn: str) -> str:
    """``dsn`` (a postgresql:// URL) as given but for its password: the one after the user
    name and a ``password`` query parameter. Everything else (hosts, the schema in
    ``options``, ``sslmode``) stays as written, so a command built from it opens the same
    log; if a password would still be read from the result, :func:`where` instead."""
    scheme, sep, rest = dsn.partition("://")
    authority, slash, tail = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    if at:
        user = userinfo.partition(":")[0]
        authority = f"{user}@{hosts}" if user else hosts
    path, mark, query = tail.partition("?")
    if mark:
        kept = [item for item in query.split("&") if item.partition("=")[0] != "password"]
        tail = path + ("?" + "&".join(kept) if kept else "")
    out = f"{scheme}{sep}{authority}{slash}{tail}"
    try:
        if conninfo.conninfo_to_dict(out).get("password") is None:
            return out
    except psycopg.Error:
        pass
    return where(dsn)


def check_dsn(dsn: str) -> str:
    """Raise ValueError unless ``dsn`` is a PostgreSQL URL libpq can parse (no connection)."""
    if not dsn.startswith(("postgresql://", "postgres://")):
        raise ValueError("a PostgreSQL store is given as postgresql://[user@]host[:port]/dbname")
    try:
        conninfo.conninfo_to_dict(dsn)
    except psycopg.Error:
        # Neither the text nor libpq's message: both may show a password.
        raise ValueError("libpq cannot parse this postgresql:// connection string") from None
    return dsn


# SQLSTATEs of a session the server ended (admin_shutdown, crash_shutdown, cannot_connect_now),
# and None: the socket closed with no message.
SESSION_ENDED = frozenset({None, "57P01", "57P02", "57P03"})


class PostgresStore:
    """The log of one node in a PostgreSQL database; see the module docstring."""

    _writer: PostgresStore | None = None  # set on a sibling: the store that holds the lock
    _term = 0
    _epoch: str
    _log_id = 0
    _backend = 0  # the server process of the writer's session (its lock, in pg_locks)
    #: True while this store waits for the lock as a hot standby (reads only, see take_over)
    standing_by = False

    def __init__(
        self, dsn: str, node: str, *, application: str = "cti", standby: bool = False
    ) -> None:
        """Open the node's log for writing. With ``standby``, a log whose lock another writer
        holds is not refused: the store stands by (``standing_by``, reads only) until
        :meth:`take_over` gets the lock (specs/store.md, "Hot standby")."""
        self._setup(dsn, node, readonly=False, application=f"{application} {node} writer")
        try:
            self._prepare()
            if not self._try_lock():
                if not standby:
                    raise self._locked()
                self.readonly, self.standing_by = True, True
                self._name(f"{application} {node} standby")
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def open_readonly(cls, dsn: str, node: str) -> PostgresStore:
        """Open an existing log for tools (replay, inspection); every write raises."""
        store = cls.__new__(cls)
        store._setup(dsn, node, readonly=True, application=f"cti {node} reader")
        try:
            with store._guard("open"):
                row = None
                if store._conn.execute("SELECT to_regclass('cti_schema')").fetchone() != (None,):
                    store._check_version(store._conn)
                    row = store._conn.execute(
                        "SELECT epoch FROM cti_logs WHERE node = %s", (node,)
                    ).fetchone()
            if row is None:
                raise StoreError(f"{store.where} holds no event log of node {node!r}")
            store._epoch = str(row[0])
        except BaseException:
            store._conn.close()
            raise
        return store

    @staticmethod
    def exists(dsn: str, node: str) -> bool:
        """Whether the database holds a log of ``node`` (StoreError if it cannot be asked)."""
        try:
            with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
                if conn.execute("SELECT to_regclass('cti_logs')").fetchone() == (None,):
                    return False
                row = conn.execute("SELECT 1 FROM cti_logs WHERE node = %s", (node,)).fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"cannot open event store {where(dsn)}: {_first_line(exc)}") from None
        return row is not None

    def sibling(self, *, readonly: bool = False) -> PostgresStore:
        """A connection of its own for a follower of this process, under this writer's term:
        it reads pages of the log and (unless ``readonly``) keeps its own meta keys, but never
        appends; it is closed with this store."""
        self._check_open("sibling")
        other = PostgresStore.__new__(PostgresStore)
        role = "reader" if readonly or self.readonly else "follower"
        other._setup(
            self._dsn,
            self.node,
            readonly=readonly or self.readonly,
            application=f"cti {self.node} {role}",
        )
        other._epoch, other._log_id = self._epoch, self._log_id
        other._writer = self
        with other._guard("session settings"):
            other._bound()
        self._siblings.append(other)
        return other

    # -- opening ------------------------------------------------------------------------------
    def _setup(self, dsn: str, node: str, *, readonly: bool, application: str) -> None:
        self._dsn, self.node, self.readonly = dsn, node, readonly
        self.where = where(dsn)
        self._closed = False
        self._siblings: list[PostgresStore] = []
        self._application = application[:63]
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                application_name=self._application,
                # A server that vanished without a reset (a partition: packets dropped) ends
                # the connection with an error within seconds, not TCP's minutes: nothing
                # (a read on the event loop, a stop waiting for a save, the lease check)
                # waits for it longer than the lease allows (LEASE_TIMEOUT).
                keepalives=1,
                keepalives_idle=KEEPALIVE_IDLE,
                keepalives_interval=KEEPALIVE_INTERVAL,
                keepalives_count=KEEPALIVE_COUNT,
                tcp_user_timeout=15_000,  # ms: data unacknowledged that long ends it
            )
            conn.execute(READ_COMMITTED)
            return conn
        except psycopg.Error as exc:
            raise StoreError(f"cannot open event store {self.where}: {_first_line(exc)}") from None

    def _bound(self) -> None:
        """A follower's session (not the writer's: it holds the lock, a takeover waits for
        its end anyway): ended by the server when idle in a transaction or its machine gone
        (FOLLOWER_IDLE_IN_TRANSACTION, keepalive), so it never holds the log's row for long.
        Its commits do not wait for the server's WAL flush: a follower's meta keys are its
        position (the outbox's), which a crash may only set back (the events are published
        again, at least once), and the outbox saves it every 0.2 s."""
        settings = (
            ("idle_in_transaction_session_timeout", FOLLOWER_IDLE_IN_TRANSACTION),
            ("synchronous_commit", "off"),
        )
        for setting, value in settings + _KEEPALIVE:
            self._conn.execute("SELECT set_config(%s, %s, false)", (setting, value))

    def _prepare(self) -> None:
        """The schema and the node's log row, created if missing (not locked yet)."""
        with self._transaction("create schema") as conn:
            # Serialise schema creation: two nodes starting at once on a new database.
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS,))
            if conn.execute("SELECT to_regclass('cti_schema')").fetchone() == (None,):
                if conn.execute("SELECT to_regclass('cti_events')").fetchone() != (None,):
                    raise StoreError(f"{self.where} has a cti_events table but no cti_schema")
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("INSERT INTO cti_schema VALUES (%s)", (SCHEMA_VERSION,))
            else:
                self._check_version(conn)
            epoch = uuid.uuid4().hex
            created = conn.execute(
                "INSERT INTO cti_logs (node, epoch) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (self.node, epoch),
            ).rowcount
            if created:
                conn.execute(
                    "INSERT INTO cti_meta VALUES (%s, %s, %s)", (self.node, EPOCH_META_KEY, epoch)
                )
            log_id, epoch = conn.execute(
                "SELECT id, epoch FROM cti_logs WHERE node = %s", (self.node,)
            ).fetchone() or (0, "")
            self._epoch, self._log_id = str(epoch), int(log_id)

    def _try_lock(self) -> bool:
        """Take the log's lock if it is free, and with it the next term; False if held."""
        with self._guard("lock"):
            # If this machine dies, the server must notice that its session (and lock) is
            # gone within ~25 s, not after the system's 2 hours of TCP keepalive (no effect
            # over a Unix socket).
            for setting, value in _KEEPALIVE:
                self._conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
            (locked,) = self._conn.execute(
                "SELECT pg_try_advisory_lock('cti_logs'::regclass::oid::int, %s)",
                (self._log_id,),
            ).fetchone() or (False,)
            if not locked:
                return False
            me = f"pid {os.getpid()} on {socket.gethostname()}"
            with self._conn.transaction():
                self._conn.execute(_FENCE_EXCLUSIVE, (self.node,))
                (self._term,) = self._conn.execute(
                    "UPDATE cti_logs SET term = term + 1, writer = %s WHERE node = %s"
                    " RETURNING term",
                    (me, self.node),
                ).fetchone() or (0,)
            self._backend = self._conn.info.backend_pid
        return True

    def holder(self) -> tuple[str, int]:
        """Who writes the log now, and under which term (for messages)."""
        with self._guard("holder"):
            (writer, term) = self._conn.execute(
                "SELECT writer, term FROM cti_logs WHERE node = %s", (self.node,)
            ).fetchone() or ("", 0)
        return str(writer) or "unknown", int(term)

    def _locked(self) -> StoreLocked:
        writer, _ = self.holder()
        return StoreLocked(
            f"event log of node {self.node} in {self.where} is in use by another "
            f"writer ({writer}): a log has one writer; stop that process, or start this "
            "one with --standby"
        )

    def take_over(self) -> bool:
        """A standing-by store: take the lock if it is free (the writer's session ended),
        becoming the writer under the next term; False while another writer holds it."""
        self._check_open("take over")
        if not self.standing_by:
            raise StoreError(f"take over: this store of node {self.node} is not standing by")
        if not self._try_lock():
            return False
        self.readonly, self.standing_by = False, False
        self._name(self._application.replace(" standby", " writer"))
        return True

    def _name(self, application: str) -> None:
        """The session's name in ``pg_stat_activity`` (and of the next one, if reconnected)."""
        self._application = application[:63]
        with self._guard("name"):
            self._conn.execute(
                "SELECT set_config('application_name', %s, false)", (self._application,)
            )

    def lease_lost(self) -> str | None:
        """None while the writer this store belongs to (itself, or a sibling's) still holds
        the log: its term is the newest and its session still holds the lock. Else why not,
        one line. Asked on a sibling's connection: the writer's own may be busy or broken."""
        writer = self._writer or self
        with self._guard("lease"), self._conn.transaction():
            # Bounded: behind a lock queued on cti_logs (a DROP or ALTER waiting for a
            # session idle in transaction) the check would wait forever, and the node's stop
            # with it. Timed out, it fails as StoreError: the lease is "unknown" this time.
            self._conn.execute(f"SET LOCAL lock_timeout = '{LEASE_LOCK_TIMEOUT}'")
            row = self._conn.execute(
                "SELECT term, writer, EXISTS (SELECT 1 FROM pg_locks WHERE locktype ="
                " 'advisory' AND granted AND pid = %s AND objid = %s AND objsubid = 2)"
                " FROM cti_logs WHERE node = %s",
                (writer._backend, self._log_id or writer._log_id, self.node),
            ).fetchone()
        term, holder, locked = row if row else (0, "", False)
        if term != writer._term:
            return (
                f"the event log of node {self.node} in {self.where} was taken over by "
                f"another writer ({holder}, term {term}; this one had term {writer._term})"
            )
        if not locked:
            return (
                f"this writer's session on {self.where} ended (its lock on the event log of "
                f"node {self.node} is gone)"
            )
        return None

    def _check_version(self, conn: psycopg.Connection[Any]) -> None:
        row = conn.execute("SELECT max(version) FROM cti_schema").fetchone()
        version = row[0] if row else None
        if version is None or version > SCHEMA_VERSION:
            raise StoreError(
                f"event store {self.where} has schema version {version}, newer than the"
                f" {SCHEMA_VERSION} this software knows; use a newer release to open it"
            )

    # -- error handling -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Turn psycopg errors (connection lost, server gone, constraint) into ``StoreError``;
        the writer's lost connection into ``StoreLost``. A follower's or a reader's call that
        found its connection lost fails (followers retry), and the next call opens a new one:
        they hold no lock, and what they write (their position) may be written again."""
        self._check_open(what)
        reconnect = self._conn.broken and (self._writer is not None or self.readonly)
        if reconnect:
            self._conn.close()
            self._conn = self._connect()
        try:
            if reconnect and self._writer is not None:
                self._bound()
            yield
        except psycopg.Error as exc:
            # A server that ended the session can show as a closed socket before psycopg
            # marks the connection broken: no SQLSTATE, or a shutdown one, is the connection.
            gone = self._conn.broken or (
                isinstance(exc, psycopg.OperationalError) and exc.sqlstate in SESSION_ENDED
            )
            lost = gone and self._writer is None and not self.readonly
            raise (StoreLost if lost else StoreError)(
                f"{what} failed on the event log of node {self.node} in {self.where}:"
                f" {_first_line(exc)}"
                + ("; the connection is lost: restart the node" if lost else "")
            ) from exc

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        """One transaction: committed (durably) on success, rolled back on any error."""
        self._check_writable(what)
        with self._guard(what), self._conn.transaction():
            yield self._conn

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise StoreError(f"{what}: event log of node {self.node} in {self.where} is closed")

    def _check_writable(self, what: str) -> None:
        self._check_open(what)
        if self.readonly:
            raise StoreError(f"{what}: event log of node {self.node} is opened read-only")

    def _fenced(self, conn: psycopg.Connection[Any], what: str) -> StoreLocked | None:
        return fenced(conn, self.node, self.term, what)

    @property
    def term(self) -> int:
        """The writer's term (its siblings share it); a higher one in the database fences it."""
        return self._writer.term if self._writer is not None else self._term

    # -- EventStore ---------------------------------------------------------------------------
    @property
    def epoch(self) -> str:
        return self._epoch

    def last_seq(self) -> int:
        with self._guard("last_seq"):
            row = self._conn.execute(
                "SELECT last_seq FROM cti_logs WHERE node = %s", (self.node,)
            ).fetchone()
        return int(row[0]) if row else 0

    def first_seq(self) -> int:
        with self._guard("first_seq"):
            row = self._conn.execute(
                "SELECT coalesce(min(seq), 0) FROM cti_events WHERE node = %s", (self.node,)
            ).fetchone()
        return int(row[0]) if row else 0

    def append(self, events: Sequence[StoredEvent]) -> None:
        if self._writer is not None:
            raise StoreError(f"append on a follower's connection to node {self.node}: one writer")
        if not events:
            self._check_writable("append")
            return
        first, last = events[0].seq, events[-1].seq
        check_sequence(events, first - 1)  # consecutive within the batch
        what = f"append of seq {first}..{last}"
        with self._transaction(what) as conn:
            # The row lock this takes serialises writers; the condition is the fence.
            moved = conn.execute(_MOVE_LAST, (last, self.node, first - 1, self._term)).rowcount
            if not moved:
                fenced = self._fenced(conn, what)
                if fenced is not None:
                    raise fenced
                check_sequence(events, self._last_seq_in(conn))
                raise SequenceGap(f"{what} refused: the log moved meanwhile")  # pragma: no cover
            with conn.cursor().copy(_COPY) as copy:
                for e in events:
                    copy.write_row((self.node, e.seq, e.ts_ms, e.kind, e.data, e.version))

    def _last_seq_in(self, conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT last_seq FROM cti_logs WHERE node = %s", (self.node,)).fetchone()
        return int(row[0]) if row else 0

    def read(self, from_seq: int, limit: int | None = None) -> list[StoredEvent]:
        check_limit(limit)
        with self._guard("read"):
            # Binary results: no text parsing of bytea and integers (replay reads twice as fast).
            cursor = self._conn.cursor(binary=True)
            rows = cursor.execute(_SELECT, (self.node, from_seq, limit)).fetchall()
        return [StoredEvent(*row) for row in rows]

    def iter_from(self, from_seq: int, batch: int = 10_000) -> Iterator[StoredEvent]:
        """Stream in pages of ``batch`` by seq (keyset paging: each page is one indexed
        range scan, no transaction is held open between pages)."""
        check_batch(batch)
        self._check_open("read")  # fail now rather than at the first next()
        return self._stream(from_seq, batch)

    def _stream(self, from_seq: int, batch: int) -> Iterator[StoredEvent]:
        while page := self.read(from_seq, batch):
            yield from page
            from_seq = page[-1].seq + 1

    def save_snapshot(self, snapshot: Snapshot) -> None:
        what = f"snapshot at seq {snapshot.seq}"
        with self._transaction(what) as conn:
            conn.execute(_FENCE_SHARED, (self.node,))
            row = conn.execute(
                "SELECT last_seq, term FROM cti_logs WHERE node = %s", (self.node,)
            ).fetchone()
            last, term = row if row else (0, 0)
            if term != self.term:
                raise self._fenced(conn, what) or StoreError(what)
            if snapshot.seq > last:
                raise StoreError(
                    f"snapshot at seq {snapshot.seq} is ahead of the log (last {last})"
                )
            conn.execute(
                "INSERT INTO cti_snapshots VALUES (%s, %s, %s)"
                " ON CONFLICT (node, seq) DO UPDATE SET data = EXCLUDED.data",
                (self.node, snapshot.seq, snapshot.data),
            )
            conn.execute(
                "DELETE FROM cti_snapshots WHERE node = %(node)s AND seq NOT IN (SELECT seq"
                " FROM cti_snapshots WHERE node = %(node)s ORDER BY seq DESC LIMIT %(kept)s)",
                {"node": self.node, "kept": SNAPSHOTS_KEPT},
            )

    def latest_snapshot(self) -> Snapshot | None:
        with self._guard("latest_snapshot"):
            row = self._conn.execute(
                "SELECT seq, data FROM cti_snapshots WHERE node = %s ORDER BY seq DESC LIMIT 1",
                (self.node,),
            ).fetchone()
        return None if row is None else Snapshot(row[0], row[1])

    def drop_before(self, seq: int) -> int:
        """Delete the events before ``seq`` (retention, after they were archived) and the
        snapshots older than the newest one; the number of events deleted. The last event
        always stays: the sequence goes on from it."""
        if self._writer is not None:
            raise StoreError(f"drop_before on a follower's connection to node {self.node}")
        what = f"drop events before seq {seq}"
        with self._transaction(what) as conn:
            conn.execute(_FENCE_SHARED, (self.node,))  # before the row's lock, as fenced() says
            row = conn.execute(
                "SELECT last_seq, term FROM cti_logs WHERE node = %s FOR UPDATE", (self.node,)
            ).fetchone()
            last, term = row if row else (0, 0)
            if term != self._term:
                raise self._fenced(conn, what) or StoreError(what)
            if seq > last:
                raise StoreError(f"cannot drop up to seq {seq}: the last event is {last}")
            (snap,) = conn.execute(
                "SELECT coalesce(max(seq), 0) FROM cti_snapshots WHERE node = %s", (self.node,)
            ).fetchone() or (0,)
            if seq > snap + 1:
                raise StoreError(f"no snapshot at or after seq {seq - 1}: the state needs them")
            dropped = conn.execute(
                "DELETE FROM cti_events WHERE node = %s AND seq < %s", (self.node, seq)
            ).rowcount
            conn.execute(
                "DELETE FROM cti_snapshots WHERE node = %s AND seq < %s", (self.node, snap)
            )
        return int(dropped)

    def get_meta(self, key: str) -> str | None:
        with self._guard(f"get meta {key!r}"):
            row = self._conn.execute(
                "SELECT value FROM cti_meta WHERE node = %s AND key = %s", (self.node, key)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        check_meta_key(key)
        what = f"set meta {key!r}"
        with self._transaction(what) as conn:
            conn.execute(_FENCE_SHARED, (self.node,))
            params = {"node": self.node, "key": key, "value": value, "term": self.term}
            if not conn.execute(_SET_META, params).rowcount:
                raise self._fenced(conn, what) or StoreError(f"{what}: no log of {self.node}")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for sibling in self._siblings:
            sibling.close()  # a follower's connection does not outlive the writer
        try:
            self._conn.close()  # ending the session releases the advisory lock
        except psycopg.Error as exc:
            raise StoreError(f"closing event store {self.where} failed: {exc}") from exc

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def fenced(conn: psycopg.Connection[Any], node: str, term: int, what: str) -> StoreLocked | None:
    """None while ``term`` is still the newest of ``node``'s log; else the StoreLocked that
    refuses ``what``. Holds the log's fence (``_FENCE``) shared in the caller's transaction
    until it ends: a new writer's ``term + 1`` waits for this transaction, so what it writes
    is committed under the term it checked or not at all. The one fence of the log's writer,
    its followers and the chat (cti/chat/chat_db.py). Take it before any lock on the log's
    row in the same transaction: a takeover holds the fence while it updates that row."""
    conn.execute(_FENCE_SHARED, (node,))
    (newest, writer) = conn.execute(
        "SELECT term, writer FROM cti_logs WHERE node = %s", (node,)
    ).fetchone() or (0, "")
    if newest == term:
        return None
    return StoreLocked(
        f"{what} refused: the event log of node {node} was taken over by another "
        f"writer ({writer}, term {newest}; this one has term {term})"
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
