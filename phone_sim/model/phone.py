"""A simulated phone: its calls (one leg per call it is in), hook, ringer, features.

Pure state, fed with event and device-state documents (specs/mqtt.md) by the simulator. Every
call leg is rebuilt from an event's ``connections`` (the whole call after the event), so a
phone is right after any event it sees, whatever it missed before."""

from __future__ import annotations

from typing import Any

import attrs

Doc = dict[str, Any]

EXTERNAL_KINDS = ("external", "mobile")
PHONE_KINDS = ("system_phone", "sip_phone", "analog_phone")
ACTIVE = ("initiated", "connected", "fail")  # the states in which a phone is off-hook


def _connections(entries: list[Doc]) -> dict[str, str]:
    """device -> state of a call's connection list; parties that left (null) are gone."""
    return {c["device"]: c["state"] for c in entries if c["state"] != "null"}


@attrs.define
class Leg:
    """This phone's connection to one call."""

    call: int
    state: str  # ECMA-269 LocalConnectionState: initiated, alerting, connected, hold, fail
    others: dict[str, str]  # every other device of the call -> its connection state
    calling: str = ""  # the calling number as presented (a MULAP or mobility user's number)
    called: str = ""
    redirecting: str | None = None  # who forwarded/deflected/transferred it here
    group: str | None = None  # the MULAP a group call alerts (CALL-14)
    pending: str | None = None  # destination dialled once this phone is lifted (analogue)
    digits: str = ""  # dialled so far on this leg
    cause: str = ""  # cause of the last event of the leg (busy, ... when it failed)

    @property
    def peer(self) -> str:
        """The one other party, "" in a conference; ring-mates of a group call don't count."""
        if self.state == "alerting":
            return self.calling
        talking = [d for d, s in self.others.items() if s in ("connected", "hold")]
        if talking:
            return talking[0] if len(talking) == 1 else ""
        return next(iter(self.others)) if len(self.others) == 1 else ""

    @property
    def answered(self) -> bool:
        """Someone else is on the call (not just ringing)."""
        return any(s in ("connected", "hold") for s in self.others.values())


