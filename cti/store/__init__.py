"""Where events are stored: an append-only, gap-free log of opaque records plus snapshots.

``SqliteStore`` is the durable store; ``MemoryStore`` is for unit tests. Both implement the
``EventStore`` protocol from ``cti.store.base``.
"""

from cti.store.base import (
    SNAPSHOTS_KEPT,
    EventStore,
    SequenceGap,
    Snapshot,
    StoredEvent,
    StoreError,
    StoreLocked,
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
    "StoredEvent",
]
