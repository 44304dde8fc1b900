"""Journal test helpers: the example office's log folded into journal entries, and into a
real journal read model (a SQLite file)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cti.app.node import Committed
from cti.journal.calls import fold
from cti.journal.journal_db import Item, JournalDb
from cti.journal.model import Entry, Folder
from tests.office import Office


def line(e: Entry) -> str:
    """``user call direction number outcome [by=] [group=] [from=] [transferred=]``."""
    parts = [e.user, str(e.call), e.direction.value, e.number or "-", e.outcome.value]
    for key, value in (
        ("by", e.by),
        ("group", e.group),
        ("from", e.forwarded_from),
        ("transferred", e.transferred_to),
    ):
        if value is not None:
            parts.append(f"{key}={value}")
    return " ".join(parts)


def entries(office: Office) -> list[str]:
    """Every entry the office's log decides, in the order decided."""
    log = [(c.seq, c.ts_ms, c.event) for c in office.committed()]
    return [line(e) for e in fold(office.site, log)]


def feed(db: JournalDb, office: Office, size: int = 7) -> None:
    """Apply what the office committed beyond the read model's position, in batches."""
    todo: Sequence[Committed] = [c for c in office.committed() if c.seq > db.position()]
    for start in range(0, len(todo), size):
        db.apply(todo[start : start + size])


def open_db(tmp_path: Path, office: Office, name: str = "journal.db") -> JournalDb:
    return JournalDb(tmp_path / name, office.store.epoch, office.site)


def folder(db: JournalDb, user: str, which: Folder) -> list[str]:
    return [line(i.entry) for i in db.items(user, which, limit=1000)]


def item(db: JournalDb, user: str, entry: int) -> Item:
    found = db.item(user, entry)
    assert found is not None, (user, entry)
    return found
