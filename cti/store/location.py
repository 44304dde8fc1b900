"""Where a node's log is: ``sqlite`` (the default, ``<data-dir>/<node>.db``) or a PostgreSQL
connection string (``--store`` / ``CTI_STORE``, specs/store.md and specs/configuration.md)."""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from cti.store.base import EventStore, RetainedStore

SQLITE = "sqlite"


def is_postgres(store: str) -> bool:
    return store.startswith(("postgresql://", "postgres://"))


def parse(text: str) -> str:
    """``sqlite`` or a PostgreSQL URL libpq accepts; ValueError (without the password) else."""
    if text.strip().lower() == SQLITE:
        return SQLITE
    if not is_postgres(text):
        # Not echoed: a mistyped URL may hold a password.
        raise ValueError("neither 'sqlite' nor postgresql://[user@]host[:port]/dbname")
    from cti.store.postgres import check_dsn  # here: psycopg loads only when it is used

    return check_dsn(text)


def describe(store: str, data_dir: Path, node: str) -> str:
    """The log for messages and the banner: the file, or the database without its password."""
    if not is_postgres(store):
        return str(data_dir / f"{node}.db")
    from cti.store.postgres import where

    return f"{where(store)} (node {node})"


def open_writer(store: str, data_dir: Path, node: str, *, standby: bool = False) -> RetainedStore:
    """Open the node's log for writing (its one writer); StoreError/StoreLocked as the store
    raises them. ``standby`` (PostgreSQL only): a log held by another writer gives a store
    that stands by (``PostgresStore.standing_by``) instead of StoreLocked."""
    if is_postgres(store):
        from cti.store.postgres import PostgresStore

        return PostgresStore(store, node, standby=standby)
    if standby:
        raise ValueError(
            "--standby needs a PostgreSQL log (--store postgresql://...): an SQLite log is "
            "a file of one machine"
        )
    from cti.store.sqlite import SqliteStore

    return SqliteStore(data_dir / f"{node}.db")


def exists(store: str, data_dir: Path, node: str) -> bool:
    """Whether the node has a log yet (a tool falls back to the site file when not)."""
    if is_postgres(store):
        from cti.store.postgres import PostgresStore

        return PostgresStore.exists(store, node)
    return (data_dir / f"{node}.db").exists()


def open_reader(store: str, data_dir: Path, node: str) -> EventStore:
    """Open an existing log for a tool; every write through it raises StoreError."""
    if is_postgres(store):
        from cti.store.postgres import PostgresStore

        return PostgresStore.open_readonly(store, node)
    from cti.store.sqlite import SqliteStore

    return SqliteStore.open_readonly(data_dir / f"{node}.db")


def store_flag(store: str, environ: Mapping[str, str] = os.environ) -> str:
    """``--store`` for a command printed to run next (`cti serve`, `cti devices`): the
    PostgreSQL log, else it would make an SQLite one in --data-dir. A password in it is
    not printed (PGPASSWORD, ~/.pgpass). Empty when it came from CTI_STORE: the tools read
    that too, password and all, which a printed flag (without it) would override."""
    if not is_postgres(store):
        return ""
    with contextlib.suppress(ValueError):
        if parse(environ.get("CTI_STORE", "").strip()) == store:
            return ""
    from psycopg import conninfo

    from cti.store.postgres import without_password

    has_password = conninfo.conninfo_to_dict(store).get("password")
    shown = without_password(store) if has_password else store
    return f" --store {shlex.quote(shown)}"
