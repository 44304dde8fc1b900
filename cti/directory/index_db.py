"""The directory search index (DIR-04): a read model of the log in a SQLite file of its own,
with an FTS5 table of search keys and a table of numbers.

Every entry of every directory is a row of ``entries`` in a scope: ``p:{user}`` (one user's
personal directory), ``i`` (internal) or ``s`` (system). Its search keys
(:func:`cti.directory.folding.keys`) go into the FTS5 table ``terms``, each prefixed with the
scope's number (``12xmueller``), so a prefix query of one scope reads that scope's keys only
and counts per directory are three small FTS queries. Its numbers go into ``numbers`` (E.164
and internal numbers), searched by prefix on the B-tree.

Rows and the position they cover are written in one transaction (cti/app/read_model_db.py):
after a crash the file holds exactly the log up to its position; a file of another log (its
epoch) or format is emptied and rebuilt. The site's entries (speed dials, MULAP groups) are
configuration: written again whenever the file is opened or emptied. Searches read through a
connection of their own (WAL), so they never wait for a batch being applied.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

from cti.accounts import events as accounts_events
from cti.accounts.model import PEOPLE
from cti.app.read_model_db import ReadModelDb, connect
from cti.directory import events as ev
from cti.directory.entries import (
    Directory,
    EntryView,
    NumberView,
    contact_view,
    internal_entries,
    system_entries,
)
from cti.directory.folding import keys, words
from cti.directory.model import Contact
from cti.directory.numbers import number_prefixes
from cti.domain.state import NodeState
from cti.kernel.messages import Committed
from cti.site import Site

FORMAT = "1"  # raise when the tables change: the file is rebuilt
PERSONAL, INTERNAL, SYSTEM = "p:", "i", "s"
# Matches ranked beyond the names that start with the text: the first this many found (all
# of them unless more match; then the hits are the best of these, as a key press must stay
# cheap whatever the directory holds).
CANDIDATES = 500
NUMBER_CAP = 1000  # a number search counts at most this many entries per directory
_ORDER = {Directory.PERSONAL.value: 0, Directory.INTERNAL.value: 1, Directory.SYSTEM.value: 2}
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS scopes (scope TEXT PRIMARY KEY, n INTEGER NOT NULL UNIQUE)",
    # sort: the folded name (what hits are ordered by); name: " key key ... " of the name
    # alone, so a hit by name ranks above one by company.
    "CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, scope INTEGER NOT NULL,"
    " key TEXT NOT NULL, directory INTEGER NOT NULL, sort TEXT NOT NULL, name TEXT NOT NULL,"
    " doc BLOB NOT NULL, UNIQUE (scope, key))",
    "CREATE INDEX IF NOT EXISTS entries_sort ON entries (scope, sort, id)",
    "CREATE TABLE IF NOT EXISTS numbers (scope INTEGER NOT NULL, number TEXT NOT NULL,"
    " entry INTEGER NOT NULL, PRIMARY KEY (scope, number, entry)) WITHOUT ROWID",
    # Keys are folded already: the tokenizer only splits them. Prefix indexes for the scope
    # number ("12x") plus the first few letters typed.
    "CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5(keys,"
    " tokenize = 'unicode61 remove_diacritics 0', prefix = '3 4 5 6 7')",
)


class Found(NamedTuple):
    counts: dict[str, int]  # personal, internal, system
    hits: list[EntryView]
    position: int  # the log position the index answered at
    complete: bool  # False: a number search's count stopped at NUMBER_CAP


class DirectoryIndex(ReadModelDb):
    name = "directory-index"
    SCHEMA = _SCHEMA
    FORMAT = FORMAT
    TABLES = ("entries", "numbers", "terms", "scopes")

    def __init__(self, path: str | os.PathLike[str], epoch: str, site: Site) -> None:
        self.site = site
        self._scopes: dict[str, int] = {}
        super().__init__(path, epoch)
        self._reader = connect(self.path)
        self._read_lock = threading.Lock()
        self._read_scopes: dict[str, int] = {}

    def _emptied(self, conn: sqlite3.Connection) -> None:
        self._scopes.clear()
        self._site_entries(conn)

    def _reopened(self, conn: sqlite3.Connection) -> None:
        self._site_entries(conn)

    def _rolled_back(self) -> None:
        self._scopes.clear()  # it may name scopes the rollback took back

    def _site_entries(self, conn: sqlite3.Connection) -> None:
        """The entries of the site file (speed dials, MULAP groups), as configured now."""
        system = self._scope(conn, SYSTEM)
        for (row,) in conn.execute("SELECT id FROM entries WHERE scope = ?", (system,)).fetchall():
            self._delete(conn, row)
        internal = self._scope(conn, INTERNAL)
        groups = conn.execute(
            "SELECT id FROM entries WHERE scope = ? AND key LIKE 'g:%'", (internal,)
        ).fetchall()
        for (row,) in groups:
            self._delete(conn, row)
        for entry in system_entries(self.site):
            self._put(conn, system, entry["id"], entry)
        for entry in internal_entries(self.site, NodeState()):
            self._put(conn, internal, "g:" + entry["id"], entry)

    def _scope(self, conn: sqlite3.Connection, scope: str) -> int:
        n = self._scopes.get(scope)
        if n is None:
            row = conn.execute("SELECT n FROM scopes WHERE scope = ?", (scope,)).fetchone()
            if row is None:
                n = int(conn.execute("SELECT count(*) FROM scopes").fetchone()[0]) + 1
                conn.execute("INSERT INTO scopes VALUES (?, ?)", (scope, n))
            else:
                n = int(row[0])
            self._scopes[scope] = n
        return n

    def _known_scope(self, conn: sqlite3.Connection, scope: str) -> int | None:
        n = self._scopes.get(scope)
        if n is not None:
            return n
        row = conn.execute("SELECT n FROM scopes WHERE scope = ?", (scope,)).fetchone()
        return None if row is None else int(row[0])

    # -- rows ---------------------------------------------------------------------------------
    def _delete(self, conn: sqlite3.Connection, row: int) -> None:
        conn.execute("DELETE FROM entries WHERE id = ?", (row,))
        conn.execute("DELETE FROM terms WHERE rowid = ?", (row,))
        conn.execute("DELETE FROM numbers WHERE entry = ?", (row,))

    def _put(self, conn: sqlite3.Connection, scope: int, key: str, entry: EntryView) -> None:
        old = conn.execute(
            "SELECT id FROM entries WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        if old is not None:
            self._delete(conn, old[0])
        names = [entry["name"], entry.get("company", "")]
        sort = " ".join(words(entry["name"]))
        name = " " + " ".join(keys(entry["name"])) + " "
        cur = conn.execute(
            "INSERT INTO entries (scope, key, directory, sort, name, doc)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (scope, key, _ORDER[entry["directory"]], sort, name, orjson.dumps(entry)),
        )
        row = cur.lastrowid
        prefix = f"{scope}x"
        conn.execute(
            "INSERT INTO terms (rowid, keys) VALUES (?, ?)",
            (row, " ".join(prefix + k for k in keys(*names))),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO numbers VALUES (?, ?, ?)",
            [(scope, n, row) for n in self._numbers(entry["numbers"])],
        )

    def _numbers(self, numbers: list[NumberView]) -> set[str]:
        out: set[str] = set()
        for n in numbers:
            out.add(n["number"])
            if not n["number"].startswith("+"):  # an internal number: its DID too
                with contextlib.suppress(ValueError):
                    out.add(self.site.plan.canonical(n["number"]))
        return out

    def _entry(self, conn: sqlite3.Connection, scope: int, key: str) -> EntryView | None:
        row = conn.execute(
            "SELECT doc FROM entries WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        if row is None:
            return None
        doc: EntryView = orjson.loads(row[0])
        return doc

    # -- ReadModel ----------------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        with self._read_lock:  # scopes are numbered anew
            self._read_scopes.clear()

    def apply(self, batch: Sequence[Committed]) -> None:
        with self._transaction() as conn:
            for item in batch:
                self._apply(conn, item.event)
            self._set_position(conn, batch[-1].seq)

    def _contact(self, conn: sqlite3.Connection, user: str, contact: Contact) -> None:
        self._put(conn, self._scope(conn, PERSONAL + user), str(contact.id), contact_view(contact))

    def _apply(self, conn: sqlite3.Connection, event: Any) -> None:
        if isinstance(event, ev.ContactAdded | ev.ContactChanged):
            self._contact(conn, event.user, event.contact)
        elif isinstance(event, ev.ContactsImported):
            for contact in event.contacts:
                self._contact(conn, event.user, contact)
        elif isinstance(event, ev.ContactDeleted):
            scope = self._known_scope(conn, PERSONAL + event.user)
            row = conn.execute(
                "SELECT id FROM entries WHERE scope = ? AND key = ?", (scope, str(event.id))
            ).fetchone()
            if row is not None:
                self._delete(conn, row[0])
        elif isinstance(event, ev.PersonalDirectoryCleared):
            scope = self._known_scope(conn, PERSONAL + event.user)
            rows = conn.execute("SELECT id FROM entries WHERE scope = ?", (scope,)).fetchall()
            for (row,) in rows:
                self._delete(conn, row)
        elif isinstance(event, accounts_events.AccountCreated | accounts_events.AccountUpdated):
            self._account(conn, event)
        elif isinstance(event, accounts_events.ProfileChanged):
            self._profile(conn, event)
        elif isinstance(event, accounts_events.AccountRemoved):
            scope = self._scope(conn, INTERNAL)
            row = conn.execute(
                "SELECT id FROM entries WHERE scope = ? AND key = ?", (scope, "u:" + event.name)
            ).fetchone()
            if row is not None:
                self._delete(conn, row[0])

    def _account(
        self,
        conn: sqlite3.Connection,
        e: accounts_events.AccountCreated | accounts_events.AccountUpdated,
    ) -> None:
        scope, key = self._scope(conn, INTERNAL), "u:" + e.name
        old = self._entry(conn, scope, key)
        if e.role not in PEOPLE:
            if old is not None:
                self._apply(conn, accounts_events.AccountRemoved(name=e.name))
            return
        extra = [] if old is None else [n for n in old["numbers"] if n["label"] != "extension"]
        entry = EntryView(
            directory=Directory.INTERNAL,
            id=e.name,
            name=e.display_name,
            numbers=[NumberView(label="extension", number=n) for n in e.numbers] + extra,
            kind="user",
        )
        if old is not None and "email" in old:
            entry["email"] = old["email"]
        self._put(conn, scope, key, entry)

    def _profile(self, conn: sqlite3.Connection, e: accounts_events.ProfileChanged) -> None:
        scope, key = self._scope(conn, INTERNAL), "u:" + e.name
        old = self._entry(conn, scope, key)
        if old is None:
            return
        numbers = [n for n in old["numbers"] if n["label"] == "extension"]
        numbers += [
            NumberView(label=label, number=value)
            for label, value in (("mobile", e.mobile), ("external", e.external))
            if value
        ]
        entry = EntryView(
            directory=Directory.INTERNAL, id=e.name, name=old["name"], numbers=numbers, kind="user"
        )
        if e.email:
            entry["email"] = e.email
        self._put(conn, scope, key, entry)

    # -- searching ----------------------------------------------------------------------------
    def _scopes_of(self, conn: sqlite3.Connection, user: str) -> list[tuple[str, int | None]]:
        return [
            (Directory.PERSONAL.value, self._lookup(conn, PERSONAL + user)),
            (Directory.INTERNAL.value, self._lookup(conn, INTERNAL)),
            (Directory.SYSTEM.value, self._lookup(conn, SYSTEM)),
        ]

    def _lookup(self, conn: sqlite3.Connection, scope: str) -> int | None:
        n = self._read_scopes.get(scope)  # a scope's number never changes once given
        if n is None:
            row = conn.execute("SELECT n FROM scopes WHERE scope = ?", (scope,)).fetchone()
            if row is None:
                return None
            n = self._read_scopes[scope] = int(row[0])
        return n

    def search(self, user: str, text: str, limit: int) -> Found:
        """Hit counts per directory, the best ``limit`` hits, the position answered at."""
        with self._read_lock:
            conn = self._reader
            conn.execute("BEGIN")
            try:
                position = int(
                    conn.execute("SELECT value FROM meta WHERE key = 'position'").fetchone()[0]
                )
                scopes = self._scopes_of(conn, user)
                prefixes = number_prefixes(self.site, text)
                complete = True
                if prefixes:
                    counts, rows, complete = self._by_number(conn, scopes, prefixes, limit)
                else:
                    counts, rows = self._by_name(conn, scopes, words(text), limit)
            finally:
                conn.execute("COMMIT")
        return Found(counts, [orjson.loads(r) for r in rows], position, complete)

    def _by_name(
        self,
        conn: sqlite3.Connection,
        scopes: list[tuple[str, int | None]],
        query: list[str],
        limit: int,
    ) -> tuple[dict[str, int], list[bytes]]:
        counts = {name: 0 for name, _ in scopes}
        if not query:
            return counts, []
        scoped = list(scopes)
        matches = [" AND ".join(f'"{n}x{word}"*' for word in query) for _, n in scoped]
        for (name, n), match in zip(scoped, matches, strict=True):
            if n is not None:
                row = conn.execute("SELECT count(*) FROM terms WHERE terms MATCH ?", (match,))
                counts[name] = int(row.fetchone()[0])
        if not any(counts.values()):
            return counts, []
        first = query[0]
        out: list[bytes] = []
        # Rank 0, names that start with the first word: a range of the B-tree on (scope,
        # sort), in directory order, so a short prefix of 100,000 names costs the page of
        # hits asked for, not a sort of every match.
        for (name, n), match in zip(scoped, matches, strict=True):
            if n is None or not counts[name] or len(out) >= limit:
                continue
            sql = "SELECT doc FROM entries WHERE scope = ? AND sort >= ? AND sort < ?"
            args: list[object] = [n, first, first + "\U0010ffff"]
            if len(query) > 1:  # the other words anywhere in the name or the company
                sql += " AND id IN (SELECT rowid FROM terms WHERE terms MATCH ?)"
                args.append(match)
            rows = conn.execute(sql + " ORDER BY sort, id LIMIT ?", (*args, limit - len(out)))
            out += [r[0] for r in rows]
        if len(out) < limit:
            # Then a later word of the name, then the company only; among at most
            # CANDIDATES matches (all of them unless a query matches more than that).
            live = [
                f"({m})" for (name, n), m in zip(scoped, matches, strict=True) if n and counts[name]
            ]
            rows = conn.execute(
                "SELECT e.doc FROM (SELECT rowid AS id FROM terms WHERE terms MATCH ? LIMIT ?) m"
                " JOIN entries e ON e.id = m.id WHERE substr(e.sort, 1, ?) != ?"
                " ORDER BY instr(e.name, ?) = 0, e.directory, e.sort, e.id LIMIT ?",
                (" OR ".join(live), CANDIDATES, len(first), first, " " + first, limit - len(out)),
            )
            out += [r[0] for r in rows]
        return counts, out

    def _by_number(
        self,
        conn: sqlite3.Connection,
        scopes: list[tuple[str, int | None]],
        prefixes: list[str],
        limit: int,
    ) -> tuple[dict[str, int], list[bytes], bool]:
        """Counts stop at NUMBER_CAP per directory (``0171`` is no useful query, and counting
        100,000 numbers is what a key press must not cost); the hits are then the first of
        the entries with the lowest numbers."""
        counts = {name: 0 for name, _ in scopes}
        complete = True
        found: dict[int, None] = {}
        for name, n in scopes:
            if n is None:
                continue
            ids: dict[int, None] = {}
            for prefix in prefixes:
                entries = conn.execute(
                    "SELECT DISTINCT entry FROM numbers WHERE scope = ? AND number >= ?"
                    " AND number < ? LIMIT ?",
                    (n, prefix, prefix + "\x7f", NUMBER_CAP + 1),
                )
                ids.update((r[0], None) for r in entries)
            if len(ids) > NUMBER_CAP:
                complete = False
            counts[name] = min(len(ids), NUMBER_CAP)
            found.update(ids)
        if not found:
            return counts, [], complete
        chosen = list(found)
        marks = ", ".join("?" for _ in chosen)
        rows = conn.execute(
            f"SELECT doc FROM entries WHERE id IN ({marks}) ORDER BY directory, sort, id LIMIT ?",
            (*chosen, limit),
        ).fetchall()
        return counts, [r[0] for r in rows], complete

    def close(self) -> None:
        with self._lock, self._read_lock:
            self._conn.close()
            self._reader.close()
