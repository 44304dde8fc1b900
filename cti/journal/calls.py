"""Journal entries from call events: a pure fold (JOUR-01).

It extends the call records (:mod:`cti.calls.records`, one row per call) with each user's part
in the call: who was offered it, who answered, who picked it up, forwarded or deflected it,
who left. When the call ends (``callCleared``, or a transfer or conference merging it into
another) every user's outcome is decided from the call's own events (UC-LESSONS rule 4) and
the entries come out; until then the call is a :class:`Track` (kept by the read model between
batches, so the fold resumes after a restart).

Whose journal: the internal users (phones and MULAP numbers) of the site. A mobile belongs to
its mobility user (CALL-15); a call offered to a MULAP group is entered for the group and for
each member phone it alerted (a member that did not answer sees who did: "answered
elsewhere", never "missed", CALL-14); a call made from a MULAP's phone under the group's
number is the group's. Voicemail, bridges and external parties keep no journal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

import attrs

from cti.calls import events as ev
from cti.calls import records
from cti.calls.records import CallRecord
from cti.calls.values import Cause, ConnectionState
from cti.journal.model import Direction, Entry, Outcome
from cti.kernel.messages import Event
from cti.site import Site
from cti.site.model import PHONE_KINDS, DeviceKind


class Owners:
    """Which internal user a device's connection belongs to, from the site (cached)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.voicemail = site.voicemail
        self._users = frozenset(
            n
            for n, d in site.devices.items()
            if d.kind in PHONE_KINDS or d.kind is DeviceKind.MULAP
        )

    def is_user(self, number: str) -> bool:
        return number in self._users

    def of(self, device: str) -> str | None:
        if device in self._users:
            return device
        return self.site.owner_of(device)  # a mobile: its mobility user

    def is_voicemail(self, number: str | None) -> bool:
        if number is None:
            return False
        dev = self.site.devices.get(number)
        return dev is not None and dev.kind is DeviceKind.VOICEMAIL


@attrs.define
class Party:
    """One user's part in a call so far."""

    user: str
    call: int  # the entry id: the call it began in
    direction: Direction
    number: str
    started_ms: int
    first_seq: int
    group: str | None = None
    forwarded_from: str | None = None
    answered_ms: int | None = None  # the user talked from then on
    by: str | None = None  # outgoing: who answered; incoming: see the fields below
    picked_by: str | None = None
    forwarded_to: str | None = None
    elsewhere_by: str | None = None
    failed: str | None = None  # the cause of a failure
    left_ms: int | None = None
    transferred_to: str | None = None

    def decide(self, end_ms: int, seq: int, track: Track) -> Entry:
        """The outcome, from the call's own events (UC-LESSONS rule 4)."""
        by: str | None = None
        answered = self.answered_ms is not None
        if self.direction is Direction.OUTGOING:
            if self.failed is not None:
                outcome = Outcome.BUSY if self.failed == Cause.BUSY else Outcome.NOT_REACHED
            elif self.by is not None and track.voicemail_answered(self.by):
                outcome, by = Outcome.VOICEMAIL, self.by
            elif answered:
                outcome, by = Outcome.ANSWERED, self.by
            else:
                outcome = Outcome.NOT_ANSWERED
        elif answered:
            outcome, by = Outcome.ANSWERED, self.by  # by: the member phone of a group
        elif self.failed is not None:
            outcome = Outcome.BUSY if self.failed == Cause.BUSY else Outcome.NOT_REACHED
        elif self.picked_by is not None:
            outcome, by = Outcome.PICKED_UP, self.picked_by
        elif self.elsewhere_by is not None:
            outcome, by = Outcome.ANSWERED_ELSEWHERE, self.elsewhere_by
        elif self.forwarded_to is not None:
            taken = track.answered_by_person()
            if track.voicemail_answered(self.forwarded_to) or (
                taken is None and track.voicemail_answered(track.rec.answered_by)
            ):
                outcome, by = Outcome.VOICEMAIL, self.forwarded_to
            elif taken is not None:
                outcome, by = Outcome.FORWARDED, taken
            else:
                outcome, by = Outcome.MISSED, self.forwarded_to
        elif track.voicemail_answered(track.rec.answered_by):
            outcome, by = Outcome.VOICEMAIL, track.rec.answered_by
        else:
            outcome = Outcome.MISSED
        ended = self.left_ms if self.left_ms is not None else end_ms
        return Entry(
            user=self.user,
            call=self.call,
            direction=self.direction,
            number=self.number,
            started_ms=self.started_ms,
            ended_ms=max(ended, self.started_ms),
            outcome=outcome,
            answered_ms=self.answered_ms if outcome is Outcome.ANSWERED else None,
            by=by,
            group=self.group,
            forwarded_from=self.forwarded_from,
            transferred_to=self.transferred_to,
            first_seq=self.first_seq,
            last_seq=seq,
        )


