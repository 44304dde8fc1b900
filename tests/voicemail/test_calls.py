"""The voicemail in calls: the greeting (VM-01, VM-06, VM-08), the phone menu over DTMF
(VM-02, PRES-05), playback on a phone the system calls (VM-04). Exact events, through the API
on the node (tests/voicemail/helpers.py)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from cti.accounts.commands import SetProfileChecked
from cti.accounts.model import Visibility
from cti.calls import commands as c
from cti.presence.commands import SetPresence
from cti.presence.model import Status
from cti.voicemail.commands import EndPlayback
from tests.voicemail.helpers import VM, Voicemail, tone

GREETING = "You have reached the mailbox of Bernd Vogel."
LEAVE = "Please leave a message after the tone."
RETURN = 1767268800000  # 2026-01-01 12:00 UTC


@pytest.fixture
def vm(tmp_path: Path) -> Voicemail:
    return Voicemail(tmp_path)


def greeting_of(vm: Voicemail, seq: int) -> str:
    [line] = [e for e in vm.events_since(seq) if e.startswith("greetingPlayed")]
    return line


def test_vm_01_the_voicemail_answers_a_deflected_call_with_the_greeting(vm: Voicemail) -> None:
    call = vm.office.call_of(c.MakeCall(calling="330", called="331"))
    seq = vm.node.state.seq
    vm.office.do(c.DeflectCall(call=call, device="331", to=VM))
    assert vm.events_since(seq) == [
        f"diverted(redirected) call={call} diverting=331 new_destination=351 "
        "| 330:connected 331:null",
        f"delivered(redirected) call={call} alerting=351 calling=330 called=331 redirecting=331 "
        "| 330:connected 351:alerting",
        f"established(redirected) call={call} answering=351 calling=330 called=331 "
        "redirecting=331 | 330:connected 351:connected",
        f"greetingPlayed mailbox=331 call={call} caller=330 device=330 "
        f"text={GREETING} {LEAVE} recording=True",
    ]


def test_vm_01_a_call_forwarded_on_no_answer_reaches_the_mailbox_of_the_called(
    vm: Voicemail,
) -> None:
    vm.office.do(c.SetForwarding(device="331", forwarding_type="forwardNoAns", on=True,
                                 destination=VM, ring_time=10))  # fmt: skip
    call = vm.office.call_of(c.MakeCall(calling="332", called="331"))
    seq = vm.node.state.seq
    vm.office.clock.advance(10)
    for command in vm.node.due_timers():
        vm.node.execute(command)
    assert greeting_of(vm, seq).startswith(f"greetingPlayed mailbox=331 call={call} caller=332")
    assert vm.leave(call, device="332")["result"] == {"message": 1}


def test_vm_08_the_greeting_tells_the_absence_within_the_visibility(vm: Voicemail) -> None:
    vm.office.do(SetPresence(user="331", status=Status.VACATION, return_at=RETURN))
    absent = "Bernd Vogel is on vacation until Thursday 01 January 2026, 12:00 UTC."
    # Status-forwarded to the voicemail (PRES-03): an internal caller hears the absence.
    seq = vm.node.state.seq
    vm.office.call_of(c.MakeCall(calling="330", called="331"))
    assert f"text={GREETING} {absent} {LEAVE} " in greeting_of(vm, seq)
    vm.office.do(c.ClearConnection(call=vm.office.connections("330")[0][0], device="330"))
    # internalOnly: an outside caller does not.
    vm.office.do(SetProfileChecked(name="331", presence_visibility=Visibility.INTERNAL_ONLY))
    seq = vm.node.state.seq
    ext = vm.office.call_of(c.Dial(device="+4930111111", digits="331"))
    assert f"text={GREETING} {LEAVE} " in greeting_of(vm, seq)
    vm.office.do(c.ClearCall(call=ext))
    seq = vm.node.state.seq
    vm.office.call_of(c.MakeCall(calling="332", called="331"))
    assert absent in greeting_of(vm, seq)


@pytest.mark.parametrize(
    ("setup", "reason", "words"),
    [
        ("off", "recordingOff", "No message can be left."),
        ("full", "mailboxFull", "The mailbox is full: no message can be left."),
    ],
)
def test_vm_02_06_the_greeting_says_when_nothing_can_be_left(
    vm: Voicemail, setup: str, reason: str, words: str
) -> None:
    if setup == "off":
        vm.ok("setVoicemailRecording", principal="331", user="331", recording=False)
    else:
        vm.ok("setVoicemailMaximum", principal="330", user="331", maxMessages=1)
        first = vm.deflected("332", "331")
        vm.leave(first, device="332")
        vm.office.do(c.ClearCall(call=first))
    seq = vm.node.state.seq
    call = vm.deflected("330", "331")
    assert greeting_of(vm, seq) == (
        f"greetingPlayed mailbox=331 call={call} caller=330 device=330 "
        f"text={GREETING} {words} recording=False reason={reason}"
    )


def opened_menu(vm: Voicemail, user: str = "331") -> int:
    call = vm.dialled(user)
    vm.ok("enterVoicemailPin", call=call, device=user, pin="123456")
    return call


def test_vm_02_the_phone_menu_plays_deletes_and_sets_presence(vm: Voicemail) -> None:
    first = vm.deflected("330", "331")
    vm.leave(first, seconds=3.0)
    vm.office.do(c.ClearCall(call=first))
    second = vm.deflected("332", "331")
    vm.leave(second, device="332", seconds=4.0)
    vm.office.do(c.ClearCall(call=second))
    call = vm.dialled("331")
    # Before the PIN the menu takes no keys (and the PIN is no DTMF): ignored, unrecorded.
    seq = vm.node.state.seq
    vm.ok("generateDigits", call=call, device="331", digits="1")
    assert vm.node.state.seq == seq
    vm.ok("enterVoicemailPin", call=call, device="331", pin="123456")
    # The default PIN is changed first (VM-03): until then the menu takes no keys.
    assert vm.error("generateDigits", call=call, device="331", digits="1") == (
        "defaultPinNotChanged"
    )
    vm.ok("changeVoicemailPinOnPhone", call=call, device="331", newPin="135790")
    seq = vm.node.state.seq
    vm.ok("generateDigits", call=call, device="331", digits="1")
    [playing, moved, waiting] = vm.events_since(seq)
    assert playing.startswith(f"messagePlaying mailbox=331 message=1 call={call} device=331 ")
    assert (moved, waiting) == (
        "messageMoved mailbox=331 message=1 folder=old",
        "messageWaiting mailbox=331 on=True new=1 old=1",
    )
    played = vm.ok("fetchVoicemailAudio", call=call, device="331")
    assert base64.b64decode(played["audio"]) == tone(3.0)  # exactly the stored bytes
    seq = vm.node.state.seq
    vm.ok("generateDigits", call=call, device="331", digits="7")
    vm.ok("generateDigits", call=call, device="331", digits="52")
    assert vm.events_since(seq) == [
        "messageDeleted mailbox=331 message=1",
        "messageWaiting mailbox=331 on=True new=1 old=0",
        "presenceChanged user=331 status=meeting",
    ]
    assert vm.error("generateDigits", call=call, device="331", digits="9") == (
        "invalidParameterValue"
    )
    seq = vm.node.state.seq
    vm.ok("generateDigits", call=call, device="331", digits="2")  # no old message: nothing
    assert vm.node.state.seq == seq
    assert "digitsGenerated" not in " ".join(vm.events_since(0))  # keys to the voicemail
    vm.office.do(c.ClearConnection(call=call, device="331"))
    assert f"menuClosed mailbox=331 call={call}" in vm.events_since(seq)
    assert vm.error("fetchVoicemailAudio", call=call, device="331") in (
        "notAtVoicemail",
        "notYourDevice",
    )
    vm.office.assert_replays()


def test_vm_04_a_message_is_played_on_the_users_phone_while_in_the_office(
    vm: Voicemail,
) -> None:
    first = vm.deflected("330", "331")
    vm.leave(first)
    vm.office.do(c.ClearCall(call=first))
    vm.office.do(SetPresence(user="331", status=Status.MEETING))
    assert vm.error("playVoicemailMessage", principal="331", user="331", message=1) == (
        "notInOffice"
    )
    vm.office.do(SetPresence(user="331", status=Status.OFFICE))
    assert (
        vm.error("playVoicemailMessage", principal="331", user="331", message=1, device="330")
        == "notYourDevice"
    )
    seq = vm.node.state.seq
    placed = vm.ok("playVoicemailMessage", principal="331", user="331", message=1)
    call = placed["call"]
    assert placed == {"call": call, "device": "331"}
    events = vm.events_since(seq)
    assert events[-1] == f"playbackCalling mailbox=331 message=1 call={call} device=331"
    assert any(e.startswith(f"delivered(newCall) call={call} alerting=331") for e in events)
    # Nothing plays before the phone answers.
    assert vm.error("fetchVoicemailAudio", call=call, device="331") == "notAtVoicemail"
    seq = vm.node.state.seq
    vm.office.do(c.AnswerCall(call=call, device="331"))
    [_established, playing, moved, waiting] = vm.events_since(seq)
    assert playing.startswith(f"messagePlaying mailbox=331 message=1 call={call} device=331 ")
    assert (moved, waiting) == (
        "messageMoved mailbox=331 message=1 folder=old",
        "messageWaiting mailbox=331 on=False new=0 old=1",
    )
    played = vm.ok("fetchVoicemailAudio", call=call, device="331")
    assert base64.b64decode(played["audio"]) == tone(3.0)
    seq = vm.node.state.seq
    vm.office.do(c.ClearConnection(call=call, device="331"))
    assert f"playbackEnded mailbox=331 call={call}" in vm.events_since(seq)
    vm.office.assert_replays()


def test_vm_04_a_message_is_played_on_the_users_mobile_from_the_profile(
    vm: Voicemail,
) -> None:
    first = vm.deflected("330", "331")
    vm.leave(first)
    vm.office.do(c.ClearCall(call=first))
    # 331's profile mobile is +491712345678 (tests/presence/helpers.py: 0171 2345678).
    vm.office.do(SetProfileChecked(name="331", mobile="0171 2345678"))
    placed = vm.ok(
        "playVoicemailMessage", principal="331", user="331", message=1, device="0171 2345678"
    )
    assert placed["device"] == "+491712345678"
    seq = vm.node.state.seq
    vm.office.do(c.AnswerCall(call=placed["call"], device="+491712345678"))
    assert any(e.startswith("messagePlaying mailbox=331 message=1") for e in vm.events_since(seq))
    played = vm.ok("fetchVoicemailAudio", call=placed["call"], device="+491712345678")
    assert base64.b64decode(played["audio"]) == tone(3.0)
    assert vm.error(
        "playVoicemailMessage", principal="331", user="331", message=1, device="+4930999999"
    ) == ("notYourDevice")


def test_vm_04_the_node_hangs_up_when_the_message_is_over(vm: Voicemail) -> None:
    """The playback call ends when the message's duration has passed on the node's clock:
    not a millisecond before; the call cleared, the playback with it; then nothing is due."""
    first = vm.deflected("330", "331")
    vm.leave(first, seconds=3.0)
    vm.office.do(c.ClearCall(call=first))
    call = vm.ok("playVoicemailMessage", principal="331", user="331", message=1)["call"]
    vm.office.clock.advance(5)  # ringing: nothing plays, nothing is due
    assert vm.node.due_timers() == []
    vm.office.do(c.AnswerCall(call=call, device="331"))
    answered = vm.office.clock.now_ms()
    [playing] = [e for e in vm.events_since(0) if e.startswith("messagePlaying")]
    assert playing.endswith(f"duration_ms=3000 until={answered + 3000}")
    vm.office.clock.advance(2.999)
    assert vm.node.due_timers() == []
    vm.office.clock.advance(0.001)
    seq = vm.node.state.seq
    for command in vm.node.due_timers():
        vm.node.execute(command)
    assert vm.events_since(seq) == [
        f"callCleared(normalClearing) call={call} | 351:null 331:null",
        f"playbackEnded mailbox=331 call={call}",
    ]
    assert vm.node.state.calls.call(call) is None and len(vm.node.state.voicemail.playbacks) == 0
    assert vm.node.due_timers() == []
    vm.office.assert_replays()


def test_vm_04_a_playback_the_user_hung_up_first_fires_nothing(vm: Voicemail) -> None:
    first = vm.deflected("330", "331")
    vm.leave(first, seconds=3.0)
    vm.office.do(c.ClearCall(call=first))
    call = vm.ok("playVoicemailMessage", principal="331", user="331", message=1)["call"]
    vm.office.do(c.AnswerCall(call=call, device="331"))
    vm.office.do(c.ClearConnection(call=call, device="331"))
    seq = vm.node.state.seq
    vm.office.clock.advance(10)
    assert vm.node.due_timers() == []
    # A stale timer command (found due before the hang-up) records nothing.
    vm.node.execute(EndPlayback(call=call))
    assert vm.node.state.seq == seq
