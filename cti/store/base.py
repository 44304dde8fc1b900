"""The event store contract: records, errors and the ``EventStore`` protocol.

The store knows nothing about the domain. It keeps opaque serialized events in one global,
gap-free sequence (1, 2, 3, ...), a few state snapshots and a small key/value table.

Errors: ``StoreError`` means the store could not do what was asked (the data is not durable,
or could not be read); ``SequenceGap`` is the append-order subset of it. Calling a method with
nonsensical arguments (a negative limit, a reserved meta key) is a programming error and raises
``ValueError`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import attrs

#: Snapshots kept by ``save_snapshot``; older ones are deleted (the log can always rebuild them).
SNAPSHOTS_KEPT = 3

#: Meta keys with this prefix belong to the store itself (e.g. its epoch) and cannot be set.
RESERVED_META_PREFIX = "store."
EPOCH_META_KEY = "store.epoch"


@attrs.frozen
class StoredEvent:
    """One recorded event."""

    seq: int  # global, gap-free, starting at 1
    ts_ms: int  # wall-clock ms since the Unix epoch (UTC) when recorded
    kind: str  # event type name, e.g. "delivered"
    data: bytes  # serialized event (JSON bytes), opaque to the store
    version: int = 1  # the version of the event's fields when it was written


@attrs.frozen
class Snapshot:
    """Serialized state after applying events 1..seq."""

    seq: int
    data: bytes


class StoreError(Exception):
    """Any failure to make data durable (or to read it back); the message says what failed."""


class SequenceGap(StoreError):
    """An append whose first seq is not last_seq()+1, or whose seqs are not consecutive."""


class StoreLocked(StoreError):
    """Another process writes this log: a log has one writer (readers are welcome)."""


class StoreLost(StoreError):
    """The writer's connection to a database server broke: whether its last write was
    committed is unknown, so its state may no longer be the log's. Only a restart, which
    replays the log, is exact: the engine stops on it (cti serve exits non-zero for its
    supervisor to restart it)."""


class EventStore(Protocol):
    """Where events are stored. Used by a single writer; see the implementations for threads."""

    @property
    def epoch(self) -> str:
        """Random id (uuid4 hex) made when the log is created; a recreated log has a new one."""
        ...

    def last_seq(self) -> int:
        """Seq of the last stored event; 0 for an empty log."""
        ...

    def first_seq(self) -> int:
        """Seq of the first event the log holds: 1, or later after retention; 0 if empty."""
        ...

    def append(self, events: Sequence[StoredEvent]) -> None:
        """Store a batch, all or nothing; durable when it returns.

        Raises ``SequenceGap`` or ``StoreError``, and then nothing of the batch is stored.
        """
        ...

    def read(self, from_seq: int, limit: int | None = None) -> list[StoredEvent]:
        """Events with seq >= from_seq in order, at most ``limit`` of them."""
        ...

    def iter_from(self, from_seq: int, batch: int = 10_000) -> Iterator[StoredEvent]:
        """Stream events with seq >= from_seq in order (replay of millions of events)."""
        ...

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Store a snapshot durably and keep only the newest ``SNAPSHOTS_KEPT``."""
        ...

    def latest_snapshot(self) -> Snapshot | None:
        """The snapshot with the highest seq, if any."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A small value by key, e.g. the outbox publisher's last published seq."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Set a small value durably."""
        ...

    def sibling(self, *, readonly: bool = False) -> EventStore:
        """Another connection to the same log for a follower of this process: it reads pages
        of the log and (unless ``readonly``) keeps its own meta keys, such as its position;
        it never appends, and it is closed with this store."""
        ...

    def close(self) -> None:
        """Release the store; later calls raise ``StoreError``. Closing twice is harmless."""
        ...


class RetainedStore(EventStore, Protocol):
    """A durable store whose oldest events can be dropped once archived (retention,
    specs/store.md): ``SqliteStore`` and ``PostgresStore``."""

    def drop_before(self, seq: int) -> int:
        """Delete the events before ``seq`` and the snapshots older than the newest one;
        the number of events deleted. The last event always stays."""
        ...


def check_sequence(events: Sequence[StoredEvent], last_seq: int) -> None:
    """Raise ``SequenceGap`` unless ``events`` continue the log right after ``last_seq``."""
    expected = last_seq + 1
    for event in events:
        if event.seq != expected:
            raise SequenceGap(
                f"append refused: event seq {event.seq} where {expected} was expected"
                f" (the log ends at seq {last_seq})"
            )
        expected += 1


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0 or None, not {limit}")


def check_batch(batch: int) -> None:
    if batch < 1:
        raise ValueError(f"batch must be >= 1, not {batch}")


def check_meta_key(key: str) -> None:
    if key.startswith(RESERVED_META_PREFIX):
        raise ValueError(f"meta key {key!r} is reserved for the store")
