"""Shorthands for the directory tests: the example office with people's accounts
(tests/favourites/helpers.py), files read as the API reads them, imports decided by the node."""

from __future__ import annotations

from typing import Any

from cti.app.node import Node
from cti.directory import commands as c
from cti.directory.fileimport import Encoding, FileFormat, parse
from cti.directory.queries import GetContacts
from tests.favourites.helpers import SITE, done, refused, seeded

__all__ = ["SITE", "contacts", "done", "imported", "refused", "seeded"]


def imported(
    node: Node,
    data: bytes,
    user: str = "331",
    *,
    encoding: Encoding = Encoding.UTF_8,
    file_format: FileFormat = FileFormat.CSV,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The report of importing ``data`` into ``user``'s directory (it must be accepted)."""
    parsed = parse(SITE, data, file_format, encoding)
    command = c.ImportContactsChecked(
        user=user,
        rows=parsed.rows,
        rejected=parsed.rejected,
        dry_run=dry_run,
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
    )
    return done(node, command)


def contacts(node: Node, user: str = "331") -> list[tuple[str, str, list[str], str]]:
    """A user's contacts in short: (name, company, numbers, origin), by name."""
    page = node.query(GetContacts(user=user, limit=500), user)
    assert isinstance(page, dict)
    return [
        (e["name"], e.get("company", ""), [n["number"] for n in e["numbers"]], e["origin"])
        for e in page["contacts"]
    ]
