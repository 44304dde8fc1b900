"""How the frozen logs were made (kept for the record; the tests never run this).

v1 (tests/frozen/v1/node1.db): the release that introduced event versions; v2: the same day,
then the accounts of the users issue (created from the site's seeds, changed, a password set,
one removed); v3: v2, then profiles (USER-03: numbers, e-mail, photos set, replaced, cleared);
v4-favourites: v3, then favourites (DIR-05: groups made, renamed, ordered and deleted,
colleagues and contacts added, ordered and removed, an account removed with favourites naming
it and its own).
v5-journal: v4-presence, then the journal (JOUR-03/04: notes with reminders, one reminder
passed and one pending, an entry marked done, one deleted, entries older than a period
deleted, a journal cleared).
v6-voicemail: v5-journal, then voicemail (VM-01..VM-07: messages left on deflected calls,
listened to, moved, deleted, recording off and a maximum, the phone menu with a wrong and the
right default PIN and the PIN changed there, a message played from the menu and on a phone
the system called, greetings, a message mailed and one refused for good, a mailbox removed with
its account).
v8-voicemail: v6-voicemail made again, then a message played on a phone the system called
(VM-04) that the node hangs up when the message is over (messagePlaying v2 with ``until``, the
call cleared by the timer, playbackEnded).
v6-digits: v5-journal, then DTMF keyed in a call between two phones (digitsGenerated).
v4-presence: v3, then presence (PRES-01..03: statuses with return times and info, one return
time passed and one pending, DND through presence, status-based forwarding and a call it
diverted; profileChanged v2 with a presence visibility of three levels).
v6-conferences: v3, then application conferences (CONF-01..06: created, renamed, members and
an external added, a guest PIN set and a PIN renewed, a moderator made and unmade; dial-ins
with wrong and right PINs, one cleared after three wrong ones, a guest joining and being
disconnected, a call-out to a busy phone; the last moderator leaving, rejoining and leaving
again, the end after 5 minutes; a guest's seat moved into a phone conference; a conference
deleted; a call-out left ringing).
v7-conferences: v6-conferences made again with the alone-timeout running in it, then: the seat
left alone disconnected after 30 minutes (aloneTimeout), a new conference joined by one
(aloneTimeoutSet) and a guest (aloneTimeoutCancelled), and a moderator's conference licence
taken away (the heir promoted).
v9-conferences: v7-conferences made again (with this file's PIN key, no longer the empty
one), then wrong PINs keyed by MULAP 340's assigned phone, counted against it, not the group number
(conferencePinRejected v2 with ``strikes``).
v10-devices: v1, then 332 with do-not-disturb and forwarding besides its redial list, removed
from the site file, and forgotten by an administrator (forgetDevices: deviceForgotten).
v4-directory: v3, then personal directories (DIR-01: contacts added, an import in two
contactsImported chunks, a re-import updating one, an imported contact edited, one deleted, an
account removed with its contacts).

A day of the example office that leaves one event of every kind in the log and a rich state
behind: open calls ringing, held, in a conference and in a callback; a pending no-answer timer;
DND, forwarding, redial lists and changed user settings.

    python -m tests.frozen.make_log v1 tests/frozen/v1/node1.db
    python -m tests.frozen.make_log v2 tests/frozen/v2/node1.db
    python -m tests.frozen.make_log v3 tests/frozen/v3/node1.db
    python -m tests.frozen.make_log v4-favourites tests/frozen/v4-favourites/node1.db
    python -m tests.frozen.make_log v4-presence tests/frozen/v4-presence/node1.db
    python -m tests.frozen.make_log v4-directory tests/frozen/v4-directory/node1.db
    python -m tests.frozen.make_log v5-journal tests/frozen/v5-journal/node1.db
    python -m tests.frozen.make_log v6-digits tests/frozen/v6-digits/node1.db
    python -m tests.frozen.make_log v6-conferences tests/frozen/v6-conferences/node1.db
    python -m tests.frozen.make_log v6-voicemail tests/frozen/v6-voicemail/node1.db
    python -m tests.frozen.make_log v7-conferences tests/frozen/v7-conferences/node1.db
    python -m tests.frozen.make_log v8-voicemail tests/frozen/v8-voicemail/node1.db
    python -m tests.frozen.make_log v10-devices tests/frozen/v10-devices/node1.db
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import attrs

from cti.accounts.commands import SetAssignedPhone, SetDialMethod
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.node import Accepted, Node
from cti.calls import commands as c
from cti.calls.values import ForwardingType
from cti.kernel.messages import Command
from cti.site import DialMethod, Site
from cti.store import SqliteStore

# The logs up to v8 were made with an empty key, which the node no longer takes: new ones use
# this fixed key (the rounds in a log depend on it only when two PINs collide).
KEY = b"frozen-log-conference-key"


def _site() -> Site:
    site = load_site()
    assert site.conferences is not None
    return attrs.evolve(site, conferences=attrs.evolve(site.conferences, pin_key=KEY))


def make(path: Path, version: str = "v1") -> None:
    node = Node(_site(), SqliteStore(path), ManualClock())

    def do(command: c.Command) -> int:
        outcome = node.execute(command)
        assert isinstance(outcome, Accepted), (command, outcome)
        call = outcome.result.get("call", 0)
        assert isinstance(call, int)
        return call

    fwd = ForwardingType
    # A transfer (held, retrieved, transferred) and a conference that stays up.
    a = do(c.MakeCall(calling="330", called="331"))
    do(c.AnswerCall(call=a, device="331"))
    do(c.HoldCall(call=a, device="330"))
    do(c.RetrieveCall(call=a, device="330"))
    b = do(c.ConsultationCall(call=a, device="330", consulted="332"))
    do(c.AnswerCall(call=b, device="332"))
    do(c.TransferCall(device="330"))
    do(c.ClearConnection(call=a, device="332"))
    conf = do(c.MakeCall(calling="335", called="336"))  # callback preferred: the mobile first
    do(c.AnswerCall(call=conf, device="+491701234567"))
    do(c.AnswerCall(call=conf, device="336"))
    do(c.ClearCall(call=conf))
    x = do(c.MakeCall(calling="300", called="333"))
    do(c.AnswerCall(call=x, device="333"))
    do(c.ConsultationCall(call=x, device="300", consulted="334"))
    do(c.OffHook(device="334"))  # an analogue phone answers by lifting
    do(c.ConferenceCall(device="300"))
    # A call from outside to a MULAP group, answered there, then deflected elsewhere.
    ext = do(c.Dial(device="+4930111111", digits="340"))
    do(c.AnswerCall(call=ext, device="338"))
    do(c.SingleStepTransferCall(call=ext, device="338", to="351"))
    do(c.ClearConnection(call=ext, device="+4930111111"))
    # Features: DND (a refused call), forwarding busy, no-answer forwarding with a timer.
    do(c.SetDoNotDisturb(device="330", on=True))
    do(c.MakeCall(calling="332", called="330"))  # failed: DND
    do(c.OnHook(device="332"))
    do(c.SetForwarding(device="331", forwarding_type=fwd.BUSY, on=True, destination="351"))
    do(
        c.SetForwarding(
            device="336", forwarding_type=fwd.NO_ANSWER, on=True, destination="351", ring_time=20
        )
    )
    ring = do(c.MakeCall(calling="332", called="336"))
    node.clock.advance(20)  # type: ignore[attr-defined]
    [fired] = node.fire_due_timers()  # timerCleared, diverted on no answer to voicemail
    assert fired.ok
    do(c.ClearCall(call=ring))
    deflected = do(c.Dial(device="+4930555555", digits="331"))
    do(c.DeflectCall(call=deflected, device="331", to="+4930222222"))
    pick = do(c.Dial(device="+4930333333", digits="331"))
    do(c.DirectedPickupCall(picked="331", device="330"))
    do(c.ClearCall(call=pick))
    do(c.SetForwarding(device="331", forwarding_type=fwd.BUSY, on=False))
    # What stays open: a ringing call with its no-answer timer, a held call.
    do(c.MakeCall(calling="330", called="336"))
    held = do(c.MakeCall(calling="331", called="+4930444444"))
    do(c.AnswerCall(call=held, device="+4930444444"))
    do(c.HoldCall(call=held, device="331"))
    # Accounts: changed user settings (USER-04).
    do(SetAssignedPhone(user="340", phone="338"))
    do(SetDialMethod(user="336", dial_method=DialMethod.CALLBACK_PREFERRED))
    later = ("v5-journal", "v6-digits", "v6-voicemail", "v8-voicemail")
    if version in ("v2", "v3", "v4-favourites", "v4-presence", "v4-directory", *later):
        accounts(do)
    if version in ("v3", "v4-favourites", "v4-presence", "v4-directory", *later):
        profiles(do)
    if version in ("v6-conferences", "v7-conferences", "v9-conferences"):
        accounts(do)
        profiles(do)
        conferences(do, node)
    if version in ("v7-conferences", "v9-conferences"):
        alone_and_licences(do, node)
    if version == "v9-conferences":
        strikes_of_a_phone(do, node)
    if version == "v4-favourites":
        favourites(do)
    if version in ("v4-presence", *later):
        presence(do, node.clock)  # type: ignore[arg-type]
    if version == "v4-directory":
        directory(do)
    if version in later:
        journal(do, node.clock)  # type: ignore[arg-type]
    if version == "v6-digits":
        digits(do)
    if version in ("v6-voicemail", "v8-voicemail"):
        voicemail(do, node.clock)  # type: ignore[arg-type]
    if version == "v8-voicemail":
        playback_timer(do, node)
    if version == "v10-devices":
        node = forget_a_removed_phone(do, node)
    node.store.close()


def accounts(do: Callable[[Command], int]) -> None:
    """Accounts (USER-01..05): seeded, changed, a password set, one removed."""
    from cti.accounts.commands import RemoveAccount, SeedAccounts, SetPasswordHash, UpdateAccount
    from cti.accounts.model import Licence, Role
    from cti.app.config import load_config

    users = {u.name: u for u in load_config().users}
    seeds = tuple(users[name].seed() for name in ("330", "331", "phone-sim"))
    do(SeedAccounts(accounts=seeds))
    do(UpdateAccount(name="331", role=Role.ADMIN, licences=(Licence.VOICEMAIL, Licence.MOBILITY)))
    fresh = users["332"].seed()
    assert fresh.password is not None and fresh.broker_password is not None
    do(
        SetPasswordHash(
            name="331",
            password=fresh.password,
            broker_password=fresh.broker_password,
            must_change=True,
        )
    )
    do(RemoveAccount(name="phone-sim"))


def profiles(do: Callable[[Command], int]) -> None:
    """Profiles (USER-03): set with a photo, the photo replaced, then cleared."""
    import io

    from PIL import Image

    from cti.accounts import photos
    from cti.accounts.commands import SetProfileChecked
    from cti.accounts.model import ProfileField, Visibility

    def photo(colour: tuple[int, ...], mode: str = "RGB") -> bytes:
        out = io.BytesIO()
        Image.new(mode, (120, 80), colour).save(out, "PNG")
        return out.getvalue()

    do(
        SetProfileChecked(
            name="330",
            mobile="0171 2345678",
            external="+49 30 1234567",
            email=" Anna.Berger@Example.COM ",
            photo=photos.prepare(photo((200, 40, 40))),
            voicemail_to_email=True,
        )
    )
    do(SetProfileChecked(name="331", photo=photos.prepare(photo((40, 200, 40)))))
    do(SetProfileChecked(name="331", photo=photos.prepare(photo((40, 40, 200)))))
    do(
        SetProfileChecked(
            name="331", presence_visibility=Visibility.NOT_VISIBLE, clear=(ProfileField.PHOTO,)
        )
    )
    do(SetProfileChecked(name="330", photo=photos.prepare(photo((9, 9, 9, 128), "RGBA"))))  # a PNG


def favourites(do: Callable[[Command], int]) -> None:
    """Favourites (DIR-05) of 330, 331 and 333; then 333's account is removed."""
    from cti.accounts.commands import RemoveAccount, SeedAccounts
    from cti.app.config import load_config
    from cti.favourites import commands as f

    users = {u.name: u for u in load_config().users}
    do(SeedAccounts(accounts=(users["332"].seed(), users["333"].seed())))
    do(f.AddFavourite(user="330", group_name="Team", colleague="331"))  # group 1, entry 2
    do(f.AddFavourite(user="330", group=1, contact_name="Dr. Meier", number="089 123456"))  # 3
    do(f.AddFavourite(user="330", group_name="Projekt", colleague="332"))  # group 4, entry 5
    do(f.AddFavourite(user="330", group=1, colleague="333"))  # 6
    do(f.AddFavourite(user="330", group=1, contact_name="Taxi", number="+49 89 21610"))  # 7
    do(f.RenameFavouriteGroup(user="330", group=1, name="Team Süd"))
    do(f.OrderFavouriteGroups(user="330", groups=(4, 1)))
    do(f.OrderFavourites(user="330", group=1, entries=(6, 7, 2, 3)))
    do(f.RemoveFavourite(user="330", entry=3))
    do(f.AddFavourite(user="331", group_name="Alle", colleague="330"))
    do(f.DeleteFavouriteGroup(user="331", group=1))
    do(f.AddFavourite(user="331", group_name="Kollegen", colleague="333"))
    do(f.AddFavourite(user="333", group_name="Chef", colleague="330"))
    do(RemoveAccount(name="333"))  # favouriteRemoved for 330 and 331, favouritesCleared


