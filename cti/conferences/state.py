"""The conferences part of the node state: the rooms, and the dial-in calls keying a PIN."""

from __future__ import annotations

import attrs
import immutables

from cti.conferences.model import Conference, DialIn, Participant, Strikes


@attrs.frozen
class ConferencesState:
    conferences: immutables.Map[int, Conference] = attrs.field(factory=immutables.Map)
    dial_ins: immutables.Map[int, DialIn] = attrs.field(factory=immutables.Map)  # by call
    next_id: int = 1
    next_join: int = 1  # the dial-in order of the next participant to join
    strikes: immutables.Map[str, Strikes] = attrs.field(factory=immutables.Map)  # by caller

    def conference(self, cid: int) -> Conference | None:
        return self.conferences.get(cid)

    def with_conference(self, conf: Conference) -> ConferencesState:
        return attrs.evolve(self, conferences=self.conferences.set(conf.id, conf))

    def joined_count(self) -> int:
        """Channels in use: every joined participant of every room holds one (CONF-01)."""
        return sum(len(c.joined) for c in self.conferences.values())

    def on_call(self, call: int) -> tuple[Conference, Participant] | None:
        """The conference and participant whose call (joined or called out) this is."""
        for conf in self.conferences.values():
            p = conf.on_call(call)
            if p is not None:
                return conf, p
        return None

    def of_user(self, user: str) -> list[Conference]:
        """The conferences ``user`` is a member of, in id order."""
        return [c for _, c in sorted(self.conferences.items()) if c.of_user(user) is not None]
