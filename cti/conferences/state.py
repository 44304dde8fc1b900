"""The conferences part of the node state: the rooms, and the dial-in calls keying a PIN.

``by_call`` indexes the rooms' calls (call -> the conference and participant on it), so the
reactions to call events, run for every call event of the switch, find a call's participant
without a scan of every participant of every room. It is derived from the rooms and kept by
the only two ways a room changes (:meth:`ConferencesState.with_conference`,
:meth:`ConferencesState.without_conference`), so replay and snapshots give the same one
(:meth:`ConferencesState.reindexed` rebuilds it)."""

from __future__ import annotations

import attrs
import immutables

from cti.conferences.model import Conference, DialIn, Participant, Strikes

# call -> (conference, participant) of each participant on it, sorted (two only while one
# phone merged two calls with the dial-in, until the reaction to it clears them)
CallIndex = immutables.Map[int, tuple[tuple[int, int], ...]]


def _unindex(index: CallIndex, conf: Conference) -> CallIndex:
    for p in conf.participants:
        if p.call is not None:
            rest = tuple(k for k in index.get(p.call, ()) if k != (conf.id, p.id))
            index = index.set(p.call, rest) if rest else index.delete(p.call)
    return index


def _index(index: CallIndex, conf: Conference) -> CallIndex:
    for p in conf.participants:
        if p.call is not None:
            index = index.set(p.call, tuple(sorted({*index.get(p.call, ()), (conf.id, p.id)})))
    return index


def index_of(conferences: immutables.Map[int, Conference]) -> CallIndex:
    """The index recomputed from the rooms (a snapshot; the tests' check)."""
    index: CallIndex = immutables.Map()
    for conf in conferences.values():
        index = _index(index, conf)
    return index


@attrs.frozen
class ConferencesState:
    conferences: immutables.Map[int, Conference] = attrs.field(factory=immutables.Map)
    dial_ins: immutables.Map[int, DialIn] = attrs.field(factory=immutables.Map)  # by call
    next_id: int = 1
    next_join: int = 1  # the dial-in order of the next participant to join
    strikes: immutables.Map[str, Strikes] = attrs.field(factory=immutables.Map)  # by strikes key
    by_call: CallIndex = attrs.field(factory=immutables.Map)  # derived from the rooms

    def reindexed(self) -> ConferencesState:
        """With the index recomputed from the rooms (a state built from a snapshot)."""
        return attrs.evolve(self, by_call=index_of(self.conferences))

    def conference(self, cid: int) -> Conference | None:
        return self.conferences.get(cid)

    def with_conference(self, conf: Conference) -> ConferencesState:
        """The room added or changed; every change of a room comes here (or the next), so
        the index follows."""
        index = self.by_call
        old = self.conferences.get(conf.id)
        if old is None or old.participants is not conf.participants:
            if old is not None:
                index = _unindex(index, old)
            index = _index(index, conf)
        return attrs.evolve(self, conferences=self.conferences.set(conf.id, conf), by_call=index)

    def without_conference(self, cid: int) -> ConferencesState:
        old = self.conferences.get(cid)
        if old is None:
            return self
        return attrs.evolve(
            self,
            conferences=self.conferences.delete(cid),
            by_call=_unindex(self.by_call, old),
        )

    def joined_count(self) -> int:
        """Channels in use: every joined participant of every room holds one (CONF-01)."""
        return sum(len(c.joined) for c in self.conferences.values())

    def on_call(self, call: int) -> tuple[Conference, Participant] | None:
        """The conference and participant whose call (joined or called out) this is (the
        first by conference and participant id when two are on it)."""
        for cid, pid in self.by_call.get(call, ()):
            conf = self.conferences[cid]
            p = conf.participant(pid)
            assert p is not None and p.call == call  # the index follows every change
            return conf, p
        return None

    def of_user(self, user: str) -> list[Conference]:
        """The conferences ``user`` is a member of, in id order."""
        return [c for _, c in sorted(self.conferences.items()) if c.of_user(user) is not None]