def presence(do: Callable[[Command], int], clock: ManualClock) -> None:
    """Presence (PRES-01..03): statuses, return times (one passes), DND, forwarding."""
    from cti.accounts.commands import SetProfileChecked
    from cti.accounts.model import Visibility
    from cti.presence.commands import ExpireReturnTime, SetPresence, SetPresenceForwarding
    from cti.presence.model import Status, TargetKind

    now = clock.now_ms()
    do(SetPresence(user="332", status=Status.MEETING, return_at=now + 60_000, info="Board room"))
    do(
        SetPresenceForwarding(
            user="332", status=Status.MEETING, target=TargetKind.NUMBER, number="0171 7654321"
        )
    )
    do(SetPresenceForwarding(user="330", status=Status.LUNCH, target=TargetKind.MOBILE))
    do(SetPresence(user="330", status=Status.LUNCH, return_at=now + 3_600_000))
    clock.advance(60)
    do(ExpireReturnTime(user="332"))  # what the node fires: returnTimePassed
    do(c.Dial(device="+4930666666", digits="332"))  # diverted to the meeting's number
    do(SetPresence(user="333", status=Status.DO_NOT_DISTURB, info="Focus time"))
    do(SetProfileChecked(name="330", presence_visibility=Visibility.INTERNAL_ONLY))  # PRES-04


