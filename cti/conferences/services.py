"""Where the conference services are decided (CONF-01..08). Bad input is refused by name and
changes nothing; every refusal of a rule of the room names the rule (``details.rule``).

Only members see a conference: to anyone else one they are not in does not exist
(``unknownConference``, the same answer as for an id that was never used).
"""

from __future__ import annotations

from typing import Any

from cti.accounts.model import PEOPLE, Licence
from cti.calls import routing, system
from cti.calls.decision import CallDecision
from cti.calls.values import ConnectionState
from cti.conferences import commands as cmd
from cti.conferences import events as ev
from cti.conferences import invitations, pins
from cti.conferences.model import (
    END_AFTER_MS,
    MAX_PARTICIPANTS,
    Conference,
    EndCancelled,
    LeftReason,
    Participant,
)
from cti.directory import entries
from cti.directory.entries import Directory
from cti.favourites.model import Colleague, Entry
from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal, invalid_field
from cti.site.model import ConferencePlan
from cti.site.numbers import InvalidNumber

REFUSALS = frozenset(
    {
        "invalidParameterValue",
        "conferencesNotConfigured",
        "unknownConference",
        "unknownParticipant",
        "unknownUser",
        "notAModerator",
        "lastModerator",
        "externalCannotModerate",
        "moderatorNeedsLicence",
        "conferenceFull",
        "noChannel",
        "notInactive",
        "notInConference",
        "unknownFavourite",
        "unknownEntry",
        "invalidDestination",  # a call-out the switch cannot place (CSTA names)
        "invalidCalledDeviceID",
    }
)


def rule(name: str, message: str, rule_id: str, **details: object) -> Refusal:
    """A refusal of a rule of the room: the message and ``details.rule`` name it."""
    return Refusal(name, f"{message} ({rule_id})", {"rule": rule_id, **details})


def plan(d: CallDecision) -> ConferencePlan:
    if d.site.conferences is None:
        raise Refusal(
            "conferencesNotConfigured",
            "this site has no conference dial-in ([conferences] in the site file, CONF-03)",
        )
    return d.site.conferences


def member(d: CallDecision, cid: int, user: str) -> tuple[Conference, Participant]:
    conf = d.state.conferences.conference(cid)
    me = None if conf is None else conf.of_user(user)
    if conf is None or me is None:
        raise Refusal("unknownConference", f"{user} has no conference {cid}", {"conference": cid})
    return conf, me


def moderator(d: CallDecision, cid: int, user: str, action: str) -> Conference:
    conf, me = member(d, cid, user)
    if not me.moderator:
        raise rule("notAModerator", f"only moderators {action}", "CONF-02", conference=cid)
    return conf


def participant_of(conf: Conference, pid: int) -> Participant:
    p = conf.participant(pid)
    if p is None:
        raise Refusal(
            "unknownParticipant",
            f"conference {conf.id} has no participant {pid}",
            {"participant": pid},
        )
    return p


def _name(text: str, field: str = "name") -> str:
    name = " ".join(text.split())
    if not name:
        raise invalid_field(field, "empty", f"{field}: give a name")
    return name


def _conf(d: CallDecision, cid: int) -> Conference:
    conf = d.state.conferences.conference(cid)
    assert conf is not None
    return conf


# -- CONF-01: scheduled (permanent) conferences ----------------------------------------------


def create(d: CallDecision, c: cmd.CreateConference) -> None:
    """The creator is the first moderator (CONF-02). Creating a conference of the same name
    again answers the one the user already moderates (a retry is harmless, rule 5)."""
    plan(d)
    name = _name(c.name)
    for conf in d.state.conferences.of_user(c.user):
        me = conf.of_user(c.user)
        if conf.name == name and conf.owner == c.user and me is not None and me.moderator:
            d.result = {"conference": conf.id, "participant": me.id}
            return
    cid = d.state.conferences.next_id
    d.emit(ev.ConferenceCreated(conference=cid, name=name, owner=c.user))
    added = _add(d, cid, name=_display(d, c.user), number=c.user, user=c.user, moderator=True)
    d.result = {"conference": cid, "participant": added}


def rename(d: CallDecision, c: cmd.RenameConference) -> None:
    conf = moderator(d, c.conference, c.user, "rename a conference")
    name = _name(c.name)
    if name != conf.name:
        d.emit(ev.ConferenceRenamed(conference=conf.id, name=name))


