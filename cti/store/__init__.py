"""Where events are stored: an append-only, gap-free log of opaque records plus snapshots.

``SqliteStore`` is the default durable store (one file); ``PostgresStore`` keeps the logs of
many nodes in one PostgreSQL database; ``MemoryStore`` is for unit tests. All implement the
``EventStore`` protocol from ``cti.store.base``; ``cti.store.location`` opens the one a
``--store`` value names. (``PostgresStore`` is imported from ``cti.store.postgres``, so that
psycopg loads only for a node that uses it.)
"""

from cti.store.base import (
    SNAPSHOTS_KEPT,
    EventStore,
    SequenceGap,
    Snapshot,
    StoredEvent,
    StoreError,
    StoreLocked,
    StoreLost,
)
from cti.store.memory import MemoryStore
from cti.store.sqlite import SCHEMA_VERSION, SqliteStore

__all__ = [
    "SCHEMA_VERSION",
    "SNAPSHOTS_KEPT",
    "EventStore",
    "MemoryStore",
    "SequenceGap",
    "Snapshot",
    "SqliteStore",
    "StoreError",
    "StoreLocked",
    "StoreLost",
    "StoredEvent",
]