def directory(do: Callable[[Command], int]) -> None:
    """Personal directories (DIR-01) of 330, 331 and 333; then 333's account is removed."""
    from cti.accounts.commands import RemoveAccount, SeedAccounts
    from cti.app.config import load_config
    from cti.directory import commands as d
    from cti.directory.fileimport import Encoding, FileFormat, parse

    users = {u.name: u for u in load_config().users}
    do(SeedAccounts(accounts=(users["332"].seed(), users["333"].seed())))
    do(d.AddContact(user="330", name="Dr. Meier", company="Praxis", business="089 123456"))
    do(d.AddContact(user="330", name="Taxi", mobile="+49 89 21610", email="taxi@example.de"))
    rows = "".join(f"Kontakt {i};Firma;0171 {1000000 + i}\n" for i in range(300))
    data = ("Name;Firma;Mobiltelefon\nJörg Müller;;089 7654321\nohne Nummer;;\n" + rows).encode()
    site = load_site()
    first = parse(site, data, FileFormat.CSV, Encoding.UTF_8)
    do(d.ImportContactsChecked(user="331", rows=first.rows, rejected=first.rejected))  # 2 events
    data = "Name;Mobil\nJörg Müller;0171 5555555\n".encode()
    again = parse(site, data, FileFormat.CSV, Encoding.UTF_8)
    do(d.ImportContactsChecked(user="331", rows=again.rows))  # updated
    do(d.ChangeContact(user="331", id=2, name="Kontakt 0", company="Firma", home="089 1"))
    do(d.DeleteContact(user="331", id=3))
    do(d.AddContact(user="333", name="Privat", mobile="0171 2222222"))
    do(RemoveAccount(name="333"))  # personalDirectoryCleared