def delete(d: CallDecision, c: cmd.DeleteConference) -> None:
    conf = moderator(d, c.conference, c.user, "delete a conference")
    for p in conf.participants:
        if p.call is not None:
            _leave(d, conf.id, p, LeftReason.CONFERENCE_DELETED)
    d.emit(ev.ConferenceDeleted(conference=conf.id))


# -- the list: add, remove (CONF-02, CONF-04, CONF-05, CONF-08) ------------------------------


def _display(d: CallDecision, user: str) -> str:
    dev = d.site.devices.get(user)
    account = d.state.accounts.account(user)
    if account is not None and account.display_name:
        return account.display_name
    return dev.name if dev is not None and dev.name else user


def _add(
    d: CallDecision,
    cid: int,
    *,
    name: str,
    number: str,
    user: str | None = None,
    moderator: bool = False,
    guest: bool = False,
) -> int:
    """Add one participant with a PIN no conference uses; refuses a 17th (CONF-04)."""
    conf = _conf(d, cid)
    if len(conf.participants) >= MAX_PARTICIPANTS:
        raise rule(
            "conferenceFull",
            f"a conference has at most {MAX_PARTICIPANTS} participants",
            "CONF-04",
            conference=cid,
        )
    pid = conf.next_participant
    key = plan(d).pin_key
    round_ = pins.free_round(key, d.state.conferences, cid, pid, 0)
    d.emit(
        ev.ParticipantAdded(
            conference=cid,
            participant=pid,
            name=name,
            number=number,
            user=user,
            moderator=moderator,
            guest=guest,
            pin_round=round_,
        )
    )
    return pid


def _add_external(d: CallDecision, cid: int, name: str, number: str) -> int:
    """Someone entered by hand or found in a directory: external, never a moderator."""
    try:
        dialled = d.site.plan.resolve(number.strip()).number
    except InvalidNumber as exc:
        raise invalid_field("number", "notANumber", f"number: {exc}") from None
    for p in _conf(d, cid).participants:
        if p.external and p.number == dialled and not p.guest:
            return p.id
    return _add(d, cid, name=_name(name), number=dialled)


def add_participant(d: CallDecision, c: cmd.AddParticipant) -> None:
    moderator(d, c.conference, c.user, "add participants")
    if (c.member is None) == (c.number is None):
        raise invalid_field(
            "member", "memberOrNumber", "give a member (an account) or a name and number"
        )
    if c.member is not None:
        if c.name is not None:
            raise invalid_field("name", "notForMember", "a member's name is their profile's")
        pid = _add_member(d, c.conference, c.member)
    else:
        assert c.number is not None
        pid = _add_external(d, c.conference, c.name or "", c.number)
    d.result = {"participants": [pid]}


def _add_member(d: CallDecision, cid: int, user: str) -> int:
    account = d.state.accounts.account(user)
    if account is None or account.role not in PEOPLE:
        raise Refusal("unknownUser", f"{user!r} is no user of this site", {"member": user})
    present = _conf(d, cid).of_user(user)
    if present is not None:
        return present.id
    return _add(d, cid, name=_display(d, user), number=user, user=user)


def _from_favourite(d: CallDecision, cid: int, entry: Entry) -> int:
    if isinstance(entry, Colleague):
        return _add_member(d, cid, entry.account)
    return _add_external(d, cid, entry.name, entry.number)


def add_favourites(d: CallDecision, c: cmd.AddFavourites) -> None:
    """CONF-08: one favourite (``entry``) or a whole group (``group``), in their order."""
    moderator(d, c.conference, c.user, "add participants")
    if (c.group is None) == (c.entry is None):
        raise invalid_field("group", "groupOrEntry", "give a favourites group or an entry")
    favs = d.state.favourites.of(c.user)
    entries: tuple[Entry, ...]
    if c.group is not None:
        group = favs.group(c.group)
        if group is None:
            raise Refusal("unknownFavourite", f"{c.user} has no group {c.group}")
        entries = group.entries
    else:
        assert c.entry is not None
        found = favs.find(c.entry)
        if found is None:
            raise Refusal("unknownFavourite", f"{c.user} has no favourite {c.entry}")
        entries = (found[1],)
    d.result = {"participants": [_from_favourite(d, c.conference, e) for e in entries]}


