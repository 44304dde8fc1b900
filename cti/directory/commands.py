"""Commands of the directory context (DIR-01). ``user`` names whose personal directory: the
sender's own account (cti.accounts.access: SELF without ADMIN; integrators may name anyone)."""

from __future__ import annotations

from typing import Any, ClassVar, TypedDict

import attrs

from cti.directory.fileimport import Rejected, Row
from cti.directory.model import MAX_EMAIL, MAX_NAME
from cti.kernel.messages import Command


class ContactIdResult(TypedDict):
    id: int


class RejectedLine(TypedDict):
    line: int
    reason: str  # stable: empty, noName, noNumber, badNumber, badEmail, duplicate, ...
    message: str


class ImportReport(TypedDict):
    """What an import did (or, with ``dryRun``, would do): every data line of the file is
    counted once in ``added``, ``updated``, ``unchanged`` or ``rejected``."""

    dryRun: bool
    added: int
    updated: int
    unchanged: int  # the same as before, or a manual contact the import does not change
    keptManual: int  # of ``unchanged``: lines matching a contact the user added or edited
    rejected: int
    rejectedLines: list[RejectedLine]  # by line, the first 1000 of them
    encoding: str  # what the file was read as (utf-8-sig: UTF-8 with a byte order mark)
    delimiter: str | None  # CSV: the delimiter found in the header line


_NAME = {"max_length": MAX_NAME}


@attrs.frozen(kw_only=True)
class AddContact(Command):
    """Add a contact to the user's personal directory: a name (or a company), at least one
    number (kept as E.164), optionally an e-mail address. Adding a contact the directory
    has already, with the same data, changes nothing and answers its id (a retry)."""

    SERVICE: ClassVar[str] = "addContact"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ContactIdResult
    user: str
    name: str = attrs.field(metadata=_NAME)
    company: str | None = attrs.field(default=None, metadata=_NAME)
    business: str | None = None
    mobile: str | None = None
    home: str | None = None
    other: str | None = None
    email: str | None = attrs.field(default=None, metadata={"max_length": MAX_EMAIL})


@attrs.frozen(kw_only=True)
class ChangeContact(Command):
    """Replace a contact's data with the fields given (a field left out is emptied). The
    contact is "manually added" from now on: no import changes it any more (DIR-01)."""

    SERVICE: ClassVar[str] = "changeContact"
    SELF: ClassVar[str | None] = "user"
    user: str
    id: int
    name: str = attrs.field(metadata=_NAME)
    company: str | None = attrs.field(default=None, metadata=_NAME)
    business: str | None = None
    mobile: str | None = None
    home: str | None = None
    other: str | None = None
    email: str | None = attrs.field(default=None, metadata={"max_length": MAX_EMAIL})


@attrs.frozen(kw_only=True)
class DeleteContact(Command):
    SERVICE: ClassVar[str] = "deleteContact"
    SELF: ClassVar[str | None] = "user"
    user: str
    id: int


@attrs.frozen(kw_only=True)
class ImportContactsChecked(Command):
    """An import as the node gets it: the file already read (cti.api.directory, in a worker
    thread: decoding and making 100,000 numbers canonical would hold up the writer). Decided
    as one command: every row is classified against the directory, and the added and
    updated contacts are recorded in one commit, unless ``dry_run``."""

    SERVICE: ClassVar[str] = "importContactsChecked"
    INTERNAL: ClassVar[bool] = True
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ImportReport
    user: str
    rows: tuple[Row, ...] = attrs.field(repr=lambda rows: f"<{len(rows)} rows>")
    rejected: tuple[Rejected, ...] = ()
    dry_run: bool = False
    encoding: str = "utf-8"
    delimiter: str | None = None
