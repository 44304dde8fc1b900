"""The voicemail part of a snapshot: mailboxes (messages, settings, the PIN's hash), the PIN
throttle, open menus and playbacks."""

from __future__ import annotations

from typing import Any

import attrs
import immutables

from cti.kernel.context import SnapshotPart
from cti.voicemail.model import Audio, Mailbox, Menu, Message, Playback, Throttle, VoicemailFolder
from cti.voicemail.state import VoicemailState


def _message(m: Message) -> list[Any]:
    a = m.audio
    return [
        m.id, m.call, m.caller, m.received_ms, [a.sha256, a.length, a.duration_ms],
        m.folder.value, m.caller_name, m.mail_to, m.mailed,
    ]  # fmt: skip


def _decode_message(v: list[Any]) -> Message:
    i, call, caller, received, (sha, length, duration), folder, name, mail_to, mailed = v
    audio = Audio(sha, length, duration)
    return Message(i, call, caller, received, audio, VoicemailFolder(folder), name, mail_to, mailed)


def encode(state: VoicemailState) -> dict[str, Any]:
    return {
        "mailboxes": {
            user: {
                "messages": [_message(m) for _, m in sorted(box.messages.items())],
                "next_id": box.next_id,
                "recording": box.recording,
                "max_messages": box.max_messages,
                "pin_hash": box.pin_hash,
            }
            for user, box in state.mailboxes.items()
        },
        "throttles": {k: [t.failures, t.locked_until] for k, t in state.throttles.items()},
        "menus": {str(c): list(attrs.astuple(m)) for c, m in state.menus.items()},
        "playbacks": {str(c): list(attrs.astuple(p)) for c, p in state.playbacks.items()},
    }


def decode(doc: Any) -> VoicemailState:
    boxes = {
        user: Mailbox(
            messages=immutables.Map({m[0]: _decode_message(m) for m in b["messages"]}),
            next_id=b["next_id"],
            recording=b["recording"],
            max_messages=b["max_messages"],
            pin_hash=b["pin_hash"],
        )
        for user, b in doc["mailboxes"].items()
    }
    return VoicemailState(
        mailboxes=immutables.Map(boxes),
        throttles=immutables.Map({k: Throttle(f, u) for k, (f, u) in doc["throttles"].items()}),
        menus=immutables.Map({int(c): Menu(*m) for c, m in doc["menus"].items()}),
        playbacks=immutables.Map({int(c): Playback(*p) for c, p in doc["playbacks"].items()}),
    )


SNAPSHOT = SnapshotPart(format=1, encode=encode, decode=decode)