@attrs.define
class Phone:
    number: str
    kind: str = "system_phone"
    name: str = ""
    legs: dict[int, Leg] = attrs.Factory(dict)
    handset: bool = False  # lifted by the user (else off-hook means the speaker is on)
    dnd: bool = False
    forwarding: list[Doc] = attrs.Factory(list)
    summary: str = "idle"  # the node's connection-state summary (CALL-11); internal devices
    allowed: dict[int, list[str]] = attrs.Factory(dict)  # call -> services allowed now (CALL-12)
    peers: dict[int, tuple[str, str]] = attrs.Factory(dict)  # call -> (peer, name) per node
    mobile: str | None = None  # a mobility user's mobile number (CALL-15)
    members: tuple[str, ...] = ()  # MULAP member phones (CALL-14)
    seen: list[str] = attrs.Factory(list)  # event names this device received, in order
    state_seq: int = 0
    state_calls: list[int] = attrs.Factory(list)  # calls the node's device state lists
    # The user's presence (PRES-01/02): from the user's presence events and getPresence.
    presence: str = "office"
    presence_until: int | None = None  # ms since the epoch, UTC; None once it passed
    presence_info: str | None = None
    # The user's mailbox (VM-02): the message-waiting lamp and the new messages' count.
    message_waiting: bool = False
    new_messages: int = 0
    # Voicemail played to this phone (VM-04, the menu): (call, sha256) being played, and the
    # SHA-256 of each audio the phone fetched that matched what the node said it plays.
    playing: list[tuple[int, str]] = attrs.Factory(list)
    heard: list[str] = attrs.Factory(list)

    # -- what the node tells ------------------------------------------------------------------
    def on_event(self, doc: Doc) -> None:
        """An event of a call this phone is or was in, or a feature event of this device."""
        name = doc["event"]
        if "connections" not in doc:
            if name == "doNotDisturb":
                self.dnd = bool(doc["on"])
            elif name == "presenceChanged":
                self.on_presence(doc)
            elif name == "returnTimePassed":
                self.presence_until = None
            elif name == "messageWaiting":  # VM-02: the one truth of the lamp
                self.message_waiting = bool(doc["on"])
                self.new_messages = int(doc["new"])
            elif name == "messagePlaying" and doc.get("device") == self.number:
                self.playing.append((int(doc["call"]), str(doc["sha256"])))
            self.seen.append(name)
            return
        call = doc["call"]
        conns = _connections(doc["connections"])
        if self.number not in conns and call not in self.legs:
            return
        self.seen.append(name)
        if name in ("transferred", "conferenced") and doc.get("secondaryCall") is not None:
            self.legs.pop(doc["secondaryCall"], None)  # merged into ``call``
        state = conns.pop(self.number, "null")
        if state == "null" or name == "callCleared":
            self.legs.pop(call, None)
            if not self.off_hook:
                self.handset = False
            return
        leg = self.legs.get(call)
        if leg is None:
            leg = self.legs[call] = Leg(call, state, conns)
        leg.state, leg.others, leg.cause = state, conns, doc.get("cause", "")
        if name in ("serviceInitiated", "originated", "delivered", "established", "failed"):
            leg.calling = doc.get("calling") or leg.calling
            leg.called = doc.get("called") or leg.called
        if name == "serviceInitiated":
            leg.pending = doc.get("pending")
        elif name == "originated":
            leg.pending = None
        if name in ("delivered", "established") and doc.get("redirecting"):
            leg.redirecting = doc["redirecting"]
        if name == "delivered" and doc.get("group"):
            leg.group = doc["group"]
        if name == "transferred" and doc.get("transferring") != self.number:
            # No new delivered follows a transfer: who is on the other side now is the party
            # the transfer joined us with (ECMA-269), presented via the transferring device.
            leg.redirecting = doc.get("transferring")
            joined = [d for d, s in conns.items() if s in ("connected", "hold", "alerting")]
            if len(joined) == 1:
                if state == "alerting":
                    leg.calling = joined[0]
                else:
                    leg.called = joined[0]

    def on_presence(self, doc: Doc) -> None:
        """A presence event or a getPresence result of this phone's user."""
        self.presence = doc["status"]
        self.presence_until = doc.get("returnAt")
        self.presence_info = doc.get("info")

    @property
    def shown_presence(self) -> str:
        """The presence the node shows: DND is the phone's feature (specs/presence.md)."""
        if self.dnd:
            return "doNotDisturb"
        return "office" if self.presence == "doNotDisturb" else self.presence

    def on_snapshot(self, call: int, connections: list[Doc]) -> None:
        """A call already running when the simulator started (from snapshotCall)."""
        conns = _connections(connections)
        state = conns.pop(self.number, "null")
        if state != "null" and call not in self.legs:
            self.legs[call] = Leg(call, state, conns)

    def on_state(self, doc: Doc) -> None:
        """The retained busy-lamp state of this device."""
        if doc["seq"] < self.state_seq:
            return  # an older state delivered late (e.g. retained after a newer live one)
        self.state_seq = doc["seq"]
        self.name = doc.get("name") or self.name
        self.kind = doc.get("kind") or self.kind
        self.summary = doc["summary"]
        self.dnd = doc["dnd"]
        self.forwarding = list(doc["forwarding"])
        self.mobile = doc.get("mobile")
        self.members = tuple(doc.get("members") or ())
        self.allowed = {c["call"]: list(c["allowed"]) for c in doc["connections"]}
        self.state_calls = [c["call"] for c in doc["connections"]]
        self.peers = {
            c["call"]: (c["peer"], c["peerName"] or "") for c in doc["connections"] if c["peer"]
        }

    # -- what follows from it -----------------------------------------------------------------
    @property
    def external(self) -> bool:
        return self.kind in EXTERNAL_KINDS

    def legs_in(self, *states: str) -> list[Leg]:
        return [
            leg for leg in sorted(self.legs.values(), key=lambda x: x.call) if leg.state in states
        ]

    @property
    def active(self) -> Leg | None:
        """The leg the handset/speaker is on (dial tone, talking, busy tone)."""
        found = self.legs_in(*ACTIVE)
        return found[-1] if found else None

    @property
    def alerting(self) -> Leg | None:
        found = [leg for leg in self.legs_in("alerting")]
        return found[0] if found else None

    @property
    def held(self) -> Leg | None:
        found = self.legs_in("hold")
        return found[-1] if found else None

    @property
    def prompted(self) -> Leg | None:
        """An analogue phone asked to go off-hook for a makeCall (the user must lift it)."""
        leg = self.active
        return (
            leg
            if leg is not None and leg.pending is not None and leg.state == "initiated"
            else None
        )

    @property
    def off_hook(self) -> bool:
        return self.active is not None and self.prompted is None

    @property
    def speaker(self) -> bool:
        return self.off_hook and not self.handset

    @property
    def ringer(self) -> str:
        """off, ring, knock (call waiting while off-hook) or prompt (lift to dial)."""
        if self.prompted is not None:
            return "prompt"
        if self.alerting is None:
            return "off"
        return "knock" if self.off_hook else "ring"

    def status(self) -> str:
        """The CALL-11 summary: the node's for configured devices, derived for trunk parties."""
        if not self.external:
            return self.summary
        alerting, active, held = self.alerting, self.active, self.held
        if alerting is not None:
            return "incoming-internal" if alerting.calling.isdigit() else "incoming-external"
        if active is not None and active.state == "connected":
            others = [s for s in active.others.values() if s in ("connected", "hold")]
            if others:
                return (
                    "talking-external"
                    if any(d.startswith("+") for d in active.others)
                    else "talking-internal"
                )
            return "outgoing"
        if active is not None:
            return "outgoing"
        if held is not None:
            return "held"
        return "idle"

    def peer_of(self, leg: Leg) -> tuple[str, str]:
        """(number, name) of the party a leg is with, as the node presents it."""
        if leg.call in self.peers:
            return self.peers[leg.call]
        return leg.peer, ""