def journal(do: Callable[[Command], int], clock: ManualClock) -> None:
    """The journal (JOUR-03/04) of 330 and 331, on the entries the calls above made."""
    from cti.journal import commands as j

    do(j.SetJournalNote(user="331", entry=1, note="Angebot nachfassen", remind_in=60))
    do(j.SetJournalNote(user="331", entry=2, note="Rückruf", remind_in=3600))
    do(j.SetJournalNote(user="330", entry=1, note="erledigt?"))
    clock.advance(60)
    do(j.ExpireJournalReminder(user="331", entry=1))  # what the node fires: journalReminderDue
    do(j.MarkJournalEntryDone(user="330", entry=1))
    do(j.DeleteJournalEntry(user="330", entry=2))
    do(j.DeleteJournalEntriesOlderThan(user="332", days=30))
    do(j.ClearJournal(user="333"))


def voicemail(do: Callable[[Command], int], clock: ManualClock) -> None:
    """Voicemail (VM-01..VM-07): 332's mailbox (seeded with the licence), mailed to Clara."""
    from cti.accounts.commands import RemoveAccount, SeedAccounts, SetProfileChecked
    from cti.app.config import load_config
    from cti.presence.commands import SetPresence
    from cti.presence.model import Status
    from cti.voicemail import commands as v
    from cti.voicemail.model import Audio, VoicemailFolder

    clara = next(u for u in load_config().users if u.name == "332")
    do(SeedAccounts(accounts=(clara.seed_without_password(),)))
    do(SetPresence(user="332", status=Status.OFFICE))  # back: her phone rings again
    do(SetProfileChecked(name="332", email="clara@example.com", voicemail_to_email=True))
    audio = Audio(sha256="ab" * 32, length=48044, duration_ms=3000)
    for caller in ("+4940123401", "+4940123402"):
        if caller.startswith("+"):
            call = do(c.Dial(device=caller, digits="332"))
        else:
            call = do(c.MakeCall(calling=caller, called="332"))
        do(c.DeflectCall(call=call, device="332", to="351"))
        do(v.RecordMessage(call=call, device=caller, audio=audio))
        do(c.ClearCall(call=call))
        clock.advance(60)
    do(v.MarkMessageMailed(user="332", message=1, message_id="<vm.1.332.1@node1.cti>"))
    do(v.ListenVoicemailMessage(user="332", message=1))
    do(v.MoveVoicemailMessage(user="332", message=1, folder=VoicemailFolder.NEW))
    do(v.MarkMailFailed(user="332", message=2, error="SMTPRecipientsRefused: 550 no such user"))
    do(v.DeleteVoicemailMessage(user="332", message=2))
    do(v.SetVoicemailRecording(user="332", recording=False))
    do(v.SetVoicemailMaximum(user="332", max_messages=20))
    menu = do(c.MakeCall(calling="332", called="351"))
    do(v.CheckedPin(call=menu, device="332", right=False))
    do(v.CheckedPin(call=menu, device="332", right=True))
    do(v.SetPinHash(user="332", pin_hash="$argon2id$v=19$m=65536,t=3,p=4$frozen", call=menu))
    do(c.GenerateDigits(call=menu, device="332", digits="1"))  # the menu plays message 1
    do(c.ClearCall(call=menu))
    played = do(v.PlayVoicemailMessage(user="332", message=1))  # VM-04
    do(c.AnswerCall(call=played, device="332"))
    do(c.ClearCall(call=played))
    # 330's mailbox goes with its account.
    do(v.SetVoicemailRecording(user="330", recording=False))
    do(RemoveAccount(name="330"))