def add_directory_entry(d: CallDecision, c: cmd.AddDirectoryEntry) -> None:
    """CONF-08: a hit of the sender's directory search, looked up here (the name is the
    directory's, not the client's): an internal user as a member, else external."""
    moderator(d, c.conference, c.user, "add participants")
    found = entries.entry(d.site, d.state, c.user, c.directory, c.id)
    if found is None:
        raise Refusal(
            "unknownEntry",
            f"{c.user} has no {c.directory} directory entry {c.id!r}",
            {"directory": c.directory.value, "id": c.id},
        )
    account = d.state.accounts.account(c.id) if c.directory is Directory.INTERNAL else None
    if account is not None and account.role in PEOPLE:
        d.result = {"participants": [_add_member(d, c.conference, c.id)]}
        return
    numbers = [n["number"] for n in found["numbers"]]
    if c.number is not None and c.number not in numbers:
        raise invalid_field("number", "notOfEntry", f"number: one of {numbers}")
    if not numbers:
        raise invalid_field("number", "entryHasNone", f"{found['name']} has no number")
    number = c.number or numbers[0]
    d.result = {"participants": [_add_external(d, c.conference, found["name"], number)]}


def remove_participant(d: CallDecision, c: cmd.RemoveParticipant) -> None:
    conf = moderator(d, c.conference, c.user, "remove participants")
    p = participant_of(conf, c.participant)
    if p.moderator and len(conf.moderators) == 1:
        raise rule(
            "lastModerator",
            "the last moderator cannot be removed: make another one first",
            "CONF-02",
            participant=p.id,
        )
    if p.call is not None:
        _leave(d, conf.id, p, LeftReason.REMOVED)
    if not p.guest:  # a guest leaves the list as they leave the room
        d.emit(ev.ParticipantRemoved(conference=conf.id, participant=p.id))


def disconnect_participant(d: CallDecision, c: cmd.DisconnectParticipant) -> None:
    """CONF-05: out of the room, still in the list (a guest, who has no list place, goes)."""
    conf = moderator(d, c.conference, c.user, "disconnect participants")
    p = participant_of(conf, c.participant)
    if p.call is None:
        raise rule(
            "notInConference",
            f"participant {p.id} is not in the conference call",
            "CONF-05",
            participant=p.id,
        )
    _leave(d, conf.id, p, LeftReason.DISCONNECTED)


# -- moderators and PINs (CONF-02, CONF-03) ---------------------------------------------------


def set_moderator(d: CallDecision, c: cmd.SetModerator) -> None:
    conf = moderator(d, c.conference, c.user, "appoint moderators")
    p = participant_of(conf, c.participant)
    if p.moderator == c.moderator:
        return
    if c.moderator:
        if p.user is None:
            raise rule(
                "externalCannotModerate",
                "an external (manually entered) participant cannot be a moderator",
                "CONF-02",
                participant=p.id,
            )
        account = d.state.accounts.account(p.user)
        if account is None or Licence.CONFERENCE not in account.licences:
            raise rule(
                "moderatorNeedsLicence",
                f"{p.user} has no conference licence to moderate",
                "CONF-02",
                participant=p.id,
            )
        d.emit(ev.ModeratorSet(conference=conf.id, participant=p.id, moderator=True))
        if p.joined and _conf(d, conf.id).ends_at is not None:
            d.emit(ev.EndCancelledEvent(conference=conf.id, reason=EndCancelled.MODERATOR_REJOINED))
        return
    if len(conf.moderators) == 1:
        raise rule(
            "lastModerator",
            "at least one moderator remains: make another one first",
            "CONF-02",
            participant=p.id,
        )
    d.emit(ev.ModeratorSet(conference=conf.id, participant=p.id, moderator=False))
    if p.joined:
        _moderator_gone(d, conf.id)


def renew_pin(d: CallDecision, c: cmd.RenewPin) -> None:
    """A moderator renews anyone's PIN, a participant their own (rule 7: revocable)."""
    conf, me = member(d, c.conference, c.user)
    p = participant_of(conf, c.participant)
    if p.id != me.id and not me.moderator:
        raise rule(
            "notAModerator", "only moderators renew others' PINs", "CONF-02", conference=conf.id
        )
    round_ = pins.free_round(plan(d).pin_key, d.state.conferences, conf.id, p.id, p.pin_round)
    d.emit(ev.PinRenewed(conference=conf.id, participant=p.id, pin_round=round_))


