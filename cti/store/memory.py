"""An in-memory ``EventStore`` for unit tests, with an injectable append failure."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from types import TracebackType

from cti.store.base import (
    EPOCH_META_KEY,
    SNAPSHOTS_KEPT,
    Snapshot,
    StoredEvent,
    StoreError,
    check_batch,
    check_limit,
    check_meta_key,
    check_sequence,
)


class MemoryStore:
    """Keeps everything in lists and dicts; nothing survives the object.

    Set ``fail_next_append`` to a ``StoreError`` to make the next non-empty append raise it
    without storing anything (the failure is used up), e.g. to test that a failed write refuses
    the commands of a batch and leaves nothing half-applied.
    """

    def __init__(self) -> None:
        self.fail_next_append: StoreError | None = None
        self._events: list[StoredEvent] = []  # _events[i].seq == i + 1, kept gap-free
        self._snapshots: list[Snapshot] = []  # sorted by seq, at most SNAPSHOTS_KEPT
        self._meta: dict[str, str] = {EPOCH_META_KEY: uuid.uuid4().hex}
        self._closed = False

    @property
    def epoch(self) -> str:
        return self._meta[EPOCH_META_KEY]

    def last_seq(self) -> int:
        self._check_open()
        return len(self._events)

    def first_seq(self) -> int:
        self._check_open()
        return 1 if self._events else 0  # no retention in memory

    def append(self, events: Sequence[StoredEvent]) -> None:
        self._check_open()
        if not events:
            return
        if self.fail_next_append is not None:
            failure, self.fail_next_append = self.fail_next_append, None
            raise failure
        check_sequence(events, len(self._events))
        self._events.extend(events)

    def read(self, from_seq: int, limit: int | None = None) -> list[StoredEvent]:
        self._check_open()
        check_limit(limit)
        start = max(from_seq, 1) - 1
        end = None if limit is None else start + limit
        return self._events[start:end]

    def iter_from(self, from_seq: int, batch: int = 10_000) -> Iterator[StoredEvent]:
        self._check_open()
        check_batch(batch)
        return self._iter(max(from_seq, 1) - 1, batch)

    def _iter(self, start: int, batch: int) -> Iterator[StoredEvent]:
        # Slices rather than one iterator over the list: events appended meanwhile are seen,
        # like a cursor that reaches them.
        while chunk := self._events[start : start + batch]:
            yield from chunk
            start += len(chunk)

    def save_snapshot(self, snapshot: Snapshot) -> None:
        self._check_open()
        if snapshot.seq > len(self._events):
            raise StoreError(
                f"snapshot at seq {snapshot.seq} is ahead of the log (last seq {len(self._events)})"
            )
        kept = [s for s in self._snapshots if s.seq != snapshot.seq] + [snapshot]
        kept.sort(key=lambda s: s.seq)
        self._snapshots = kept[-SNAPSHOTS_KEPT:]

    def latest_snapshot(self) -> Snapshot | None:
        self._check_open()
        return self._snapshots[-1] if self._snapshots else None

    def get_meta(self, key: str) -> str | None:
        self._check_open()
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._check_open()
        check_meta_key(key)
        self._meta[key] = value

    def sibling(self, *, readonly: bool = False) -> MemoryStore:
        # The same object: its reads are list slices, safe from a follower's worker thread
        # under the GIL, and there is no connection to keep apart.
        return self

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("memory store is closed")
