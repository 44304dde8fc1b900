"""The chat's own store (IM-01..03, specs/chat.md "Storage"): an SQLite file ``{node}.chat.db``
or, for a node whose log is in PostgreSQL, ``chat_*`` tables in the same database (a column
``node`` keeps the nodes of one database apart). Never the call log: chat volume neither waits
for nor delays the node's writer.

- :class:`ChatDb`: the tables and what a request does to them, on one connection, used by one
  thread at a time (the writer's worker thread).
- :class:`ChatWriter`: the one writer of a node's chat. Requests queue; a batch of them runs in
  one transaction, each in a savepoint of its own (a refused or failing one changes nothing and
  leaves the others be), and is committed with one fsync (group commit) before any of them is
  answered: persist, then publish, then reply.

On PostgreSQL the chat is fenced like the log (specs/store.md, "fencing"): every batch checks,
last before its commit, that the node's writer still holds the log's term, with the log's own
check (:func:`cti.store.postgres.fenced`); a node that lost the log to a standby commits no
chat. A session the server ended is dialled again (with a growing pause while the database
does not answer); a batch that met the end before its commit runs once more on the new one.

Idempotent send: ``UNIQUE (node, sender, client_id)``; a second send with the same client id
answers the first message (``duplicate``). Order: ``seq`` per conversation, assigned here.
History (IM-03): every message has a copy for each of its two users (``chat_copies``); a user
keeps the copies of their newest :data:`~cti.chat.model.HISTORY` messages and a message goes
when neither user keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs
import structlog

from cti.app.read_model_db import open_wal
from cti.chat.model import HISTORY, Message, conversation, partner_of
from cti.kernel.refusal import Refusal, invalid_field
from cti.store.base import StoreLocked

if TYPE_CHECKING:
    import psycopg

log = structlog.get_logger(__name__)
T = TypeVar("T")
MAX_BATCH = 256  # requests in one transaction
MAX_QUEUE = 10_000  # requests waiting: beyond, refused as resourceBusy
# Seconds between dials of a chat database that does not answer: doubling, bounded. Meanwhile
# a batch fails at once (resourceOutOfService) instead of waiting for a connect timeout each.
FIRST_PAUSE = 0.2
MAX_PAUSE = 10.0
# PostgreSQL: how long the server keeps a chat session that sits idle inside a transaction
# (its process stopped or its machine gone between two statements of a batch). The fence
# (the log's advisory lock, shared) is held until the commit: without this bound a standby's
# takeover (term + 1) would wait for such a session until the server's TCP keepalive, over
# two hours by default, or forever for a paused process. A batch is never idle that long; one whose
# session was ended before its commit runs again on a new one.
IDLE_IN_TRANSACTION = "5s"
# The server's own keepalive of a chat session (PG_LINK's is the client's): a dead machine's
# session ends within about 25 s, like the log writer's.
SERVER_KEEPALIVE = (
    ("tcp_keepalives_idle", "10"),
    ("tcp_keepalives_interval", "5"),
    ("tcp_keepalives_count", "3"),
)

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS chat_messages (
        node TEXT NOT NULL, n BIGINT NOT NULL, conv TEXT NOT NULL, seq BIGINT NOT NULL,
        sender TEXT NOT NULL, recipient TEXT NOT NULL, client_id TEXT NOT NULL,
        text TEXT NOT NULL, at BIGINT NOT NULL,
        PRIMARY KEY (node, n), UNIQUE (node, sender, client_id), UNIQUE (node, conv, seq))""",
    """CREATE TABLE IF NOT EXISTS chat_copies (
        node TEXT NOT NULL, owner TEXT NOT NULL, n BIGINT NOT NULL,
        PRIMARY KEY (node, owner, n))""",
    "CREATE INDEX IF NOT EXISTS chat_copies_n ON chat_copies (node, n)",
    """CREATE TABLE IF NOT EXISTS chat_conversations (
        node TEXT NOT NULL, conv TEXT NOT NULL, last_seq BIGINT NOT NULL,
        PRIMARY KEY (node, conv))""",
    """CREATE TABLE IF NOT EXISTS chat_reads (
        node TEXT NOT NULL, owner TEXT NOT NULL, conv TEXT NOT NULL, read_seq BIGINT NOT NULL,
        PRIMARY KEY (node, owner, conv))""",
]
COLUMNS = "n, conv, seq, sender, recipient, client_id, text, at"
# The chat's PostgreSQL connection gives up on a database it cannot reach instead of waiting
# for the system's TCP timeouts (2 hours idle, ~15 min unacknowledged): a writer stuck in a
# query would hold every chat request, and those would fill the MQTT face's MAX_PENDING,
# turning away call control's requests too. A failed batch is answered resourceOutOfService.
PG_LINK: dict[str, Any] = {
    "connect_timeout": 10,
    "application_name": "cti-chat",
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # ms: data the server never acknowledges
}


