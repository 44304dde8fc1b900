"""A private PostgreSQL schema per test (specs/store.md, "PostgreSQL").

The server is ``CTI_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``,
what ``.ci/run`` provides). Each test gets a schema of its own with a random name, reached
through ``search_path`` in the connection string, and dropped afterwards. A test that needs
PostgreSQL FAILS when the server is missing: it is part of the product, not an extra.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest

from cti.store.postgres import where

DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def server() -> str:
    return os.environ.get("CTI_TEST_POSTGRES", "").strip() or DEFAULT


def in_schema(dsn: str, schema: str) -> str:
    """``dsn`` with ``search_path`` set to ``schema``, where the store makes its tables."""
    glue = "&" if "?" in dsn else "?"
    return f"{dsn}{glue}options={quote(f'-csearch_path={schema}')}"


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(server(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is needed for this test and {where(server())} does not answer ({exc}); "
            "run .ci/run or set CTI_TEST_POSTGRES",
            pytrace=False,
        )


@contextlib.contextmanager
def private_schema() -> Iterator[str]:
    """A connection string whose tables live in a new schema, dropped on exit."""
    schema = f"cti_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield in_schema(server(), schema)
    finally:
        with _admin() as admin:
            # A session still in a transaction on these tables (a process of the test left
            # running, a connection left "idle in transaction") would make the drop wait
            # forever, with every later query of that process queued behind it: fail instead.
            admin.execute("SET lock_timeout = '20s'")
            try:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")
            except psycopg.errors.LockNotAvailable:
                holders = admin.execute(
                    "SELECT pid, state, application_name, left(query, 120) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
                ).fetchall()
                pytest.fail(f"schema {schema} is still locked; in a transaction: {holders}")


def wait_for_writer_gone(dsn: str, node: str, timeout: float = 10) -> None:
    """Wait (bounded) until no session holds the writer's lock of ``node``'s log in this
    ``dsn``'s schema: a killed process's session ends when the server notices the closed
    socket, not at once. (This schema's only: other runs may share the server.)"""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid::int = 'cti_logs'::regclass::oid::int AND objsubid = 2"
            " AND objid::bigint = (SELECT id FROM cti_logs WHERE node = %s)",
            (node,),
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, f"the writer of {node} still has a session"
            time.sleep(0.01)


def execute(dsn: str, statement: str) -> None:
    """Run one statement on ``dsn`` from a connection of its own (to break a store)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement)


def wait_backend_gone(dsn: str, pid: int, timeout: float = 10.0) -> None:
    """Until the server has ended backend ``pid``: a client's close returns before the server
    process exits and frees what the session held (its advisory locks)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, f"backend {pid} still there after {timeout} s"
            time.sleep(0.01)  # polling a condition, bounded above
