"""A person whose own phone is a member of a MULAP group (CALL-14): the group's account acts
as the phone, and still never gets the person's own things (VM-02, VM-03, VM-04, PRES-04,
USER-03; specs/security.md "Topics: who reads and writes").

The example office with Bernd's phone 331 in the group 340 (with 337 and 338; 340 has the
voicemail licence). On the node: requests through the API (cti.api.voicemail), and what replay
gives a user (access.may_read, as the MQTT face answers it). The same through the broker and
its ACL files: tests/security/test_mulap_member.py.

The voicemail menu of a call dialled straight to 351 is the mailbox of the number the call
presents (specs/voicemail.md "Which mailbox a call is for"; VM-01, VM-03): 331 on its own line
Bernd's, 331 on the group's line the group's."""

from __future__ import annotations

import base64
from pathlib import Path

import attrs
import pytest

from cti.accounts.access import may_read, readable
from cti.accounts.commands import SeedAccounts, SetAssignedPhone, SetProfileChecked, UpdateAccount
from cti.accounts.model import Licence, Visibility
from cti.app.config import load_config
from cti.app.node import decode
from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.views import touched_devices
from cti.csta.client import CstaClient, CstaRefused
from cti.csta.ids import connection, device_id
from cti.kernel.messages import Event
from cti.presence.commands import SetPresence
from cti.presence.model import Status
from tests.csta.conftest import running_link
from tests.office import Office, fmt
from tests.voicemail.helpers import VM, Voicemail, tone

VM_ID = device_id(VM)
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


def messages_for_both(vm: Voicemail) -> None:
    """330 leaves Bernd (331) a message of 3 s and the group 340 one of 2 s (337 deflects the
    group's call), so which mailbox a menu plays is told by the bytes."""
    call = vm.deflected("330", "331")
    assert vm.leave(call, seconds=3.0)["ok"]
    vm.office.do(c.ClearCall(call=call))
    call = vm.office.call_of(c.MakeCall(calling="330", called="340"))
    vm.office.do(c.DeflectCall(call=call, device="337", to=VM))
    assert vm.leave(call, seconds=2.0)["ok"]
    vm.office.do(c.ClearCall(call=call))


def test_vm_03_a_members_phone_on_its_own_line_opens_its_owners_mailbox(
    tmp_path: Path,
) -> None:
    """Bernd's phone 331 (a member of 340) dials 351 on its own line (the call presents 331):
    the menu is Bernd's mailbox. Bernd keys the default PIN and his new one as DTMF, plays
    his message and fetches exactly its bytes; 340, which controls the phone and is in the
    call, may key none of it. The group's mailbox is not touched."""
    vm = member_office(tmp_path)
    messages_for_both(vm)
    seq = vm.node.state.seq
    menu = vm.dialled("331")
    assert vm.node.state.calls.call(menu).calling == "331"
    assert vm.events_since(seq)[-1] == f"menuEntered mailbox=331 call={menu} device=331"
    at = {"call": menu, "device": "331"}
    for service, fields in (
        ("enterVoicemailPin", {"pin": "123456"}),
        ("generateDigits", {"digits": "123456"}),  # the PIN keyed as DTMF
        ("changeVoicemailPinOnPhone", {"newPin": "135790"}),
    ):
        assert vm.error(service, principal="340", **at, **fields) == "notPermitted", service
    seq = vm.node.state.seq
    assert vm.ok("generateDigits", principal="331", **at, digits="123456#") == {}
    assert vm.ok("generateDigits", principal="331", **at, digits="8135790#135790#") == {}
    assert vm.ok("generateDigits", principal="331", **at, digits="1") == {}
    events = vm.events_since(seq)
    assert events[0] == f"mailboxOpened mailbox=331 call={menu} device=331 pin_change_required=True"
    assert events[1].startswith("voicemailPinSet mailbox=331 pin_hash=$argon2id$")
    assert events[2].startswith(f"messagePlaying mailbox=331 message=1 call={menu} device=331 ")
    assert events[3:] == [
        "messageMoved mailbox=331 message=1 folder=old",
        "messageWaiting mailbox=331 on=False new=0 old=1",
    ]
    for digits in ("1", "2", "7", "52"):  # play new, play old, delete, presence meeting
        assert vm.error("generateDigits", principal="340", **at, digits=digits) == "notPermitted"
    assert vm.error("fetchVoicemailAudio", principal="340", **at) == "notPermitted"
    got = vm.ok("fetchVoicemailAudio", principal="331", **at)
    assert base64.b64decode(got["audio"]) == tone(3.0)
    group = vm.ok("getMailbox", principal="340", user="340")
    assert (group["new"], group["pinIsDefault"]) == (1, True)