def set_guest_pin(d: CallDecision, c: cmd.SetGuestPin) -> None:
    conf = moderator(d, c.conference, c.user, "set the guest PIN")
    if not c.enabled:
        if conf.guest_round is not None:
            d.emit(ev.GuestPinSet(conference=conf.id, pin_round=None))
        return
    after = conf.guest_round or 0
    key = plan(d).pin_key
    round_ = pins.free_round(key, d.state.conferences, conf.id, pins.GUEST, after)
    d.emit(ev.GuestPinSet(conference=conf.id, pin_round=round_))


# -- leaving and the 5-minute rule (CONF-05, CONF-06) -----------------------------------------


def hang_up_call(d: CallDecision, call: int) -> None:
    """The bridge clears its side of ``call``: the caller's phone sees the call end."""
    plan = d.site.conferences
    existing = d.switch.call(call)
    if plan is None or existing is None:
        return
    if existing.state_of(plan.dial_in) is not ConnectionState.NULL:
        routing.leave(d, call, plan.dial_in)


def _leave(
    d: CallDecision, cid: int, p: Participant, reason: LeftReason, *, hang_up: bool = True
) -> None:
    """``p`` leaves the room (or a call-out ends): recorded first, then (``hang_up``) the
    switch clears the call from the bridge's side, so the reaction to that clearing finds no
    participant. A reaction to the switch clearing the call itself does not hang up."""
    call, was_moderator = p.call, p.moderator and p.joined
    d.emit(ev.ParticipantLeft(conference=cid, participant=p.id, reason=reason))
    if p.guest:
        d.emit(ev.ParticipantRemoved(conference=cid, participant=p.id))
    if hang_up and call is not None:
        hang_up_call(d, call)
    if reason in (LeftReason.CONFERENCE_DELETED, LeftReason.CONFERENCE_ENDED):
        return
    conf = _conf(d, cid)
    if not conf.joined and conf.ends_at is not None:
        d.emit(ev.EndCancelledEvent(conference=cid, reason=EndCancelled.ROOM_EMPTY))
    elif was_moderator:
        _moderator_gone(d, cid)


def _moderator_gone(d: CallDecision, cid: int) -> None:
    """A joined moderator left (or stopped moderating): if none is left in the room while
    others are, they are told and the conference ends in 5 minutes (CONF-06)."""
    conf = _conf(d, cid)
    if conf.ends_at is None and conf.joined and not any(p.moderator for p in conf.joined):
        d.emit(ev.EndScheduled(conference=cid, ends_at=d.now_ms + END_AFTER_MS))


def end_conference(d: CallDecision, c: cmd.EndConference) -> None:
    """The timer fired: records nothing when it is stale (a moderator rejoined, the room
    emptied or the conference went between the timer being found due and now)."""
    conf = d.state.conferences.conference(c.conference)
    if conf is None or conf.ends_at is None or conf.ends_at > d.now_ms:
        return
    for p in conf.participants:
        if p.call is not None:
            _leave(d, conf.id, p, LeftReason.CONFERENCE_ENDED)
    d.emit(ev.ConferenceEnded(conference=conf.id))


# -- an account removed -----------------------------------------------------------------------


def forget_member(d: Decision[Any], user: str) -> None:
    """An account is being removed (removeAccount): it leaves every conference (its call
    cleared if joined). A conference it was the last moderator of gets the first remaining
    internal participant with the conference licence as moderator, or, with none, is deleted:
    a conference never lacks a moderator (CONF-02). Recorded as the usual events, in the
    same decision."""
    cd = CallDecision.view(d)
    for conf in cd.state.conferences.of_user(user):
        p = conf.of_user(user)
        assert p is not None
        if p.call is not None:
            _leave(cd, conf.id, p, LeftReason.REMOVED)
        cd.emit(ev.ParticipantRemoved(conference=conf.id, participant=p.id))
        conf = _conf(cd, conf.id)
        if conf.moderators:
            continue
        heir = next((q for q in conf.participants if _licensed(cd, q.user)), None)
        if heir is None:
            for q in conf.participants:
                if q.call is not None:
                    _leave(cd, conf.id, q, LeftReason.CONFERENCE_DELETED)
            cd.emit(ev.ConferenceDeleted(conference=conf.id))
            continue
        cd.emit(ev.ModeratorSet(conference=conf.id, participant=heir.id, moderator=True))
        if heir.joined and _conf(cd, conf.id).ends_at is not None:
            cd.emit(
                ev.EndCancelledEvent(conference=conf.id, reason=EndCancelled.MODERATOR_REJOINED)
            )


