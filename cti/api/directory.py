"""The directory requests that do not go straight to the node (DIR-01, DIR-04).

``importContacts``: the file arrives base64 in the JSON request (``data``), or, when it is
bigger than one request may be (MAX_PART: the broker's packet limit stays below 2 MiB,
cti/mqtt/limits.py), in parts sent before with ``uploadContactsPart`` and named by ``upload``.
Parts are kept here, in memory, until the import that names them (bounded: MAX_FILE_BYTES an
upload, one upload per user, MAX_UPLOADS at once, UPLOAD_MS old at most): nothing of them is
durable, only the import's events are. The file is read here, where it arrives, in a worker
thread (cti.directory.fileimport: decoding, CSV or XML, every number made
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
import weakref
from typing import Any, ClassVar, TypedDict

import attrs

from cti.accounts.access import authorize
from cti.app.engine import Executor
from cti.app.node import Accepted, Node, Outcome, Refused
from cti.directory.commands import ImportContactsChecked, ImportReport
from cti.directory.entries import with_presence
from cti.directory.fileimport import (
    MAX_FILE_BYTES,
    Encoding,
    FileFormat,
    column_mapping,
    parse,
)
from cti.directory.index_db import DirectoryIndex
from cti.directory.queries import MAX_PAGE, DirectoryCounts, SearchDirectory, SearchResult
from cti.favourites.services import person
from cti.kernel.refusal import Refusal, invalid_field

MAX_PART = 1024 * 1024  # bytes of file in one request: a bigger file comes in parts
MAX_DATA = (MAX_PART + 2) // 3 * 4  # that in base64
MAX_PAYLOAD = MAX_DATA + 16 * 1024
MAX_UPLOADS = 8  # uploads in progress on a node (one per user); the oldest goes first
UPLOAD_MS = 10 * 60 * 1000  # an upload not imported within this time is dropped
WAIT = 2.0  # seconds a search waits for the index to catch up with the node
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
    data: str | None = attrs.field(default=None, repr=False, metadata={"max_length": MAX_DATA})
    upload: str | None = None  # instead of data: the parts sent with uploadContactsPart
    format: FileFormat = FileFormat.CSV
    # CSV headers the alias table does not know, as "header=field" ("Tel. Büro=business").
    columns: tuple[str, ...] = ()
    encoding: Encoding = Encoding.UTF_8
    dry_run: bool = False


class UploadProgress(TypedDict):
    upload: str
    part: int  # the part just received
    bytes: int  # of the file so far


@attrs.frozen(kw_only=True)
class UploadContactsPartRequest:
    """One part of a contacts file too big for one request (more than 1 MiB): ``part`` 1
    starts the upload ``upload`` (a name the client chooses; it replaces any upload of the
    user's not imported yet), each next part follows in order. Then ``importContacts`` with
    ``upload`` imports the whole file."""

    SERVICE: ClassVar[str] = "uploadContactsPart"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = UploadProgress
    MAX_PAYLOAD: ClassVar[int] = MAX_PAYLOAD
    user: str
    upload: str
    part: int
    data: str = attrs.field(repr=False, metadata={"max_length": MAX_DATA})


@attrs.define
class _Upload:
    name: str
    started_ms: int
    parts: list[bytes] = attrs.Factory(list)
    size: int = 0


class Uploads:
    """The uploads in progress of one node, by user."""

    def __init__(self) -> None:
        self.by_user: dict[str, _Upload] = {}

    def _expire(self, now_ms: int) -> None:
        for user, upload in list(self.by_user.items()):
            if now_ms - upload.started_ms > UPLOAD_MS:
                del self.by_user[user]

    def add(self, user: str, r: UploadContactsPartRequest, data: bytes, now_ms: int) -> _Upload:
        self._expire(now_ms)
        current = self.by_user.get(user)
        if r.part == 1:
            current = _Upload(r.upload, now_ms)
            self.by_user.pop(user, None)
            while len(self.by_user) >= MAX_UPLOADS:  # the oldest goes
                oldest = min(self.by_user, key=lambda u: self.by_user[u].started_ms)
                del self.by_user[oldest]
            self.by_user[user] = current
        elif current is None or current.name != r.upload:
            raise Refusal(
                "unknownUpload",
                f"there is no upload {r.upload!r} (send part 1 first; uploads last 10 minutes)",
                {"upload": r.upload},
            )
        elif r.part != len(current.parts) + 1:
            raise invalid_field(
                "part", "outOfOrder", f"part {len(current.parts) + 1} of {r.upload!r} comes next"
            )
        if current.size + len(data) > MAX_FILE_BYTES:
            del self.by_user[user]
            raise Refusal(
                "unusableFile",
                f"the file cannot be imported: more than {MAX_FILE_BYTES} bytes",
                {"reason": "tooBig"},
            )
        current.parts.append(data)
        current.size += len(data)
        return current

    def take(self, user: str, name: str, now_ms: int) -> bytes:
        self._expire(now_ms)
        current = self.by_user.get(user)
        if current is None or current.name != name:
            raise Refusal(
                "unknownUpload",
                f"there is no upload {name!r} (send its parts first; uploads last 10 minutes)",
                {"upload": name},
            )
        del self.by_user[user]
        return b"".join(current.parts)


_UPLOADS: weakref.WeakKeyDictionary[Node, Uploads] = weakref.WeakKeyDictionary()


def uploads(node: Node) -> Uploads:
    found = _UPLOADS.get(node)
    if found is None:
        found = _UPLOADS[node] = Uploads()
    return found


def _decoded(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_field("data", "notBase64", "data must be the file in base64") from None


def _checked(engine: Executor, user: str, principal: str | None) -> None:
    """The sender may import into ``user``'s directory (refused before the file costs)."""
    node = engine.node
    if principal is not None:
        authorize(node.site, node.state, principal, ImportContactsChecked(user=user, rows=()))
    person(node.state, user, "user")


async def upload_part(
    engine: Executor, request: UploadContactsPartRequest, principal: str | None
) -> Outcome:
    try:
        _checked(engine, request.user, principal)
        if request.part < 1:
            raise invalid_field("part", "outOfRange", "parts are numbered from 1")
        node = engine.node
        upload = uploads(node).add(
            request.user, request, _decoded(request.data), node.clock.now_ms()
        )
    except Refusal as refusal:
        return Refused(refusal)
    progress = UploadProgress(upload=upload.name, part=request.part, bytes=upload.size)
    return Accepted(progress, ())


async def prepare(
    engine: Executor, request: ImportContactsRequest, principal: str | None
) -> ImportContactsChecked:
    node = engine.node
    command = ImportContactsChecked(user=request.user, rows=(), dry_run=request.dry_run)
    _checked(engine, request.user, principal)
    column_mapping(request.columns)  # refused before an upload is taken
    if (request.data is None) == (request.upload is None):
        raise invalid_field("data", "oneOf", "give data (the file) or upload (its parts)")
    if request.data is not None:
        data = _decoded(request.data)
    else:
        assert request.upload is not None
        data = uploads(node).take(request.user, request.upload, node.clock.now_ms())
    parsed = await asyncio.to_thread(
        parse, node.site, data, request.format, request.encoding, request.columns
    )
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