def test_vm_03_bernds_own_pin_opens_his_mailbox_from_his_phone_and_not_the_groups(
    tmp_path: Path,
) -> None:
    """Once Bernd chose his PIN, his phone's menu on its own line takes his PIN (as DTMF and
    with enterVoicemailPin) and refuses the group's (still the default): the PIN asked is the
    mailbox's, which the call presents, and the throttle counts the wrong one against it."""
    vm = member_office(tmp_path)
    first = vm.dialled("331")
    vm.ok("enterVoicemailPin", principal="331", call=first, device="331", pin="123456")
    vm.ok("changeVoicemailPinOnPhone", principal="331", call=first, device="331", newPin="135790")
    vm.office.do(c.ClearCall(call=first))
    menu = vm.dialled("331")
    at = {"call": menu, "device": "331"}
    assert vm.error("enterVoicemailPin", principal="331", **at, pin="123456") == "wrongPin"
    assert vm.events_since(vm.node.state.seq - 1) == [
        "pinRejected mailbox=331 caller=331 failures=1 locked_until=0"
    ]
    seq = vm.node.state.seq
    assert vm.ok("enterVoicemailPin", principal="331", **at, pin="135790") == {
        "open": True,
        "pinChangeRequired": False,
    }
    assert vm.events_since(seq) == [
        f"mailboxOpened mailbox=331 call={menu} device=331 pin_change_required=False"
    ]
    vm.office.do(c.ClearCall(call=menu))
    keyed = vm.dialled("331")
    seq = vm.node.state.seq
    assert vm.ok("generateDigits", principal="331", call=keyed, device="331", digits="135790") == {}
    assert vm.events_since(seq) == [
        f"mailboxOpened mailbox=331 call={keyed} device=331 pin_change_required=False"
    ]


def test_vm_03_the_same_phone_on_the_group_line_opens_the_groups_mailbox(
    tmp_path: Path,
) -> None:
    """With 331 the group's assigned phone, 340 calls 351 (the call is at 331 and presents
    340: the group's line): the menu is the group's mailbox. Only the group's account keys its
    PIN and keys; Bernd, who controls the phone and is in the call, may not. Bernd's mailbox is
    not touched."""
    vm = member_office(tmp_path)
    messages_for_both(vm)
    vm.office.do(SetAssignedPhone(user="340", phone="331"))
    seq = vm.node.state.seq
    menu = vm.office.call_of(c.MakeCall(calling="340", called=VM))
    assert vm.node.state.calls.call(menu).calling == "340"
    assert vm.events_since(seq)[-1] == f"menuEntered mailbox=340 call={menu} device=331"
    at = {"call": menu, "device": "331"}
    for service, fields in (
        ("enterVoicemailPin", {"pin": "123456"}),
        ("generateDigits", {"digits": "123456"}),
        ("changeVoicemailPinOnPhone", {"newPin": "135790"}),
    ):
        assert vm.error(service, principal="331", **at, **fields) == "notPermitted", service
    seq = vm.node.state.seq
    opened = vm.ok("enterVoicemailPin", principal="340", **at, pin="123456")
    assert opened == {"open": True, "pinChangeRequired": True}
    assert vm.events_since(seq) == [
        f"mailboxOpened mailbox=340 call={menu} device=331 pin_change_required=True"
    ]
    for digits in ("1", "2", "7", "52"):
        assert vm.error("generateDigits", principal="331", **at, digits=digits) == "notPermitted"
    vm.ok("changeVoicemailPinOnPhone", principal="340", **at, newPin="135790")
    vm.ok("generateDigits", principal="340", **at, digits="1")
    assert vm.error("fetchVoicemailAudio", principal="331", **at) == "notPermitted"
    got = vm.ok("fetchVoicemailAudio", principal="340", **at)
    assert base64.b64decode(got["audio"]) == tone(2.0)
    bernd = vm.ok("getMailbox", principal="331", user="331")
    assert (bernd["new"], bernd["pinIsDefault"]) == (1, True)


