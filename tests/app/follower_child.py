"""A follower in a process of its own, for the kill tests: bring the call records read model
of ``LOG`` up to date in ``DB`` and print the position reached.

``--die-after N`` kills the process with SIGKILL in the middle of a batch: after the N-th row
is written inside the batch's open transaction, before its commit.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from collections.abc import Sequence

from cti.app.feed import CommitFeed, LogReader
from cti.calls.records import CallRecord
from cti.calls.records_db import CallRecordsDb
from cti.store import SqliteStore


class DyingRecords(CallRecordsDb):
    def __init__(self, path: str, epoch: str, die_after: int) -> None:
        super().__init__(path, epoch)
        self.left = die_after

    def _write(self, conn: sqlite3.Connection, records: Sequence[CallRecord]) -> None:
        for record in records:
            super()._write(conn, [record])
            self.left -= 1
            if self.left == 0:
                os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> int:
    log_path, db_path = argv[0], argv[1]
    die_after = int(argv[3]) if len(argv) > 3 and argv[2] == "--die-after" else 0
    store = SqliteStore.open_readonly(log_path)
    db = (
        DyingRecords(db_path, store.epoch, die_after)
        if die_after
        else CallRecordsDb(db_path, store.epoch)
    )
    reader = LogReader(CommitFeed(store.last_seq()), store, page=97)  # many small batches
    position = db.position()
    while batch := reader.read(position + 1):
        db.apply(batch)
        position = batch[-1].seq
    print(position)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
