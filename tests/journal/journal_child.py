"""The journal follower in a process of its own, for the kill test: bring the journal of
``LOG`` up to date in ``DB`` and print the position reached.

``--die-after N`` kills the process with SIGKILL in the middle of a batch: after the N-th entry
is written inside the batch's open transaction, before its commit.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys

from cti.app.config import load_site
from cti.app.feed import CommitFeed, LogReader
from cti.journal.journal_db import JournalDb
from cti.journal.model import Entry
from cti.site import Site
from cti.store import SqliteStore


class DyingJournal(JournalDb):
    def __init__(self, path: str, epoch: str, site: Site, die_after: int) -> None:
        super().__init__(path, epoch, site)
        self.left = die_after

    def _enter(self, conn: sqlite3.Connection, entries: list[Entry]) -> None:
        for entry in list(entries):
            super()._enter(conn, [entry])
            self.left -= 1
            if self.left == 0:
                os.kill(os.getpid(), signal.SIGKILL)
        entries.clear()


def main(argv: list[str]) -> int:
    log_path, db_path = argv[0], argv[1]
    die_after = int(argv[3]) if len(argv) > 3 and argv[2] == "--die-after" else 0
    store = SqliteStore.open_readonly(log_path)
    site = load_site()
    db = (
        DyingJournal(db_path, store.epoch, site, die_after)
        if die_after
        else JournalDb(db_path, store.epoch, site)
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
