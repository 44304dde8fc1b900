"""VM-01, VM-02, VM-06: leaving messages, folders and counts, the lamp, the maximum, recording
off. Exact events through the API on the node (tests/voicemail/helpers.py)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from cti.accounts.commands import RemoveAccount
from cti.calls import commands as c
from tests.voicemail.helpers import Voicemail, tone


@pytest.fixture
def vm(tmp_path: Path) -> Voicemail:
    return Voicemail(tmp_path)


def test_vm_01_a_deflected_call_leaves_a_message_stored_outside_the_log(vm: Voicemail) -> None:
    call = vm.deflected("330", "331")
    seq = vm.node.state.seq
    wav = tone(3.0)
    reply = vm.request(
        "leaveVoicemailMessage", call=call, device="330", audio=base64.b64encode(wav).decode()
    )
    assert reply["ok"] and reply["result"] == {"message": 1}
    sha = hashlib.sha256(wav).hexdigest()
    assert vm.events_since(seq) == [
        f"messageRecorded mailbox=331 message=1 call={call} caller=330 caller_name=Anna Berger "
        f"received_at={vm.office.clock.now_ms()} "
        f"sha256={sha} length={len(wav)} duration_ms=3000",
        "messageWaiting mailbox=331 on=True new=1 old=0",
    ]
    assert vm.audio.get(sha) == wav  # exactly the bytes, in the data directory
    assert (vm.audio.root / sha[:2] / f"{sha}.wav").read_bytes() == wav
    vm.office.assert_replays()


def test_vm_01_the_same_audio_sent_again_is_the_same_message(vm: Voicemail) -> None:
    call = vm.deflected()
    assert vm.leave(call)["result"] == {"message": 1}
    seq = vm.node.state.seq
    assert vm.leave(call)["result"] == {"message": 1}
    assert vm.node.state.seq == seq
    assert vm.leave(call, seconds=4.0)["error"]["code"] == "messageAlreadyRecorded"


def test_vm_01_only_a_party_talking_to_the_voicemail_leaves_a_message(vm: Voicemail) -> None:
    call = vm.office.talking("330", "331")
    assert vm.leave(call)["error"]["code"] == "notAtVoicemail"
    call2 = vm.deflected("332", "333")  # 333 has no voicemail licence
    assert vm.leave(call2, device="332")["error"]["code"] == "noMailbox"
    vm.office.do(c.ClearConnection(call=call, device="330"))
    call3 = vm.deflected("330", "335")
    reply = vm.request(
        "leaveVoicemailMessage",
        principal="336",
        call=call3,
        device="330",
        audio=base64.b64encode(tone(1.0)).decode(),
    )
    assert reply["error"]["code"] == "notYourDevice"


@pytest.mark.parametrize(
    ("audio", "reason"),
    [
        (base64.b64encode(b"RIFF....WAVEnonsense").decode(), "notWav"),
        (base64.b64encode(tone(0.0)).decode(), "empty"),
    ],
)
def test_vm_01_audio_that_is_no_16_bit_mono_wav_is_refused(
    vm: Voicemail, audio: str, reason: str
) -> None:
    call = vm.deflected()
    assert vm.error("leaveVoicemailMessage", call=call, device="330", audio=audio) == (
        "unusableAudio"
    )
    assert vm.error_reply["details"] == {"reason": reason}
    assert not any(vm.audio.root.rglob("*.wav"))


def test_vm_02_listening_moves_to_old_and_clears_the_lamp(vm: Voicemail) -> None:
    call = vm.deflected()
    vm.leave(call)
    seq = vm.node.state.seq
    result = vm.ok("listenVoicemailMessage", principal="331", user="331", message=1)
    assert base64.b64decode(result["audio"]) == tone(3.0)
    assert result["durationMs"] == 3000
    assert vm.events_since(seq) == [
        "messageMoved mailbox=331 message=1 folder=old",
        "messageWaiting mailbox=331 on=False new=0 old=1",
    ]
    seq = vm.node.state.seq
    vm.ok("listenVoicemailMessage", principal="331", user="331", message=1)
    assert vm.node.state.seq == seq  # only the first playback moves it


def test_vm_02_move_delete_and_counts_from_any_client(vm: Voicemail) -> None:
    for caller in ("330", "332"):
        vm.leave(vm.deflected(caller, "331"), device=caller)
    box = vm.ok("getMailbox", principal="331", user="331")
    assert (box["new"], box["old"], [m["message"] for m in box["messages"]]) == (2, 0, [2, 1])
    assert box["messages"][0]["callerName"] == "Clara Wolf"
    seq = vm.node.state.seq
    vm.ok("moveVoicemailMessage", principal="331", user="331", message=1, folder="old")
    vm.ok("deleteVoicemailMessage", principal="331", user="331", message=2)
    assert vm.events_since(seq) == [
        "messageMoved mailbox=331 message=1 folder=old",
        "messageWaiting mailbox=331 on=True new=1 old=1",
        "messageDeleted mailbox=331 message=2",
        "messageWaiting mailbox=331 on=False new=0 old=1",
    ]
    assert vm.error("deleteVoicemailMessage", principal="331", user="331", message=2) == (
        "unknownVoicemailMessage"
    )
    assert vm.error("getMailbox", principal="332", user="331") == "notPermitted"
    assert vm.error("deleteVoicemailMessage", principal="330", user="331", message=1) == (
        "notPermitted"
    )
    vm.office.assert_replays()


def test_vm_02_a_full_mailbox_takes_nothing_until_one_is_deleted(vm: Voicemail) -> None:
    vm.ok("setVoicemailMaximum", principal="330", user="331", maxMessages=2)
    assert vm.error("setVoicemailMaximum", principal="331", user="331", maxMessages=9) == (
        "notPermitted"
    )
    for caller in ("330", "332"):
        vm.leave(vm.deflected(caller, "331"), device=caller)
    call = vm.deflected("333", "331")
    files = sorted(vm.audio.root.rglob("*.wav"))
    assert vm.leave(call, device="333", seconds=4.0)["error"]["code"] == "mailboxFull"
    assert sorted(vm.audio.root.rglob("*.wav")) == files  # nothing of it is kept
    assert set(vm.node.state.voicemail.of("331").messages.keys()) == {1, 2}
    vm.office.do(c.ClearConnection(call=call, device="333"))
    vm.ok("deleteVoicemailMessage", principal="331", user="331", message=1)
    assert vm.leave(vm.deflected("333", "331"), device="333")["result"] == {"message": 3}


def test_vm_06_recording_off_takes_no_message(vm: Voicemail) -> None:
    seq = vm.node.state.seq
    vm.ok("setVoicemailRecording", principal="331", user="331", recording=False)
    assert vm.events_since(seq) == [
        "voicemailSettingsSet mailbox=331 recording=False max_messages=50"
    ]
    call = vm.deflected()
    assert vm.leave(call)["error"]["code"] == "recordingOff"
    vm.ok("setVoicemailRecording", principal="331", user="331", recording=True)
    assert vm.leave(call)["result"] == {"message": 1}


def test_vm_users_without_the_licence_have_no_mailbox(vm: Voicemail) -> None:
    assert vm.error("getMailbox", principal="333", user="333") == "noMailbox"


def test_vm_05_details_call_back_and_save_the_sender_as_a_contact(vm: Voicemail) -> None:
    ext = vm.office.call_of(c.Dial(device="+4930111111", digits="331"))
    vm.office.do(c.DeflectCall(call=ext, device="331", to="351"))
    vm.leave(ext, device="+4930111111")
    vm.office.do(c.ClearCall(call=ext))
    [details] = vm.ok("getMailbox", principal="331", user="331")["messages"]
    assert (details["caller"], details["callerName"], details["durationMs"]) == (
        "+4930111111",
        None,
        3000,
    )
    seq = vm.node.state.seq
    made = vm.ok("callBackVoicemailMessage", principal="331", user="331", message=1)
    assert made["device"] == "331"
    assert vm.events_since(seq)[0].startswith(f"serviceInitiated(makeCall) call={made['call']}")
    assert any("networkReached" in e and "+4930111111" in e for e in vm.events_since(seq))
    saved = vm.ok("saveVoicemailContact", principal="331", user="331", message=1, name="Dr. Meier")
    contact = vm.node.state.directory.of("331").contacts[saved["id"]]
    assert (contact.name, [n.number for n in contact.numbers]) == ("Dr. Meier", ["+4930111111"])
    # Now the caller has a name for 331 (DIR-06): the next message carries it.
    assert vm.error("saveVoicemailContact", principal="332", user="331", message=1) == (
        "notPermitted"
    )
    assert vm.error("callBackVoicemailMessage", principal="331", user="331", message=9) == (
        "unknownVoicemailMessage"
    )


def test_vm_01_a_removed_account_takes_its_mailbox_with_it(vm: Voicemail) -> None:
    vm.leave(vm.deflected("330", "331"))
    seq = vm.node.state.seq
    vm.office.do(RemoveAccount(name="331"))
    assert "mailboxRemoved mailbox=331" in vm.events_since(seq)
    assert "331" not in vm.node.state.voicemail.mailboxes
    vm.office.assert_replays()
