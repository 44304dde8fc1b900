"""The directory requests that do not go straight to the node (DIR-01, DIR-04).

``importContacts``: the file arrives base64 in the JSON request; it is read here, where it
arrives, in a worker thread (cti.directory.fileimport: decoding, CSV or XML, every number made
canonical), and the node gets the rows in one INTERNAL command (ImportContactsChecked) that it
authorizes and decides like any other: the classification against the directory (added,
updated, unchanged, kept, rejected) and the events are the writer's.

``searchDirectory``: answered by the search index (cti.directory.index_db), a read model of
the log. It is asked once the index has applied the log as far as the node had committed
when the request came (at most WAIT seconds), so a user finds the contact they just added.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any, ClassVar

import attrs

from cti.accounts.access import authorize
from cti.app.engine import Executor
from cti.app.node import Outcome, Refused
from cti.directory.commands import ImportContactsChecked, ImportReport
from cti.directory.entries import with_presence
from cti.directory.fileimport import MAX_FILE_BYTES, Encoding, FileFormat, parse
from cti.directory.index_db import DirectoryIndex
from cti.directory.queries import MAX_PAGE, DirectoryCounts, SearchDirectory, SearchResult
from cti.favourites.services import person
from cti.kernel.refusal import Refusal, invalid_field

MAX_DATA = (MAX_FILE_BYTES + 2) // 3 * 4  # the file in base64
MAX_PAYLOAD = MAX_DATA + 16 * 1024
WAIT = 2.0  # seconds a search waits for the index to catch up with the node
MAX_SEARCH_TEXT = 64
INDEX = "directory"  # the index's name among the node's read models (Node.read_models)


@attrs.frozen(kw_only=True)
class ImportContactsRequest:
    """Import a contacts file into ``user``'s personal directory (DIR-01). ``data``: the
    file in base64; ``format``: csv or xml (UTF-8); ``encoding``: what a CSV file without a
    byte order mark was saved in. ``dryRun``: report what the import would do, change
    nothing. A file that cannot be read at all is refused (``unusableFile``) and changes
    nothing; otherwise every line is reported (ImportReport)."""

    SERVICE: ClassVar[str] = "importContacts"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = ImportReport
    MAX_PAYLOAD: ClassVar[int] = MAX_PAYLOAD
    user: str
    data: str = attrs.field(repr=False, metadata={"max_length": MAX_DATA})
    format: FileFormat = FileFormat.CSV
    encoding: Encoding = Encoding.UTF_8
    dry_run: bool = False


def _decoded(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_field("data", "notBase64", "data must be the file in base64") from None


async def prepare(
    engine: Executor, request: ImportContactsRequest, principal: str | None
) -> ImportContactsChecked:
    node = engine.node
    command = ImportContactsChecked(user=request.user, rows=(), dry_run=request.dry_run)
    if principal is not None:  # refused before the file costs anything
        authorize(node.site, node.state, principal, command)
    person(node.state, request.user, "user")
    data = _decoded(request.data)
    parsed = await asyncio.to_thread(parse, node.site, data, request.format, request.encoding)
    return attrs.evolve(
        command,
        rows=parsed.rows,
        rejected=parsed.rejected,
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
    )


async def import_contacts(
    engine: Executor, request: ImportContactsRequest, principal: str | None
) -> Outcome:
    try:
        command = await prepare(engine, request, principal)
    except Refusal as refusal:
        return Refused(refusal)
    return await engine.execute(command, principal)


async def search(engine: Executor, q: SearchDirectory, principal: str | None) -> SearchResult:
    """Raises Refusal."""
    node = engine.node
    if principal is not None:
        authorize(node.site, node.state, principal, q)
    person(node.state, q.user, "user")
    if not 1 <= q.limit <= MAX_PAGE:
        raise invalid_field("limit", "outOfRange", f"limit must be from 1 to {MAX_PAGE}")
    index = node.read_models.get(INDEX)
    if not isinstance(index, DirectoryIndex):
        raise Refusal("resourceOutOfService", "the directory index is not running")
    wanted = node.state.seq
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        found = await asyncio.to_thread(index.search, q.user, q.text, q.limit)
        if found.position >= wanted or loop.time() >= deadline:
            break
        await asyncio.sleep(0.01)  # the follower applies the missing events meanwhile
    state, counts = node.state, found.counts
    return SearchResult(
        text=q.text,
        counts=DirectoryCounts(
            personal=counts["personal"], internal=counts["internal"], system=counts["system"]
        ),
        complete=found.complete,
        hits=[with_presence(state, q.user, h) for h in found.hits],
        seq=found.position,
    )
