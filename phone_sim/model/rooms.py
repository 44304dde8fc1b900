"""What the application conferences' events (specs/conferences.md) mean for a phone's display:
which calls are seats in a room, and the notice a seat's phone shows instead of "Connected".

The node carries no media, so a media server would play these; phone-sim shows them on the
display: "Waiting until 10:30" (alone in the room, music on hold, disconnected then unless
someone joins) and "Ends at 10:05" (the moderator left, CONF-06). Pure state, fed with the
node-wide events in log order."""

from __future__ import annotations

import time
from typing import Any

import attrs

Doc = dict[str, Any]
EVENTS = frozenset(
    {
        "participantJoined",
        "participantLeft",
        "bridgeCallMoved",
        "endScheduled",
        "endCancelled",
        "conferenceEnded",
        "conferenceDeleted",
        "aloneTimeoutSet",
        "aloneTimeoutCancelled",
    }
)


def hhmm(ms: int) -> str:
    return time.strftime("%H:%M", time.gmtime(ms / 1000))


@attrs.define
class Rooms:
    seats: dict[tuple[int, int], int] = attrs.Factory(dict)  # (conference, participant) -> call
    ends: dict[int, int] = attrs.Factory(dict)  # conference -> endsAt (ms UTC)
    alone: dict[int, tuple[int, int]] = attrs.Factory(dict)  # conference -> (participant, ms)

    def on_event(self, doc: Doc) -> bool:
        """Apply a conference event; False for any other event (nothing changed)."""
        name = doc["event"]
        if name not in EVENTS:
            return False
        conf: int = doc.get("conference", 0)  # bridgeCallMoved names no conference
        if name == "participantJoined":
            self.seats[(conf, doc["participant"])] = doc["call"]
        elif name == "participantLeft":
            self.seats.pop((conf, doc["participant"]), None)
            if conf in self.alone and self.alone[conf][0] == doc["participant"]:
                del self.alone[conf]
        elif name == "bridgeCallMoved":
            for seat, call in self.seats.items():
                if call == doc["call"]:
                    self.seats[seat] = doc["into"]
        elif name == "endScheduled":
            self.ends[conf] = doc["endsAt"]
        elif name in ("endCancelled", "conferenceEnded"):
            self.ends.pop(conf, None)
        elif name == "conferenceDeleted":
            self.ends.pop(conf, None)
            self.alone.pop(conf, None)
        elif name == "aloneTimeoutSet":
            self.alone[conf] = (doc["participant"], doc["disconnectsAt"])
        elif name == "aloneTimeoutCancelled":
            self.alone.pop(conf, None)
        return True

    def notices(self) -> dict[int, str]:
        """call -> what the display of the phone on that seat shows."""
        out: dict[int, str] = {}
        for (conf, participant), call in self.seats.items():
            if conf in self.ends:
                out[call] = f"Ends at {hhmm(self.ends[conf])}"
            elif conf in self.alone and self.alone[conf][0] == participant:
                out[call] = f"Waiting until {hhmm(self.alone[conf][1])}"
        return out