class StoreFailed(Exception):
    """The chat store could not commit: nothing was changed. ``reason`` for programs:
    ``failed`` (disk full, a lock, an error of the database), ``unavailable`` (its database
    does not answer; the writer dials it again), ``fenced`` (another process took over the
    node's log: this one stores no chat any more), or ``commitUnknown``: the session ended
    during the commit, so whether the batch was stored is not known (a send retried with
    its clientId is answered once, stored or not)."""

    def __init__(self, message: str, reason: str = "failed") -> None:
        super().__init__(message)
        self.reason = reason


class _SessionLost(Exception):
    """The PostgreSQL session ended before the batch's commit: nothing of it is stored."""


class Connection(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...


@attrs.frozen
class Sent:
    """What a send did: the message, and whether it was there already (same client id)."""

    message: Message
    duplicate: bool


@attrs.frozen
class Conversation:
    partner: str
    last_seq: int  # the newest message's seq
    read_seq: int  # the user's read watermark
    unread: int  # messages from the partner after the watermark the user still keeps
    kept: int  # messages of the conversation the user still keeps (IM-03)


class ChatDb:
    """The chat tables of one node on one connection (see the module)."""

    def __init__(
        self,
        conn: Any,
        node: str,
        *,
        postgres: bool,
        close: Callable[[], None],
        history: int = HISTORY,
        reopen: Callable[[], Any] | None = None,
        term: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._conn = conn
        self._reopen = reopen
        # PostgreSQL: the term of the node's log writer this chat belongs to (None: unfenced,
        # a store without a log, for tests and tools); ``fenced`` says why once a newer one
        # was found (terms only grow: for good).
        self.term = term
        self.fenced: str | None = None
        self._clock = clock
        self._pause = 0.0  # the pause after the last failed dial (0: the last one worked)
        self._retry_at = 0.0  # no dial before this time of the clock
        self.history = history  # IM-03's 100; smaller in property tests
        self.node = node
        self.postgres = postgres
        self._close = close
        for statement in SCHEMA:
            self._x(statement)
        self._commit()
        row = self._one("SELECT MAX(n) FROM chat_messages WHERE node = ?", node)
        self._n = int(row[0] or 0) if row else 0
        # Not left open until the first request: a PostgreSQL session "idle in transaction"
        # holds its table locks (a DROP or ALTER waits forever, and every query after it,
        # the node's lease check included) and keeps VACUUM from cleaning up.
        self._commit()

    @classmethod
    def sqlite(cls, path: Path, node: str, *, history: int = HISTORY) -> ChatDb:
        # FULL: an acknowledged message survives a power cut, not only a kill -9.
        conn = open_wal(path, synchronous="FULL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("BEGIN")
        return cls(conn, node, postgres=False, close=conn.close, history=history)

    @classmethod
    def postgresql(
        cls,
        dsn: str,
        node: str,
        *,
        term: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> ChatDb:
        """The chat of ``node`` in PostgreSQL, fenced by ``term``: the term of the node's log
        writer (``PostgresStore.term``); None only where no log is (tests)."""
        import psycopg  # only for a node whose log is in PostgreSQL

        def connect() -> psycopg.Connection[Any]:
            conn = psycopg.connect(dsn, autocommit=False, **PG_LINK)
            try:
                settings = (
                    ("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION),
                    # The log's fence needs it (READ_COMMITTED in cti/store/postgres.py).
                    ("default_transaction_isolation", "read committed"),
                )
                for setting, value in settings + SERVER_KEEPALIVE:
                    conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
                conn.commit()
            except BaseException:
                conn.close()
                raise
            return conn

        conn = connect()
        return cls(
            conn, node, postgres=True, close=conn.close, reopen=connect, term=term, clock=clock
        )

    def close(self) -> None:
        self._close()

    def ensure_open(self) -> None:
        """A PostgreSQL session that ended (a server restart, a failover, an admin's
        pg_terminate_backend) stays closed: dial a new one. While the database does not
        answer, dial at most once per pause (FIRST_PAUSE doubling to MAX_PAUSE) and fail at
        once in between: StoreFailed ``unavailable``, the batch changes nothing."""
        if self._reopen is None or not self._conn.closed:
            return
        now = self._clock()
        if now < self._retry_at:
            raise _unavailable()
        log.warning("chat.store_reconnecting")
        try:
            conn = self._reopen()
        except Exception as exc:
            self._pause = min(self._pause * 2, MAX_PAUSE) if self._pause else FIRST_PAUSE
            self._retry_at = now + self._pause
            error = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            log.warning("chat.store_unreachable", error=error, retry_in_s=self._pause)
            raise _unavailable() from None
        self._conn, self._close = conn, conn.close
        self._pause = self._retry_at = 0.0
        log.info("chat.store_reconnected")

    def session_ended(self, exc: BaseException) -> bool:
        """Whether ``exc`` is this PostgreSQL session's end (the server ended it, the network
        dropped it). If so the connection is closed, so that :meth:`ensure_open` dials a new
        one even where psycopg has not marked it broken yet (a socket closed without a
        message)."""
        if self._reopen is None:
            return False
        import psycopg

        from cti.store.postgres import SESSION_ENDED

        gone = bool(self._conn.closed) or (
            isinstance(exc, psycopg.OperationalError) and exc.sqlstate in SESSION_ENDED
        )
        if gone:
            with contextlib.suppress(Exception):
                self._conn.close()
        return gone

    def fence(self) -> None:
        """PostgreSQL: raise StoreLocked unless the node's writer still holds the log's term
        (the log's own check, which holds the log's fence until this transaction ends: a
        standby's takeover waits for this commit). Last before the commit: the fence is held
        for the commit only, not for the batch's work."""
        if not self.postgres or self.term is None:
            return
        from cti.store.postgres import LEASE_LOCK_TIMEOUT, fenced

        # Behind a DDL statement queued on cti_logs the check would wait forever: fail the
        # batch instead (nothing stored; the next batch tries again).
        self._x(f"SET LOCAL lock_timeout = '{LEASE_LOCK_TIMEOUT}'")
        refused = fenced(self._conn, self.node, self.term, "chat")
        if refused is not None:
            raise refused

    # -- the connection ---------------------------------------------------------------------
    def _x(self, sql: str, *params: Any) -> Any:
        if self.postgres:
            sql = sql.replace("?", "%s")
        return self._conn.execute(sql, params)

    def _one(self, sql: str, *params: Any) -> Any:
        return self._x(sql, *params).fetchone()

    def _all(self, sql: str, *params: Any) -> list[Any]:
        return list(self._x(sql, *params).fetchall())

    def _commit(self) -> None:
        if self.postgres:
            self._conn.commit()
        else:
            self._conn.execute("COMMIT")
            self._conn.execute("BEGIN")

    def rollback(self) -> None:
        if self.postgres:
            if not self._conn.closed:  # an ended session rolled the transaction back itself
                self._conn.rollback()
        else:
            if self._conn.in_transaction:  # SQLite may have rolled it back itself (disk full)
                self._conn.execute("ROLLBACK")
            self._conn.execute("BEGIN")

    def commit(self) -> None:
        self._commit()

    def savepoint(self) -> None:
        self._x("SAVEPOINT op")

    def release(self, ok: bool) -> None:
        if not ok:
            self._x("ROLLBACK TO SAVEPOINT op")
        self._x("RELEASE SAVEPOINT op")

    # -- what requests do ---------------------------------------------------------------------
    def send(self, sender: str, recipient: str, client_id: str, text: str, at: int) -> Sent:
        """Store a message (checked by the caller), or answer the one with the same client id."""
        again = self.retry(sender, recipient, client_id, text)
        if again is not None:
            return again
        conv = conversation(sender, recipient)
        row = self._one(
            "SELECT last_seq FROM chat_conversations WHERE node = ? AND conv = ?", self.node, conv
        )
        seq = (int(row[0]) if row else 0) + 1
        self._x(
            "INSERT INTO chat_conversations (node, conv, last_seq) VALUES (?, ?, ?) "
            "ON CONFLICT (node, conv) DO UPDATE SET last_seq = excluded.last_seq",
            self.node,
            conv,
            seq,
        )
        self._n += 1
        message = Message(self._n, conv, seq, sender, recipient, client_id, text, at)
        self._x(
            f"INSERT INTO chat_messages (node, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.node,
            *attrs.astuple(message),
        )
        for owner in (sender, recipient):
            self._x(
                "INSERT INTO chat_copies (node, owner, n) VALUES (?, ?, ?)",
                self.node,
                owner,
                message.n,
            )
            self._trim(owner)
        return Sent(message, duplicate=False)

    def retry(self, sender: str, recipient: str, client_id: str, text: str) -> Sent | None:
        """The stored message of ``client_id`` if this is a retry of it; None if the id is
        new; refused if the id was used for another message."""
        message = self.by_client_id(sender, client_id)
        if message is None:
            return None
        if message.recipient != recipient or message.text != text:
            raise invalid_field(
                "clientId", "reused", f"clientId {client_id!r} was already used for another message"
            )
        return Sent(message, duplicate=True)

    def by_client_id(self, sender: str, client_id: str) -> Message | None:
        row = self._one(
            f"SELECT {COLUMNS} FROM chat_messages WHERE node = ? AND sender = ? AND client_id = ?",
            self.node,
            sender,
            client_id,
        )
        return None if row is None else _message(row)

    def _trim(self, owner: str) -> None:
        """IM-03: the owner keeps their newest HISTORY messages; a message neither user keeps
        is deleted."""
        row = self._one(
            "SELECT n FROM chat_copies WHERE node = ? AND owner = ? "
            "ORDER BY n DESC LIMIT 1 OFFSET ?",
            self.node,
            owner,
            self.history,
        )
        if row is None:
            return
        cut = int(row[0])
        gone = [
            int(r[0])
            for r in self._all(
                "SELECT n FROM chat_copies WHERE node = ? AND owner = ? AND n <= ?",
                self.node,
                owner,
                cut,
            )
        ]
        self._x(
            "DELETE FROM chat_copies WHERE node = ? AND owner = ? AND n <= ?", self.node, owner, cut
        )
        for n in gone:
            kept = self._one("SELECT 1 FROM chat_copies WHERE node = ? AND n = ?", self.node, n)
            if kept is None:
                self._x("DELETE FROM chat_messages WHERE node = ? AND n = ?", self.node, n)

    def messages(self, user: str, partner: str, since: int, limit: int) -> list[Message]:
        """The conversation's messages ``user`` keeps with ``seq`` > ``since``, oldest first."""
        rows = self._all(
            f"SELECT {', '.join('m.' + c for c in COLUMNS.split(', '))} "
            "FROM chat_copies c JOIN chat_messages m ON m.node = c.node AND m.n = c.n "
            "WHERE c.node = ? AND c.owner = ? AND m.conv = ? AND m.seq > ? "
            "ORDER BY m.seq LIMIT ?",
            self.node,
            user,
            conversation(user, partner),
            since,
            limit,
        )
        return [_message(r) for r in rows]

    def last_seq(self, user: str, partner: str) -> int:
        row = self._one(
            "SELECT last_seq FROM chat_conversations WHERE node = ? AND conv = ?",
            self.node,
            conversation(user, partner),
        )
        return int(row[0]) if row else 0

    def read_seq(self, user: str, partner: str) -> int:
        row = self._one(
            "SELECT read_seq FROM chat_reads WHERE node = ? AND owner = ? AND conv = ?",
            self.node,
            user,
            conversation(user, partner),
        )
        return int(row[0]) if row else 0

    def mark_read(self, user: str, partner: str, seq: int) -> int:
        """Move the user's read watermark of the conversation up to ``seq`` (never down); the
        watermark now."""
        last = self.last_seq(user, partner)
        if seq > last:
            raise invalid_field(
                "seq", "beyondLast", f"the conversation's newest message is seq {last}"
            )
        new = max(seq, self.read_seq(user, partner))
        self._x(
            "INSERT INTO chat_reads (node, owner, conv, read_seq) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (node, owner, conv) DO UPDATE SET read_seq = excluded.read_seq",
            self.node,
            user,
            conversation(user, partner),
            new,
        )
        return new

    def conversations(self, user: str) -> list[Conversation]:
        """The user's conversations with a message the user keeps, the newest first."""
        rows = self._all(
            "SELECT m.conv, MAX(m.n), COUNT(*) FROM chat_copies c "
            "JOIN chat_messages m ON m.node = c.node AND m.n = c.n "
            "WHERE c.node = ? AND c.owner = ? GROUP BY m.conv ORDER BY MAX(m.n) DESC",
            self.node,
            user,
        )
        out = []
        for conv, _newest, kept in rows:
            partner = partner_of(conv, user)
            read = self.read_seq(user, partner)
            unread = self._one(
                "SELECT COUNT(*) FROM chat_copies c "
                "JOIN chat_messages m ON m.node = c.node AND m.n = c.n "
                "WHERE c.node = ? AND c.owner = ? AND m.conv = ? AND m.seq > ? AND m.sender <> ?",
                self.node,
                user,
                conv,
                read,
                user,
            )[0]
            out.append(
                Conversation(partner, self.last_seq(user, partner), read, int(unread), int(kept))
            )
        return out

    def forget(self, owner: str) -> None:
        """A removed account's chat: its copies and read watermarks go, and the messages no
        one keeps now (whoever is given the name later must not read it). The partners keep
        their copies: their history is theirs."""
        self._x("DELETE FROM chat_copies WHERE node = ? AND owner = ?", self.node, owner)
        self._x("DELETE FROM chat_reads WHERE node = ? AND owner = ?", self.node, owner)
        self._x(
            "DELETE FROM chat_messages WHERE node = ? AND (sender = ? OR recipient = ?) "
            "AND NOT EXISTS (SELECT 1 FROM chat_copies c "
            "WHERE c.node = chat_messages.node AND c.n = chat_messages.n)",
            self.node,
            owner,
            owner,
        )

    def owners(self) -> set[str]:
        """Every user with a copy or a read watermark here."""
        rows = self._all(
            "SELECT owner FROM chat_copies WHERE node = ? "
            "UNION SELECT owner FROM chat_reads WHERE node = ?",
            self.node,
            self.node,
        )
        return {str(r[0]) for r in rows}

    def forget_all_but(self, accounts: set[str]) -> list[str]:
        """:meth:`forget` every owner that is none of ``accounts``; those forgotten."""
        gone = sorted(self.owners() - accounts)
        for owner in gone:
            self.forget(owner)
        return gone

    def kept(self, user: str) -> int:
        """How many messages the user keeps (at most HISTORY)."""
        row = self._one(
            "SELECT COUNT(*) FROM chat_copies WHERE node = ? AND owner = ?", self.node, user
        )
        return int(row[0])

    def stored(self) -> int:
        """How many messages the node stores (for tests and the bound's check)."""
        row = self._one("SELECT COUNT(*) FROM chat_messages WHERE node = ?", self.node)
        return int(row[0])


def _message(row: Sequence[Any]) -> Message:
    n, conv, seq, sender, recipient, client_id, text, at = row
    return Message(int(n), conv, int(seq), sender, recipient, client_id, text, int(at))


@attrs.define
class _Job:
    op: Callable[[ChatDb], Any]
    done: asyncio.Future[Any]


class ChatWriter:
    """The one writer of a node's chat (see the module). :meth:`run` is its task (run it
    supervised); :meth:`submit` hands it an operation and waits for the committed result."""

    def __init__(self, db: ChatDb, *, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self.batches = 0  # committed transactions (for the benchmark and tests)

    async def submit(self, op: Callable[[ChatDb], T]) -> T:
        """Run ``op`` on the store in the next batch; its result once committed, or its
        Refusal (nothing of it stored), or StoreFailed."""
        if self._queue.qsize() >= MAX_QUEUE:
            raise Refusal("resourceBusy", "the chat store has too many requests in hand")
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(op, done))
        return await done

    async def run(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < self.max_batch and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            jobs = [j for j in jobs if not j.done.cancelled()]
            work = asyncio.ensure_future(asyncio.to_thread(self._apply, [j.op for j in jobs]))
            # A worker thread cannot be stopped: when cancelled (the node stopping), finish
            # the batch first, so the store is never closed under it (a crash) and its
            # requests are answered with what it did (a commit is not "nothing stored").
            stopping = False
            while not work.done():
                try:
                    await asyncio.shield(work)
                except asyncio.CancelledError:
                    stopping = True
                except BaseException:
                    break  # the batch's own failure: below
            try:
                results = work.result()
            except Exception as exc:
                failure = (
                    exc
                    if isinstance(exc, StoreFailed)
                    else StoreFailed(f"the chat store did not commit: {exc}")
                )
                for job in jobs:
                    if not job.done.done():
                        job.done.set_exception(failure)
                log.error(
                    "chat.commit_failed", error=str(exc), reason=failure.reason, requests=len(jobs)
                )
            else:
                self.batches += 1
                for job, (ok, value) in zip(jobs, results, strict=True):
                    if job.done.done():
                        continue
                    if ok:
                        job.done.set_result(value)
                    else:
                        job.done.set_exception(value)
            if stopping:
                raise asyncio.CancelledError

    def _apply(self, ops: list[Callable[[ChatDb], Any]]) -> list[tuple[bool, Any]]:
        """In the worker thread: the batch, run once more on a new session if the server
        ended the old one before the commit (nothing of it was stored: an idle session
        ended by a restart or an admin costs no request)."""
        if self.db.fenced is not None:
            raise StoreFailed(self.db.fenced, "fenced")
        try:
            return self._attempt(ops)
        except _SessionLost:
            log.warning("chat.session_ended", retry=True)
        try:
            return self._attempt(ops)
        except _SessionLost:
            raise _unavailable() from None

    def _attempt(self, ops: list[Callable[[ChatDb], Any]]) -> list[tuple[bool, Any]]:
        """Every op in a savepoint, the fence, then one commit."""
        db = self.db
        out: list[tuple[bool, Any]] = []
        db.ensure_open()
        committing = False
        try:
            for op in ops:
                db.savepoint()
                try:
                    value = op(db)
                except Refusal as refusal:
                    db.release(False)
                    out.append((False, refusal))
                    continue
                except Exception as exc:  # a bug in one op: refuse it, keep the others
                    if _lost(exc):
                        raise
                    log.exception("chat.op_failed")
                    db.release(False)
                    out.append((False, exc))
                    continue
                db.release(True)
                out.append((True, value))
            db.fence()
            committing = True
            db.commit()
        except BaseException as exc:
            ended = isinstance(exc, Exception) and db.session_ended(exc)
            try:
                db.rollback()
            except Exception:  # the connection is gone; the error above is what counts
                log.exception("chat.rollback_failed")
            if isinstance(exc, StoreLocked):
                # For the user: the terms, not the other writer's host and pid (the log's).
                db.fenced = (
                    f"this node no longer holds its event log (another process took it over;"
                    f" this one had term {db.term}), so it stores no chat: nothing stored;"
                    " the node that took over serves the chat"
                )
                log.error("chat.fenced", reason=str(exc))
                raise StoreFailed(db.fenced, "fenced") from None
            if ended and committing:
                raise StoreFailed(
                    "the chat store's session ended during the commit: whether this was"
                    " stored is not known; a message sent again with the same clientId is"
                    " stored once",
                    "commitUnknown",
                ) from None
            if ended:
                raise _SessionLost from exc
            raise
        return out


def _unavailable() -> StoreFailed:
    return StoreFailed(
        "the chat store is unavailable (its database does not answer; the node connects"
        " again): nothing stored, try again",
        "unavailable",
    )


def _lost(exc: Exception) -> bool:
    """A store failure (not a bug of the op): the whole batch fails."""
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.OperationalError)