def test_vm_03_a_members_consultation_to_the_voicemail_opens_the_mailbox_of_its_line(
    tmp_path: Path,
) -> None:
    """CALL-05, CALL-14: Bernd's phone 331 talks to 330 on its own line (330 dialled 331) and
    consults 351: the consultation presents 331, so the menu is Bernd's and the group may not
    key his PIN. A call to the group 340 that 331 answers is the group's line: consulting 351
    from it presents 340 and opens the group's menu, which Bernd may not key."""
    vm = member_office(tmp_path)
    own = vm.office.talking("330", "331")
    seq = vm.node.state.seq
    menu = vm.office.call_of(c.ConsultationCall(call=own, device="331", consulted=VM))
    assert vm.node.state.calls.call(menu).calling == "331"
    assert vm.events_since(seq)[-1] == f"menuEntered mailbox=331 call={menu} device=331"
    at = {"call": menu, "device": "331"}
    assert vm.error("enterVoicemailPin", principal="340", **at, pin="123456") == "notPermitted"
    assert vm.ok("enterVoicemailPin", principal="331", **at, pin="123456")["open"]
    vm.office.do(c.ClearCall(call=menu))
    vm.office.do(c.ClearCall(call=own))

    group = vm.office.call_of(c.MakeCall(calling="330", called="340"))
    vm.office.do(c.AnswerCall(call=group, device="331"))
    seq = vm.node.state.seq
    menu = vm.office.call_of(c.ConsultationCall(call=group, device="331", consulted=VM))
    assert vm.node.state.calls.call(menu).calling == "340"
    assert vm.events_since(seq)[-1] == f"menuEntered mailbox=340 call={menu} device=331"
    at = {"call": menu, "device": "331"}
    assert vm.error("enterVoicemailPin", principal="331", **at, pin="123456") == "notPermitted"
    assert vm.ok("enterVoicemailPin", principal="340", **at, pin="123456")["open"]


def test_vm_03_the_member_phone_lifted_and_dialled_presents_itself(tmp_path: Path) -> None:
    """The phone's own keys: 331 goes off-hook and dials 351, a call of its own line, so the
    menu is Bernd's."""
    vm = member_office(tmp_path)
    seq = vm.node.state.seq
    vm.office.do(c.OffHook(device="331"))
    vm.office.do(c.Dial(device="331", digits=VM))
    [(menu, _)] = vm.office.connections("331")
    assert vm.events_since(seq)[-1] == f"menuEntered mailbox=331 call={menu} device=331"


def test_vm_03_a_pin_keyed_before_the_menu_was_entered_goes_by_the_presented_number(
    tmp_path: Path,
) -> None:
    """Neither Bernd nor the group had the voicemail licence when Bernd's phone dialled 351 on
    its own line, so no menu was entered; both given it during the call, his PIN enters the
    menu then (services.menu_mailbox and the owner check, menu_owner): his mailbox, not the
    group's, and 340 may not key it."""
    vm = member_office(tmp_path)
    for user in ("331", "340"):
        vm.office.do(UpdateAccount(name=user, licences=()))
    menu = vm.dialled("331")
    assert menu not in vm.node.state.voicemail.menus
    for user in ("331", "340"):
        vm.office.do(UpdateAccount(name=user, licences=(Licence.VOICEMAIL,)))
    at = {"call": menu, "device": "331"}
    assert vm.error("enterVoicemailPin", principal="340", **at, pin="123456") == "notPermitted"
    seq = vm.node.state.seq
    vm.ok("enterVoicemailPin", principal="331", **at, pin="123456")
    assert vm.events_since(seq) == [
        f"menuEntered mailbox=331 call={menu} device=331",
        f"mailboxOpened mailbox=331 call={menu} device=331 pin_change_required=True",
    ]