@attrs.define
class Track:
    """A call in progress: its record and every user's part in it."""

    rec: CallRecord
    parties: list[Party] = attrs.field(factory=list)
    owners: Owners | None = attrs.field(default=None, eq=False, repr=False)
    persons: list[str] = attrs.field(factory=list)  # devices that answered, in order

    def party(self, user: str) -> Party | None:
        for p in self.parties:
            if p.user == user:
                return p
        return None

    def voicemail_answered(self, number: str | None) -> bool:
        return self.owners is not None and self.owners.is_voicemail(number)

    def answered_by_person(self) -> str | None:
        for device in self.persons:
            if not self.voicemail_answered(device):
                return device
        return None


def _add(track: Track, party: Party) -> Party:
    found = track.party(party.user)
    if found is not None:
        return found
    track.parties.append(party)
    return party


class JournalFold:
    """The fold's working set: the tracks of calls in progress (``tracks``, by call id),
    loaded and saved by the caller."""

    def __init__(
        self,
        site: Site,
        tracks: MutableMapping[int, Track] | None = None,
        owners: Owners | None = None,
    ) -> None:
        self.owners = owners or Owners(site)
        self.tracks: MutableMapping[int, Track] = {} if tracks is None else tracks

    def track(self, call: int, seq: int, ts_ms: int) -> Track:
        t = self.tracks.get(call)
        if t is None:
            t = Track(CallRecord(call, seq, seq, ts_ms), owners=self.owners)
            self.tracks[call] = t
        return t

    def apply(self, seq: int, ts_ms: int, event: Event) -> tuple[list[Entry], list[int]]:
        """Fold one committed event; returns the entries it decided and the ids of the
        tracks it changed (a track no longer in ``tracks`` has ended)."""
        if not isinstance(event, ev.CallEvent):
            return [], []
        o = self.owners
        t = self.track(event.call, seq, ts_ms)
        recs: dict[int, CallRecord] = {event.call: t.rec}
        second = getattr(event, "secondary_call", None)
        other = self.tracks.get(second) if second is not None else None
        if other is not None:
            recs[other.rec.call] = other.rec
        records.apply(recs, seq, ts_ms, event)
        t.rec = recs[event.call]
        now = ts_ms
        if isinstance(event, ev.ServiceInitiated):
            user = event.calling if o.is_user(event.calling) else o.of(event.device)
            if user is not None:
                group = user if o.site.devices[user].kind is DeviceKind.MULAP else None
                _add(t, Party(user, t.rec.call, Direction.OUTGOING, event.called, now, seq, group))
        elif isinstance(event, ev.Originated):
            for p in t.parties:
                if p.direction is Direction.OUTGOING and not p.number:
                    p.number = event.called
        elif isinstance(event, ev.Delivered):
            self._delivered(t, event, seq, now)
        elif isinstance(event, ev.Established):
            self._established(t, event, now)
        elif isinstance(event, ev.Diverted):
            self._diverted(t, event, seq, now)
        elif isinstance(event, ev.ConnectionCleared):
            user = o.of(event.device)
            cleared = t.party(user) if user is not None else None
            answered_by = event.answered_by
            if cleared is not None and answered_by is not None and cleared.answered_ms is None:
                cleared.elsewhere_by = answered_by
        elif isinstance(event, ev.Failed):
            for p in t.parties:
                if p.direction is Direction.OUTGOING:
                    p.failed = str(event.cause)
            user = o.of(event.failing)
            if user is not None and t.party(user) is None:
                calling = t.rec.calling or event.calling
                p = _add(t, Party(user, t.rec.call, Direction.INCOMING, calling, now, seq))
                p.failed = str(event.cause)
        elif isinstance(event, ev.Transferred):
            for p in t.parties:
                if o.of(event.transferring) == p.user and p.left_ms is None:
                    p.transferred_to = event.transferred_to
            if other is not None:
                other_transferrer = [p for p in other.parties if p.user == o.of(event.transferring)]
                for p in other_transferrer:
                    p.transferred_to = event.transferred_to
        self._left(t, event, now)
        entries: list[Entry] = []
        changed = [t.rec.call]
        if other is not None and isinstance(event, ev.Transferred | ev.Conferenced):
            # The merged call ends here: whoever moved on into ``call`` keeps their part
            # (and entry id) there; the others' parts are decided now.
            devices = event.moved if isinstance(event, ev.Transferred) else event.added
            moved = {o.of(d) for d in devices}
            for p in other.parties:
                still = any(
                    o.of(x.device) == p.user and x.state is not ConnectionState.NULL
                    for x in event.local
                )
                stays = isinstance(event, ev.Conferenced) or p.user in moved or still
                if stays and t.party(p.user) is None:  # else the user's part there goes on
                    t.parties.append(p)
                    continue
                entries.append(p.decide(now, seq, other))
            for device in other.persons:
                if device not in t.persons:
                    t.persons.append(device)
            del self.tracks[other.rec.call]
            changed.append(other.rec.call)
        if isinstance(event, ev.CallCleared):
            entries.extend(p.decide(now, seq, t) for p in t.parties)
            del self.tracks[t.rec.call]
        return entries, changed

    def _diverted(self, t: Track, e: ev.Diverted, seq: int, now: int) -> None:
        user = self.owners.of(e.diverting)
        if user is None:
            return
        p = t.party(user)
        if p is None and e.cause != Cause.CALL_PICKUP:
            # Forwarded before it rang (immediate, busy): the user still sees it came.
            p = _add(t, Party(user, t.rec.call, Direction.INCOMING, t.rec.calling, now, seq))
        if p is not None and p.answered_ms is None:
            if e.cause == Cause.CALL_PICKUP:
                p.picked_by = e.new_destination
            else:
                p.forwarded_to = e.new_destination

    def _delivered(self, t: Track, e: ev.Delivered, seq: int, now: int) -> None:
        o = self.owners
        calling = t.rec.calling or e.calling
        users: list[tuple[str, str | None]] = []
        if e.group is not None:
            users.append((e.group, e.group))
        alerted = o.of(e.alerting)
        if alerted is not None:
            users.append((alerted, e.group))
        for user, group in users:
            if t.party(user) is not None:
                continue  # already in it (a callback to the caller's own mobile, a loop)
            forwarded_from = e.redirecting if e.redirecting != user else None
            p = Party(user, t.rec.call, Direction.INCOMING, calling, now, seq, group)
            p.forwarded_from = forwarded_from
            t.parties.append(p)
        if e.group is not None:
            for p in t.parties:
                if p.direction is Direction.OUTGOING and p.group is None:
                    p.group = e.group

    def _established(self, t: Track, e: ev.Established, now: int) -> None:
        o = self.owners
        user = o.of(e.answering)
        out = [p for p in t.parties if p.direction is Direction.OUTGOING]
        if user is not None and any(p.user == user for p in out):
            return  # a mobility callback reaching the caller's own mobile (CALL-15)
        if e.answering not in t.persons:
            t.persons.append(e.answering)
        for p in out:
            if p.answered_ms is None and p.by is None:
                p.by = e.answering
                if not o.is_voicemail(e.answering):
                    p.answered_ms = now
        for p in t.parties:
            if p.direction is not Direction.INCOMING or p.answered_ms is not None:
                continue
            if p.user == user:
                p.answered_ms = now
            elif p.group is not None and p.user == p.group and user is not None:
                member = o.site.devices.get(e.answering)
                if member is not None and o.site.mulap_of(e.answering) == p.group:
                    p.answered_ms = now  # the group talks through its member phone
                    p.by = e.answering

    def _left(self, t: Track, event: ev.CallEvent, now: int) -> None:
        """A user whose every device in the call is now gone has left it."""
        o = self.owners
        present: set[str] = set()
        gone: set[str] = set()
        for x in event.local:
            user = o.of(x.device)
            if user is None:
                continue
            (gone if x.state is ConnectionState.NULL else present).add(user)
            if x.state is not ConnectionState.NULL:
                group = o.site.mulap_of(x.device)
                if group is not None:
                    present.add(group)
        for p in t.parties:
            if p.user in gone and p.user not in present and p.left_ms is None:
                p.left_ms = now


def fold(site: Site, items: Iterable[tuple[int, int, Event]]) -> Iterator[Entry]:
    """Every entry a log decides, rebuilt from ``(seq, ts_ms, event)`` in order."""
    f = JournalFold(site)
    for seq, ts_ms, event in items:
        yield from f.apply(seq, ts_ms, event)[0]


# -- the tracks between batches (JSON) -----------------------------------------------------
_PARTIES = [f.name for f in attrs.fields(CallRecord)].index("parties")


def encode_track(t: Track) -> dict[str, Any]:
    return {
        "rec": [
            list(v) if isinstance(v, tuple) else v for v in attrs.astuple(t.rec, recurse=False)
        ],
        "parties": [attrs.asdict(p) for p in t.parties],
        "persons": list(t.persons),
    }


def decode_track(doc: dict[str, Any], owners: Owners) -> Track:
    values = list(doc["rec"])
    values[_PARTIES] = tuple(values[_PARTIES])
    parties = []
    for p in doc["parties"]:
        p = dict(p)
        p["direction"] = Direction(p["direction"])
        parties.append(Party(**p))
    return Track(CallRecord(*values), parties, owners, list(doc["persons"]))