def playback_timer(do: Callable[[Command], int], node: Node) -> None:
    """VM-04: 332's message 1 (3 s) played on her phone; the node hangs up when it is over."""
    from cti.voicemail import commands as v

    played = do(v.PlayVoicemailMessage(user="332", message=1))
    do(c.AnswerCall(call=played, device="332"))
    node.clock.advance(3)  # type: ignore[attr-defined]
    assert all(o.ok for o in node.fire_due_timers())  # other timers may be due as well
    assert node.state.calls.call(played) is None


def digits(do: Callable[[Command], int]) -> None:
    """DTMF between people (generateDigits): heard by both, the call stays up."""
    talk = do(c.MakeCall(calling="332", called="337"))
    do(c.AnswerCall(call=talk, device="337"))
    do(c.GenerateDigits(call=talk, device="332", digits="123#"))
    do(c.GenerateDigits(call=talk, device="337", digits="*"))


def conferences(do: Callable[[Command], int], node: Node) -> None:
    """Application conferences (CONF-01..06) with the key of :func:`_site`: the PINs are
    derived here the way the node derives them."""
    from cti.accounts.commands import UpdateAccount
    from cti.accounts.model import Licence, Role
    from cti.conferences import commands as k
    from cti.conferences import pins

    def pin(cid: int, pid: int) -> str:
        conf = node.state.conferences.conference(cid)
        assert conf is not None
        if pid == pins.GUEST:
            assert conf.guest_round is not None
            return pins.pin(KEY, cid, pid, conf.guest_round)
        p = conf.participant(pid)
        assert p is not None
        return pins.pin(KEY, cid, pid, p.pin_round)

    licences = (Licence.VOICEMAIL, Licence.MOBILITY, Licence.CONFERENCE)
    do(UpdateAccount(name="331", role=Role.ADMIN, licences=licences))
    do(k.CreateConference(user="330", name="Jour fixe"))
    do(k.RenameConference(user="330", conference=1, name="Weekly"))
    do(k.AddParticipant(user="330", conference=1, member="331"))
    do(k.AddParticipant(user="330", conference=1, name="Dr. Meier", number="+4930888001"))
    do(k.SetGuestPin(user="330", conference=1, enabled=True))
    do(k.RenewPin(user="330", conference=1, participant=3))
    do(k.SetModerator(user="330", conference=1, participant=2, moderator=True))
    do(k.SetModerator(user="331", conference=1, participant=1, moderator=False))
    # Dr. Meier dials in from outside: a wrong PIN, then the right one.
    meier = do(c.Dial(device="+4930888001", digits="391"))
    do(c.GenerateDigits(call=meier, device="+4930888001", digits="000000#"))
    do(c.GenerateDigits(call=meier, device="+4930888001", digits=pin(1, 3) + "#"))
    # Three wrong PINs: the call is cleared.
    stranger = do(c.Dial(device="+4930888002", digits="391"))
    for _ in range(3):
        do(c.GenerateDigits(call=stranger, device="+4930888002", digits="000000"))
    # A guest joins, and is disconnected (a guest leaves the list with the room).
    guest = do(c.MakeCall(calling="332", called="391"))
    do(c.GenerateDigits(call=guest, device="332", digits=pin(1, pins.GUEST)))
    do(k.DisconnectParticipant(user="331", conference=1, participant=4))
    # 331 (a moderator now, with a held call) joins, leaves, rejoins, leaves: 5 minutes.
    bernd = do(c.MakeCall(calling="331", called="391"))
    do(c.GenerateDigits(call=bernd, device="331", digits=pin(1, 2)))
    do(c.ClearConnection(call=bernd, device="331"))  # endScheduled
    bernd = do(c.MakeCall(calling="331", called="391"))
    do(c.GenerateDigits(call=bernd, device="331", digits=pin(1, 2)))  # endCancelled
    do(c.ClearConnection(call=bernd, device="331"))
    node.clock.advance(300)  # type: ignore[attr-defined]
    for outcome in node.fire_due_timers():  # participantLeft{conferenceEnded}, conferenceEnded
        assert outcome.ok
    # A call-out to 331 (busy: its held call) fails; Dr. Meier's is left ringing.
    do(k.CallOut(user="331", conference=1, participant=2))  # callOutFailed
    do(k.SetModerator(user="331", conference=1, participant=1, moderator=True))
    do(k.CallOut(user="331", conference=1, participant=3))  # Dr. Meier rings
    # 332 brings 337 in: a consultation to the dial-in, the guest PIN, a phone conference.
    talk = do(c.MakeCall(calling="332", called="337"))
    do(c.AnswerCall(call=talk, device="337"))
    seat = do(c.ConsultationCall(call=talk, device="332", consulted="391"))
    do(c.GenerateDigits(call=seat, device="332", digits=pin(1, pins.GUEST)))
    do(c.ConferenceCall(device="332"))  # bridgeCallMoved
    do(k.CreateConference(user="331", name="Gone"))
    do(k.RemoveParticipant(user="331", conference=1, participant=1))
    do(k.DeleteConference(user="331", conference=2))