def test_vm_03_a_team_phone_without_a_mailbox_of_its_own_reaches_the_groups(
    tmp_path: Path,
) -> None:
    """337 (Team Vertrieb 1, no account) dials 351 on its own line, lifted and dialled: it has
    no mailbox, the group it is a member of has, so the menu is 340's (as before the presented
    number decided). So is Bernd's phone's on its own line while Bernd has no voicemail
    licence."""
    vm = member_office(tmp_path)
    seq = vm.node.state.seq
    vm.office.do(c.OffHook(device="337"))
    vm.office.do(c.Dial(device="337", digits=VM))
    [(menu, _)] = vm.office.connections("337")
    assert vm.node.state.calls.call(menu).calling == "337"
    assert vm.events_since(seq)[-1] == f"menuEntered mailbox=340 call={menu} device=337"
    at = {"call": menu, "device": "337"}
    assert vm.ok("enterVoicemailPin", principal="340", **at, pin="123456")["open"]
    vm.office.do(UpdateAccount(name="331", licences=()))
    seq = vm.node.state.seq
    bernds = vm.dialled("331")
    assert vm.events_since(seq)[-1] == f"menuEntered mailbox=340 call={bernds} device=331"


def test_vm_03_a_mobility_users_mobile_presenting_their_number_opens_their_mailbox(
    tmp_path: Path,
) -> None:
    """Eva (335, CALL-15, callback first) calls 351 from the CTI: her mobile is called, then
    351 dialled; the call at the mobile presents 335, so the menu is Eva's mailbox (before:
    the mobile's own number, no mailbox, no menu). She keys her PIN from the mobile."""
    vm = Voicemail(tmp_path)
    mobile = "+491701234567"
    placed = vm.ok("makeCall", principal="335", calling="335", called=VM)
    assert placed["device"] == mobile
    seq = vm.node.state.seq
    vm.office.do(c.AnswerCall(call=placed["call"], device=mobile))
    menu = placed["call"]
    assert vm.events_since(seq)[-1] == f"menuEntered mailbox=335 call={menu} device={mobile}"
    assert vm.ok("enterVoicemailPin", principal="335", call=menu, device=mobile, pin="123456") == {
        "open": True,
        "pinChangeRequired": True,
    }


async def test_vm_03_over_the_csta_link_each_account_keys_the_pin_of_the_line_it_called_on(
    tmp_path: Path,
) -> None:
    """Over the CSTA link, signed in as themselves: Bernd's makeCall 331 -> 351 is his menu,
    where he keys his PIN with generateDigits and the group's association (which controls 331)
    is refused; 340's makeCall on its line (assigned phone 331) is the group's menu, where the
    group keys and Bernd is refused (notPermitted: operation/securityViolation)."""
    config = load_config(member_site(tmp_path))
    people = tuple(u.seed() for u in config.users if u.name in ("331", "340"))
    async with running_link(site=config.site) as link:
        assert (await link.engine.execute(SeedAccounts(accounts=people))).ok
        assert (await link.engine.execute(SetAssignedPhone(user="340", phone="331"))).ok
        bernd = link.client(user="331", password="Bernd-2026!")
        group = link.client(user="340", password="Vertrieb-2026!")
        try:
            for app in (bernd, group):
                await app.associate()

            async def call(app: CstaClient, calling: str) -> int:
                dial = {"callingDevice": device_id(calling), "calledDirectoryNumber": VM_ID}
                await app.invoke("makeCall", dial)
                [made] = link.node.state.calls.calls  # the one call under way
                return made

            async def keys(app: CstaClient, call: int, digits: str) -> None:
                argument = {"connectionToSendDigits": connection(call, "331")}
                await app.invoke("generateDigits", {**argument, "charactersToSend": digits})

            own = await call(bernd, "331")
            with pytest.raises(CstaRefused) as refused:
                await keys(group, own, "123456")
            assert (refused.value.branch, refused.value.value) == ("operation", "securityViolation")
            seq = link.node.state.seq
            await keys(bernd, own, "123456#")
            opened = [fmt(decode(x).event) for x in link.node.store.read(seq + 1)]
            assert opened == [
                f"mailboxOpened mailbox=331 call={own} device=331 pin_change_required=True"
            ]
            assert (await link.engine.execute(c.ClearCall(call=own))).ok

            line = await call(group, "340")
            assert link.node.state.calls.call(line).calling == "340"
            with pytest.raises(CstaRefused) as refused:
                await keys(bernd, line, "123456")
            assert (refused.value.branch, refused.value.value) == ("operation", "securityViolation")
            seq = link.node.state.seq
            await keys(group, line, "123456#")
            opened = [fmt(decode(x).event) for x in link.node.store.read(seq + 1)]
            assert opened == [
                f"mailboxOpened mailbox=340 call={line} device=331 pin_change_required=True"
            ]
        finally:
            await bernd.close()
            await group.close()


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
