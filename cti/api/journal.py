"""The journal on the faces (JOUR-01..05): requests answered from the journal read model
(cti.journal.journal_db), the user's actions sent to the node, call back and save as contact.

- ``getJournal`` / ``getJournalCounts`` read the user's own journal: the read model, once it
  has caught up with the log as it was when the request came (so an answer never lacks what
  the user has just done; bounded by ``wait``, then it answers with what it has and says how
  far that is, ``position``).
- The journal context's commands (``setJournalNote``, ``markJournalEntryDone``,
  ``deleteJournalEntry``, ...) are authorized, then the entry is looked up in the sender's
  journal (``unknownJournalEntry`` if it is not there: another user's entry is as unknown as
  one that never was), then the command goes to the node.
- ``callBackJournalEntry``: a makeCall from the user's device (default: the user's number;
  a MULAP's assigned phone, a mobility user's dial method apply) to the entry's number.
- ``saveJournalContact``: the party as a personal contact: the directory's add-contact
  command, made by ``save_contact`` (wired by the node that has a personal directory; without
  one the request is refused with ``serviceNotSupported``).

Names are never stored: the entry's number is resolved when it is read, by ``resolver(user,
number)`` (default: internal users' names; a directory gives personal -> internal -> system).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import attrs

from cti.accounts.access import authorize
from cti.api import replies
from cti.app.engine import Executor
from cti.app.node import Accepted
from cti.calls.commands import ConnectionResult, MakeCall
from cti.journal import commands as jcmd
from cti.journal.journal_db import Counts, Item, JournalDb
from cti.journal.model import Direction, Folder, Outcome
from cti.kernel.messages import Command, Query
from cti.kernel.refusal import Refusal, invalid_field
from cti.site.model import PHONE_KINDS, DeviceKind

if TYPE_CHECKING:
    from cti.domain.state import NodeState
    from cti.site import Site

MAX_LIMIT = 200  # entries per page
WAIT = 2.0  # seconds a request waits for the read model to catch up
# (user, number) -> the name to show, or None.
Resolver = Callable[[str, str], "str | None"]
# (user, number, name) -> the personal directory's add-contact command (JOUR-05).
SaveContact = Callable[[str, str, "str | None"], Command]


class JournalCountsDoc(TypedDict):
    """The counts of a user's folders (JOUR-02): the getJournalCounts answer and the retained
    ``users/{user}/journal`` document (for that user alone), as of log position ``seq``."""

    user: str
    open: int
    missed: int
    answered: int
    all: int
    overdue: int
    seq: int


class JournalEntryDoc(TypedDict):
    """One entry (JOUR-01). Times in ms since the epoch, UTC; ``entry`` is its id."""

    entry: int
    direction: Direction
    number: str  # the party: E.164 for external numbers, the internal number otherwise
    name: str | None  # resolved when read (caller identification), None if unknown
    started: int
    ended: int
    durationMs: int  # how long the user talked
    outcome: Outcome
    answered: bool  # the user talked
    connected: bool  # the user or someone on the user's behalf talked with the party
    by: str | None  # who answered, picked up, or took the forwarded call
    group: str | None  # the MULAP group it was to or from
    forwardedFrom: str | None
    transferredTo: str | None
    open: bool
    done: bool
    closedBy: int | None  # the later call with the party that connected
    note: str | None
    remindAt: int | None
    overdue: bool


class JournalResult(TypedDict):
    user: str
    folder: Folder
    counts: JournalCountsDoc
    entries: list[JournalEntryDoc]  # newest first
    nextBefore: int | None  # ask again with ``before`` = this for the next page; None: no more


@attrs.frozen(kw_only=True)
class GetJournal(Query):
    """A page of the user's journal: the newest entries of ``folder`` first (JOUR-01/02);
    ``before``: entries older than that entry id (the next page)."""

    SERVICE: ClassVar[str] = "getJournal"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = JournalResult
    user: str
    folder: Folder = Folder.ALL
    limit: int = 50
    before: int | None = None


@attrs.frozen(kw_only=True)
class GetJournalCounts(Query):
    SERVICE: ClassVar[str] = "getJournalCounts"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = JournalCountsDoc
    user: str


@attrs.frozen(kw_only=True)
class CallBackJournalEntry(Command):
    """Call the party of an entry back (JOUR-05): a makeCall from ``device`` (default: the
    user's number) to the entry's number. Answers like makeCall."""

    SERVICE: ClassVar[str] = "callBackJournalEntry"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = ConnectionResult
    user: str
    entry: int
    device: str | None = None


@attrs.frozen(kw_only=True)
class SaveJournalContact(Command):
    """Save the party of an entry as a personal contact (JOUR-05): the personal directory's
    add-contact command with the entry's number and ``name`` (default: the name the number
    resolves to, else the number)."""

    SERVICE: ClassVar[str] = "saveJournalContact"
    SELF: ClassVar[str | None] = "user"
    RESULT: ClassVar[Any] = dict[str, Any]  # what the directory's add-contact answers
    user: str
    entry: int
    name: str | None = None


REQUESTS: tuple[type[Query] | type[Command], ...] = (
    GetJournal,
    GetJournalCounts,
    CallBackJournalEntry,
    SaveJournalContact,
)
JournalRequest = GetJournal | GetJournalCounts | CallBackJournalEntry | SaveJournalContact
# The journal context's commands that name an entry: checked against the sender's journal.
ON_ENTRY = (jcmd.SetJournalNote, jcmd.MarkJournalEntryDone, jcmd.DeleteJournalEntry)
JOURNAL_COMMANDS = (*ON_ENTRY, jcmd.DeleteJournalEntriesOlderThan, jcmd.ClearJournal)


def internal_names(site: Site, state: Callable[[], NodeState]) -> Resolver:
    """The default resolver: internal users by their account's display name or the site's
    name for the number (a mobile: its user's); external numbers stay unnamed."""

    def resolve(user: str, number: str) -> str | None:
        account = state().accounts.account(number)
        if account is not None and account.display_name:
            return account.display_name
        dev = site.device(number)
        if dev is None or not dev.name or dev.kind is DeviceKind.EXTERNAL:
            return None
        return dev.name

    return resolve


def journal_users(site: Site) -> list[str]:
    """Every number that keeps a journal: the site's phones and MULAP groups."""
    return sorted(
        n for n, d in site.devices.items() if d.kind in PHONE_KINDS or d.kind is DeviceKind.MULAP
    )


def counts_doc(user: str, counts: Counts, position: int) -> JournalCountsDoc:
    return JournalCountsDoc(
        user=user,
        open=counts.open,
        missed=counts.missed,
        answered=counts.answered,
        all=counts.all,
        overdue=counts.overdue,
        seq=position,
    )


class JournalService:
    """Answers the journal's requests for one node (the MQTT face and in-process clients)."""

    def __init__(
        self,
        engine: Executor,
        db: JournalDb,
        *,
        resolver: Resolver | None = None,
        save_contact: SaveContact | None = None,
        wait: float = WAIT,
    ) -> None:
        self.engine = engine
        self.db = db
        node = engine.node
        self.resolver = resolver or internal_names(node.site, lambda: node.state)
        self.save_contact = save_contact
        self.wait = wait
        self._advanced = asyncio.Event()
        loop = asyncio.get_running_loop()

        def applied() -> None:  # in the follower's worker thread
            loop.call_soon_threadsafe(self._advanced.set)

        db.on_applied = applied

    async def caught_up(self, seq: int) -> bool:
        """Wait (at most ``wait`` seconds) until the read model has applied ``seq``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        while self.db.position() < seq:
            left = deadline - loop.time()
            if left <= 0:
                return False
            self._advanced.clear()
            if self.db.position() >= seq:
                break
            try:
                await asyncio.wait_for(self._advanced.wait(), left)
            except TimeoutError:
                return False
        return True

    def counts(self, user: str) -> JournalCountsDoc:
        return counts_doc(user, self.db.counts(user), self.db.position())

    async def execute(self, action: Command | Query, principal: str | None) -> dict[str, Any]:
        """The reply to a journal request or journal command (see the module)."""
        node = self.engine.node
        try:
            if principal is not None:
                authorize(node.site, node.state, principal, action)
            await self.caught_up(node.state.seq)
            if isinstance(action, GetJournal):
                return self._ok(self._page(action))
            if isinstance(action, GetJournalCounts):
                return self._ok(self.counts(action.user))
            if isinstance(action, (*ON_ENTRY, CallBackJournalEntry, SaveJournalContact)):
                item = self._item(action.user, action.entry)
                if isinstance(action, CallBackJournalEntry):
                    command: Command = MakeCall(
                        calling=action.device or action.user, called=item.entry.number
                    )
                elif isinstance(action, SaveJournalContact):
                    command = self._contact(action, item)
                else:
                    command = action
            elif isinstance(action, Command):
                command = action  # deleteJournalEntriesOlderThan, clearJournal
            else:
                raise Refusal("serviceNotSupported", f"{action.SERVICE} is no journal request")
        except Refusal as refusal:
            return _refused(refusal)
        outcome = await self.engine.execute(command, principal)
        if isinstance(outcome, Accepted):
            return replies.accepted(outcome, node.state.seq)
        return _refused(outcome.error)

    def _ok(self, result: object) -> dict[str, Any]:
        return {"ok": True, "result": result, "seq": self.db.position()}

    def _item(self, user: str, entry: int) -> Item:
        item = self.db.item(user, entry)
        if item is None:
            raise Refusal(
                "unknownJournalEntry", f"{user}'s journal has no entry {entry}", {"entry": entry}
            )
        return item

    def _contact(self, action: SaveJournalContact, item: Item) -> Command:
        if self.save_contact is None:
            raise Refusal("serviceNotSupported", "this node has no personal directory")
        if not item.entry.number:
            raise invalid_field("entry", "noNumber", "the entry has no number to save")
        name = action.name or self.resolver(action.user, item.entry.number)
        return self.save_contact(action.user, item.entry.number, name)

    def _page(self, q: GetJournal) -> JournalResult:
        if not 1 <= q.limit <= MAX_LIMIT:
            raise invalid_field("limit", "outOfRange", f"limit: from 1 to {MAX_LIMIT}")
        items = self.db.items(q.user, q.folder, limit=q.limit + 1, before=q.before)
        more = len(items) > q.limit
        items = items[: q.limit]
        return JournalResult(
            user=q.user,
            folder=q.folder,
            counts=self.counts(q.user),
            entries=[self.entry_doc(i) for i in items],
            nextBefore=items[-1].entry.call if more else None,
        )

    def entry_doc(self, item: Item) -> JournalEntryDoc:
        e = item.entry
        return JournalEntryDoc(
            entry=e.call,
            direction=e.direction,
            number=e.number,
            name=self.resolver(e.user, e.number) if e.number else None,
            started=e.started_ms,
            ended=e.ended_ms,
            durationMs=e.duration_ms,
            outcome=e.outcome,
            answered=e.outcome is Outcome.ANSWERED,
            connected=e.connected,
            by=e.by,
            group=e.group,
            forwardedFrom=e.forwarded_from,
            transferredTo=e.transferred_to,
            open=item.open,
            done=item.done,
            closedBy=item.closed_by,
            note=item.note,
            remindAt=item.remind_at,
            overdue=item.overdue,
        )


def _refused(refusal: Refusal) -> dict[str, Any]:
    body: dict[str, Any] = {"code": refusal.name, "message": refusal.message}
    if refusal.details:
        body["details"] = dict(refusal.details)
    return {"ok": False, "error": body}
