"""Queries of the directories answered from the node state: a user's contacts (DIR-01), the
details of an entry (DIR-04) and the name of a caller (DIR-06). The search itself is answered
by the search index (``SearchDirectory``, cti.api.directory), a read model of the log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import attrs

from cti.directory import entries
from cti.directory.callerid import identify
from cti.directory.entries import Directory, EntryView
from cti.directory.folding import fold
from cti.favourites.services import person
from cti.kernel.messages import Query
from cti.kernel.refusal import Refusal, invalid_field
from cti.site import Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState

MAX_PAGE = 500  # entries a page of contacts or of hits holds at most


class ContactsPage(TypedDict):
    total: int
    contacts: list[EntryView]  # by name


class DirectoryCounts(TypedDict):
    personal: int
    internal: int
    system: int


class SearchResult(TypedDict):
    """Hits across all three directories (DIR-04): ``counts`` per directory, ``hits`` the
    best ``limit`` of them (names starting with the first word first, then by name)."""

    text: str
    counts: DirectoryCounts
    complete: bool  # false: a number search's counts stopped at 1,000 (type more digits)
    hits: list[EntryView]
    seq: int  # the log position the index answered at


class CallerResult(TypedDict):
    name: str | None
    directory: Directory | None


@attrs.frozen(kw_only=True)
class GetContacts(Query):
    """A page of the user's personal directory (DIR-01), by name."""

    SERVICE: ClassVar[str] = "getContacts"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ContactsPage
    user: str
    offset: int = 0
    limit: int = 100


@attrs.frozen(kw_only=True)
class GetDirectoryEntry(Query):
    """The details of a hit (DIR-04): its directory and id as the search gave them."""

    SERVICE: ClassVar[str] = "getDirectoryEntry"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = EntryView
    user: str
    directory: Directory
    id: str


@attrs.frozen(kw_only=True)
class IdentifyCaller(Query):
    """The name ``user`` knows a number by (DIR-06): their personal directory first, then
    the internal, then the system directory."""

    SERVICE: ClassVar[str] = "identifyCaller"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = CallerResult
    user: str
    number: str


@attrs.frozen(kw_only=True)
class SearchDirectory(Query):
    """Search all directories by the first letters of a name (every word of ``text`` starts
    a word of the name, in any order), or by number (``text`` of digits, as dialled or
    E.164; the start of a number finds it too). Answered by the search index."""

    SERVICE: ClassVar[str] = "searchDirectory"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = SearchResult
    user: str
    text: str
    limit: int = 20


def page(offset: int, limit: int) -> None:
    if offset < 0:
        raise invalid_field("offset", "negative", "offset must be 0 or more")
    if not 1 <= limit <= MAX_PAGE:
        raise invalid_field("limit", "outOfRange", f"limit must be from 1 to {MAX_PAGE}")


def get_contacts(site: Site, state: NodeState, q: GetContacts) -> ContactsPage:
    person(state, q.user, "user")
    page(q.offset, q.limit)
    contacts = state.directory.of(q.user).contacts.values()
    ordered = sorted(contacts, key=lambda c: (fold(c.name), c.id))
    return ContactsPage(
        total=len(ordered),
        contacts=[entries.contact_view(c) for c in ordered[q.offset : q.offset + q.limit]],
    )


def get_entry(site: Site, state: NodeState, q: GetDirectoryEntry) -> EntryView:
    person(state, q.user, "user")
    found = entries.entry(site, state, q.user, q.directory, q.id)
    if found is None:
        raise Refusal(
            "unknownEntry",
            f"the {q.directory.value} directory has no entry {q.id}",
            {"directory": q.directory.value, "id": q.id},
        )
    return found


def identify_caller(site: Site, state: NodeState, q: IdentifyCaller) -> CallerResult:
    person(state, q.user, "user")
    found = identify(site, state, q.user, q.number)
    if found is None:
        return CallerResult(name=None, directory=None)
    return CallerResult(name=found.name, directory=found.directory)


QUERIES: dict[type[Any], Any] = {
    GetContacts: get_contacts,
    GetDirectoryEntry: get_entry,
    IdentifyCaller: identify_caller,
}