def strikes_of_a_phone(do: Callable[[Command], int], node: Node) -> None:
    """Wrong PINs counted against the phone that keys them (conferencePinRejected v2 with
    ``strikes``): MULAP 340's assigned phone presents the group number."""
    call = do(c.MakeCall(calling="340", called="391"))
    found = node.state.calls.calls[call]
    [phone] = [p.device for p in found.parties if p.device != "391"]
    for _ in range(2):
        do(c.GenerateDigits(call=call, device=phone, digits="000000#"))
    do(c.ClearConnection(call=call, device=phone))


def alone_and_licences(do: Callable[[Command], int], node: Node) -> None:
    """The alone-timeout and a licence taken away (after :func:`conferences`)."""
    from cti.accounts.commands import UpdateAccount
    from cti.conferences import commands as k
    from cti.conferences import pins

    node.clock.advance(30 * 60)  # type: ignore[attr-defined]
    for outcome in node.fire_due_timers():  # the seat left alone: participantLeft{aloneTimeout}
        assert outcome.ok
    do(k.CreateConference(user="330", name="Team"))  # conference 3
    do(k.AddParticipant(user="330", conference=3, member="331"))
    conf = node.state.conferences.conference(3)
    assert conf is not None
    bernd = conf.participant(2)
    assert bernd is not None
    # Anna's licence goes: Bernd (licensed) moderates conference 3 (the rule of CONF-02).
    do(UpdateAccount(name="330", licences=()))
    call = do(c.MakeCall(calling="331", called="391"))
    do(c.GenerateDigits(call=call, device="331", digits=pins.pin(KEY, 3, 2, bernd.pin_round)))
    do(k.SetGuestPin(user="331", conference=3, enabled=True))
    conf = node.state.conferences.conference(3)
    assert conf is not None and conf.guest_round is not None
    guest = do(c.Dial(device="+4930888003", digits="391"))
    pin = pins.pin(KEY, 3, pins.GUEST, conf.guest_round)
    do(c.GenerateDigits(call=guest, device="+4930888003", digits=pin))  # aloneTimeoutCancelled


def forget_a_removed_phone(do: Callable[[Command], int], node: Node) -> Node:
    """332 (a redial list from the day) gets DND and forwarding, leaves the site file, and an
    administrator forgets it; the node goes on with the site without it."""
    do(c.SetDoNotDisturb(device="332", on=True))
    fwd = ForwardingType.IMMEDIATE
    do(c.SetForwarding(device="332", forwarding_type=fwd, on=True, destination="351"))
    site = node.site
    devices = {n: d for n, d in site.devices.items() if n != "332"}
    without = attrs.evolve(site, devices=devices, pickup_groups=(("330", "331"),))
    node = Node(without, node.store, node.clock)
    outcome = node.execute(c.ForgetDevices(devices=("332",)))
    assert isinstance(outcome, Accepted) and outcome.result == {"forgotten": ["332"]}
    return node


if __name__ == "__main__":
    make(Path(sys.argv[2]), sys.argv[1])
