"""Reading the log: a stored record as a committed event of the domain."""

from __future__ import annotations

from cti.domain import CODEC
from cti.kernel.messages import Committed as Committed  # re-exported for the app's modules
from cti.store import StoredEvent


def decode(record: StoredEvent) -> Committed:
    """A stored event as the domain knows it (upcast from an older version if need be)."""
    return Committed(
        record.seq, record.ts_ms, CODEC.decode(record.kind, record.version, record.data)
    )
