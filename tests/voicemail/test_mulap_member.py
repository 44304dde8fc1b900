"""A person whose own phone is a member of a MULAP group (CALL-14): the group's account acts
as the phone, and still never gets the person's own things (VM-02, VM-03, VM-04, PRES-04,
USER-03; specs/security.md "Topics: who reads and writes").

The example office with Bernd's phone 331 in the group 340 (with 337 and 338; 340 has the
voicemail licence). On the node: requests through the API (cti.api.voicemail), and what replay
gives a user (access.may_read, as the MQTT face answers it). The same through the broker and
its ACL files: tests/security/test_mulap_member.py."""

from __future__ import annotations

import base64
from pathlib import Path

import attrs

from cti.accounts.access import may_read, readable
from cti.accounts.commands import SeedAccounts, SetProfileChecked
from cti.accounts.model import Visibility
from cti.app.config import load_config
from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.views import touched_devices
from cti.kernel.messages import Event
from cti.presence.commands import SetPresence
from cti.presence.model import Status
from tests.office import Office
from tests.voicemail.helpers import VM, Voicemail, tone

EXAMPLE = Path(__file__).parents[2] / "cti" / "sites" / "example.toml"


def member_site(directory: Path) -> Path:
    """The example office, Bernd's own phone 331 also a member of the group 340, which has a
    mailbox of its own."""
    text = EXAMPLE.read_text()
    for old, new in (
        ('members = ["337", "338"]', 'members = ["331", "337", "338"]'),
        ('name = "340"\n', 'name = "340"\nlicences = ["voicemail"]\n'),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = directory / "office.toml"
    path.write_text(text)
    return path


def member_office(directory: Path) -> Voicemail:
    config = load_config(member_site(directory))
    office = Office(config.site)
    ready = tuple(
        attrs.evolve(
            u.seed_without_password(),
            password="argon2-hash",
            broker_password="broker-hash",
            must_change=False,
        )
        for u in config.users
    )
    office.do(SeedAccounts(accounts=ready))
    return Voicemail(directory, office)


def message_for_bernd(vm: Voicemail) -> int:
    """330 leaves 331 a message; 331 has it played on their own phone (VM-04) and answers:
    the call on which it plays."""
    call = vm.deflected("330", "331")
    assert vm.leave(call)["ok"]
    vm.office.do(c.ClearCall(call=call))
    placed = vm.ok("playVoicemailMessage", principal="331", user="331", message=1)
    assert placed["device"] == "331"
    vm.office.do(c.AnswerCall(call=placed["call"], device="331"))
    return int(placed["call"])


def replayed(vm: Voicemail, user: str) -> list[Event]:
    """What ``user``'s replay gives (cti.mqtt.face.service: access.may_read; never an
    INTERNAL event)."""
    scope = readable(vm.node.site, vm.node.state, user)
    return [
        x.event
        for x in vm.office.committed()
        if not x.event.INTERNAL and may_read(scope, user, x.event)
    ]


def test_vm_04_the_group_cannot_fetch_a_message_played_on_a_members_own_phone(
    tmp_path: Path,
) -> None:
    """340 controls phone 331 and is in the call (so getMailbox was its only refusal before):
    the audio played there is Bernd's, refused notPermitted; Bernd, phone-sim (the phone) and
    the monitor account (a recorder: it reads everything, specs/security.md) get exactly the
    stored bytes."""
    vm = member_office(tmp_path)
    call = message_for_bernd(vm)
    asked = {"call": call, "device": "331"}
    assert vm.error("fetchVoicemailAudio", principal="340", **asked) == "notPermitted"
    assert vm.error_reply == {
        "code": "notPermitted",
        "message": "340 may use fetchVoicemailAudio on their own mailbox only",
    }
    assert vm.error("getMailbox", principal="340", user="331") == "notPermitted"
    for who in ("331", "phone-sim", "monitor"):
        got = vm.ok("fetchVoicemailAudio", principal=who, **asked)
        assert base64.b64decode(got["audio"]) == tone(3.0), who


def test_pres_04_replay_gives_the_group_its_calls_and_the_member_their_own_events(
    tmp_path: Path,
) -> None:
    """After Bernd's message, its playback on 331, a hidden presence with a private note and a
    profile change, and a call to the group ringing 331: 340's replay has the group's call on
    331 and nothing of Bernd's own; Bernd's has all of it."""
    vm = member_office(tmp_path)
    vm.office.do(c.ClearCall(call=message_for_bernd(vm)))
    vm.office.do(SetProfileChecked(name="331", presence_visibility=Visibility.NOT_VISIBLE))
    vm.office.do(SetPresence(user="331", status=Status.MEETING, info="Arzt"))
    group = vm.office.call_of(c.MakeCall(calling="330", called="340"))

    bernds = {"331"}
    everything = [x.event for x in vm.office.committed()]
    own = [e for e in everything if e.owned_by() == "331" and not e.INTERNAL]
    kinds = {e.KIND for e in own}
    assert kinds >= {
        "messageRecorded",
        "messageWaiting",
        "playbackCalling",
        "messagePlaying",
        "messageMoved",
        "profileChanged",
        "presenceChanged",
    }, kinds
    # Every one of them is about phone 331, which 340 controls: what replay gave 340 before.
    scope = readable(vm.node.site, vm.node.state, "340")
    assert scope is not None and "331" in scope
    assert all(not scope.isdisjoint(e.devices()) for e in own)

    group_view = replayed(vm, "340")
    assert [e for e in group_view if e.owned_by() in bernds] == []
    assert any(
        isinstance(e, ev.Delivered) and e.call == group and e.alerting == "331" and e.group == "340"
        for e in group_view
    ), "340 reads its group's call ringing at the member phone 331"
    bernd_view = replayed(vm, "331")
    assert [e for e in bernd_view if e.owned_by() == "331"] == own
    assert any(isinstance(e, ev.Delivered) and e.call == group for e in bernd_view)


def test_vm_03_a_members_phone_in_the_groups_menu_keys_for_the_group_alone(
    tmp_path: Path,
) -> None:
    """Bernd's phone dials the voicemail: the menu is the group's mailbox (a member phone's).
    Bernd, who controls the phone and is in the call, may not key its PIN, its keys (play,
    delete, presence) nor fetch what it plays: 340's mailbox is 340's; 340 may."""
    vm = member_office(tmp_path)
    call = vm.office.call_of(c.MakeCall(calling="330", called="340"))
    vm.office.do(c.DeflectCall(call=call, device="337", to=VM))
    assert vm.leave(call)["ok"]
    vm.office.do(c.ClearCall(call=call))
    menu = vm.dialled("331")
    assert vm.node.state.voicemail.menus[menu].mailbox == "340"
    at = {"call": menu, "device": "331"}
    for service, fields in (
        ("enterVoicemailPin", {"pin": "123456"}),
        ("generateDigits", {"digits": "123456"}),  # the PIN keyed as DTMF
        ("changeVoicemailPinOnPhone", {"newPin": "135790"}),
    ):
        assert vm.error(service, principal="331", **at, **fields) == "notPermitted", service
    opened = vm.ok("enterVoicemailPin", principal="340", **at, pin="123456")
    assert opened == {"open": True, "pinChangeRequired": True}
    for digits in ("1", "2", "7", "52"):  # play new, play old, delete, presence meeting
        assert vm.error("generateDigits", principal="331", **at, digits=digits) == "notPermitted"
    assert vm.error("changeVoicemailPinOnPhone", principal="331", **at, newPin="135790") == (
        "notPermitted"
    )
    vm.ok("changeVoicemailPinOnPhone", principal="340", **at, newPin="135790")
    vm.ok("generateDigits", principal="340", **at, digits="1")
    assert vm.error("fetchVoicemailAudio", principal="331", **at) == "notPermitted"
    got = vm.ok("fetchVoicemailAudio", principal="340", **at)
    assert base64.b64decode(got["audio"]) == tone(3.0)


def test_vm_02_bernds_own_events_leave_the_state_the_group_reads_as_it_was(
    tmp_path: Path,
) -> None:
    """Bernd handles his voicemail and presence from a client, no call on 331: phone 331's
    state document (which 340 reads) and 340's are not republished, and keep their seq — a
    new seq with the same content would tell 340 when his mailbox was used."""
    vm = member_office(tmp_path)
    vm.office.do(c.ClearCall(call=message_for_bernd(vm)))
    node = vm.node
    before = node.state.seq
    seqs = {device: node.device_seq(device) for device in ("331", "340")}
    vm.ok("moveVoicemailMessage", principal="331", user="331", message=1, folder="new")
    vm.ok("deleteVoicemailMessage", principal="331", user="331", message=1)
    vm.office.do(SetPresence(user="331", status=Status.MEETING, info="Arzt"))
    events = [x.event for x in vm.office.committed() if x.seq > before]
    assert {e.owned_by() for e in events} == {"331"}, events  # only his own
    assert touched_devices(events, node.site) == set()
    assert {device: node.device_seq(device) for device in ("331", "340")} == seqs
