"""Properties of a mailbox (VM-02, VM-06) against a plain model: whatever clients do — leave,
listen, move, delete, change the maximum, turn recording off — the folders hold what the model
holds, message ids are never reused, a full mailbox or recording off takes nothing, and the
last ``messageWaiting`` always tells the counts (the lamp's one truth). And any bytes sent as
audio are a WAV the node keeps or a clear refusal."""

from __future__ import annotations

import hashlib

from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cti.app.node import Accepted, Refused
from cti.calls import commands as c
from cti.kernel.refusal import Refusal
from cti.voicemail import commands as v
from cti.voicemail.events import MessageWaiting
from cti.voicemail.model import Audio, VoicemailFolder
from cti.voicemail.wav import MAX_BYTES, check_wav, make_wav
from tests.voicemail.helpers import VM, people

CALLERS = ("330", "332", "333")
NEW, OLD = VoicemailFolder.NEW, VoicemailFolder.OLD


class Mailbox(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.office = people()
        self.model: dict[int, VoicemailFolder] = {}
        self.maximum = 50
        self.recording = True
        self.issued = 0
        self.lamp: MessageWaiting | None = None
        self.full_seen = False
        self.deepest = 0  # most messages held at once (--hypothesis-show-statistics)

    def _run(self, command: c.Command) -> Accepted | Refused:
        outcome = self.office.node.execute(command)
        if isinstance(outcome, Accepted):
            for item in outcome.events:
                if isinstance(item.event, MessageWaiting):
                    self.lamp = item.event
        return outcome

    @rule(caller=st.sampled_from(CALLERS), seconds=st.integers(1, 9))
    def leave(self, caller: str, seconds: int) -> None:
        call = self.office.call_of(c.MakeCall(calling=caller, called="331"))
        self.office.do(c.DeflectCall(call=call, device="331", to=VM))
        audio = Audio(hashlib.sha256(str(call).encode()).hexdigest(), 100, seconds * 1000)
        outcome = self._run(v.RecordMessage(call=call, device=caller, audio=audio))
        if not self.recording:
            assert isinstance(outcome, Refused) and outcome.error.name == "recordingOff"
        elif len(self.model) >= self.maximum:
            assert isinstance(outcome, Refused) and outcome.error.name == "mailboxFull"
            self.full_seen = True
        else:
            assert isinstance(outcome, Accepted), outcome
            self.issued += 1
            assert outcome.result == {"message": self.issued}  # in order, never reused
            self.model[self.issued] = NEW
            # Sent again (UC-LESSONS rule 5): the same audio is the same message, recorded once;
            # other audio on the same call is refused.
            again = self._run(v.RecordMessage(call=call, device=caller, audio=audio))
            assert isinstance(again, Accepted) and not again.events
            assert again.result == {"message": self.issued}
            other = Audio(hashlib.sha256(b"other").hexdigest(), 100, 1000)
            refused = self._run(v.RecordMessage(call=call, device=caller, audio=other))
            assert isinstance(refused, Refused)
            assert refused.error.name == "messageAlreadyRecorded"
            self.deepest = max(self.deepest, len(self.model))
        self.office.do(c.ClearCall(call=call))

    @rule(callers=st.lists(st.sampled_from(CALLERS), min_size=2, max_size=4))
    def leave_several(self, callers: list[str]) -> None:
        """Several callers in a row: deeper mailboxes, a maximum reached more often."""
        for caller in callers:
            self.leave(caller, 3)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def listen(self, data: st.DataObject) -> None:
        message = data.draw(st.sampled_from(sorted(self.model)))
        assert self._run(v.ListenVoicemailMessage(user="331", message=message)).ok
        self.model[message] = OLD

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), folder=st.sampled_from([NEW, OLD]))
    def move(self, data: st.DataObject, folder: VoicemailFolder) -> None:
        message = data.draw(st.sampled_from(sorted(self.model)))
        assert self._run(v.MoveVoicemailMessage(user="331", message=message, folder=folder)).ok
        self.model[message] = folder

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        # Half the time a message held (any id, however high ids went), else any id up to past
        # the last issued: a deleted or never issued one is refused.
        held = sorted(self.model)
        message = data.draw(
            st.sampled_from(held)
            if held and data.draw(st.booleans())
            else st.integers(1, self.issued + 2)
        )
        outcome = self._run(v.DeleteVoicemailMessage(user="331", message=message))
        if message in self.model:
            assert outcome.ok
            del self.model[message]
        else:
            assert isinstance(outcome, Refused)
            assert outcome.error.name == "unknownVoicemailMessage"

    @rule(maximum=st.integers(1, 6))
    def set_maximum(self, maximum: int) -> None:
        assert self._run(v.SetVoicemailMaximum(user="331", max_messages=maximum)).ok
        self.maximum = maximum  # messages beyond it stay; no new one until below it

    @rule(on=st.booleans())
    def set_recording(self, on: bool) -> None:
        assert self._run(v.SetVoicemailRecording(user="331", recording=on)).ok
        self.recording = on

    @rule(keys=st.lists(st.sampled_from(["1", "2", "7"]), min_size=1, max_size=5))
    def phone_menu(self, keys: list[str]) -> None:
        """The owner dials the voicemail, opens the menu and keys: 1 the oldest new message,
        2 the next old one, 7 delete the one last played (the same folders and lamp as a
        client's requests: one truth)."""
        call = self.office.call_of(c.MakeCall(calling="331", called=VM))
        assert self._run(v.CheckedPin(call=call, device="331", right=True)).ok
        if self.office.node.state.voicemail.of("331").pin_hash is None:
            hashed = "$argon2id$not-checked-here"  # the node keeps the hash it is given
            assert self._run(v.SetPinHash(user="331", pin_hash=hashed, call=call)).ok
        current: int | None = None
        for key in keys:
            assert self._run(c.GenerateDigits(call=call, device="331", digits=key)).ok
            new = sorted(i for i, f in self.model.items() if f is NEW)
            old = sorted(i for i, f in self.model.items() if f is OLD)
            acted = True
            if key == "1" and new:
                current = new[0]
                self.model[current] = OLD
            elif key == "2" and old:
                current = ([i for i in old if current is not None and i > current] or old)[0]
            elif key == "7" and current is not None:
                del self.model[current]
                current = None
            else:
                acted = False  # nothing to play or delete: nothing recorded
            event(f"menu key {key}: {'acted' if acted else 'idle'}")
        self.office.do(c.ClearCall(call=call))

    @invariant()
    def folders_are_the_models(self) -> None:
        box = self.office.node.state.voicemail.of("331")
        assert {i: m.folder for i, m in box.messages.items()} == self.model

    @invariant()
    def the_lamp_tells_the_counts(self) -> None:
        new = sum(1 for f in self.model.values() if f is NEW)
        old = len(self.model) - new
        if self.lamp is None:
            assert not self.model
        else:
            assert (self.lamp.on, self.lamp.new, self.lamp.old) == (new > 0, new, old)

    def teardown(self) -> None:
        depth = "0" if not self.deepest else "1-5" if self.deepest <= 5 else "6+"
        event(f"most messages held: {depth}")
        event(f"mailbox full reached: {self.full_seen}")
        self.office.assert_replays()


TestMailbox = Mailbox.TestCase


@given(st.binary(max_size=256))
def test_any_bytes_are_a_wav_or_a_clear_refusal(data: bytes) -> None:
    try:
        audio = check_wav(data)
    except Refusal as refusal:
        assert refusal.name == "unusableAudio"
        assert refusal.details["reason"] in {"notWav", "notMono16", "rate", "empty", "tooLong"}
        return
    assert audio.length == len(data) and audio.duration_ms >= 0


@given(st.binary(min_size=2, max_size=4000).filter(lambda b: len(b) % 2 == 0))
def test_a_16_bit_mono_wav_is_kept_as_it_is(pcm: bytes) -> None:
    wav = make_wav(pcm)
    audio = check_wav(wav)
    assert audio.sha256 == hashlib.sha256(wav).hexdigest()
    assert audio.duration_ms == len(pcm) // 2 * 1000 // 8000
    assert len(wav) <= MAX_BYTES