def _licensed(d: CallDecision, user: str | None) -> bool:
    account = None if user is None else d.state.accounts.account(user)
    return account is not None and Licence.CONFERENCE in account.licences


# -- invitations (CONF-07) -------------------------------------------------------------------


def invitation(d: CallDecision, c: cmd.ConferenceInvitation) -> None:
    """Records nothing; the text is the result, for the sender alone."""
    key = plan(d).pin_key
    conf, me = member(d, c.conference, c.user)
    if c.participant != me.id and not me.moderator:
        raise rule(
            "notAModerator",
            "only moderators get others' invitations",
            "CONF-02",
            conference=conf.id,
        )
    if c.participant is None:
        guest = None
        if conf.guest_round is not None:
            guest = pins.pin(key, conf.id, pins.GUEST, conf.guest_round)
        body = invitations.text(d.site, c.language, conf.name, guest=guest)
    else:
        p = participant_of(conf, c.participant)
        personal = pins.pin(key, conf.id, p.id, p.pin_round)
        body = invitations.text(d.site, c.language, conf.name, name=p.name, personal=personal)
    external, internal = invitations.dial_in_numbers(d.site)
    d.result = {"text": body, "dialIn": external, "dialInInternal": internal}


# -- call-out (CONF-04) ----------------------------------------------------------------------


def call_out(d: CallDecision, c: cmd.CallOut) -> None:
    """The system calls participants from the dial-in device: ``participant``, or every
    inactive one. Each call is recorded as the participant's before the switch places it,
    so a call that fails at once (busy) already finds them (``callOutFailed``). Refused with
    ``noChannel`` when the joined and the called would exceed the site's channels."""
    conf = moderator(d, c.conference, c.user, "call participants out")
    channels = plan(d).channels
    if c.participant is not None:
        p = participant_of(conf, c.participant)
        if p.call is not None:
            raise Refusal(
                "notInactive",
                f"participant {p.id} is already in the conference call or ringing",
                {"participant": p.id},
            )
        targets = [p]
    else:
        targets = [p for p in conf.participants if p.call is None]
    busy = sum(
        1
        for x in d.state.conferences.conferences.values()
        for p in x.participants
        if p.call is not None
    )
    if busy + len(targets) > channels:
        raise Refusal(
            "noChannel",
            f"the site has {channels} conference channels; {busy} are in use or ringing",
            {"channels": channels, "inUse": busy},
        )
    calls: list[int] = []
    for p in targets:

        def one(p: Participant = p) -> None:
            calls.append(_call_out_one(d, conf.id, p))

        # Everyone: one whose number the switch refuses is skipped; the one asked for: its
        # refusal is the answer.
        if not d.attempt(one) and c.participant is not None:
            one()
    d.result = {"calls": calls}


def _call_out_one(d: CallDecision, cid: int, p: Participant) -> int:
    call = d.new_call_id()
    d.emit(ev.ParticipantCalling(conference=cid, participant=p.id, call=call))
    placed = system.place_call(d, plan(d).dial_in, p.number)
    assert placed == call
    return call


SERVICES: dict[type[Any], Any] = {
    cmd.CreateConference: create,
    cmd.RenameConference: rename,
    cmd.DeleteConference: delete,
    cmd.AddParticipant: add_participant,
    cmd.AddFavourites: add_favourites,
    cmd.AddDirectoryEntry: add_directory_entry,
    cmd.RemoveParticipant: remove_participant,
    cmd.DisconnectParticipant: disconnect_participant,
    cmd.CallOut: call_out,
    cmd.SetModerator: set_moderator,
    cmd.RenewPin: renew_pin,
    cmd.SetGuestPin: set_guest_pin,
    cmd.ConferenceInvitation: invitation,
    cmd.EndConference: end_conference,
}
