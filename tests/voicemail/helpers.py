"""The example office with its people's accounts and an audio store in a temporary
directory: voicemail scenarios run through the API (cti.api.voicemail) on the node directly."""

from __future__ import annotations

import asyncio
import base64
import math
import struct
from pathlib import Path
from typing import Any

import attrs

from cti.accounts.commands import SeedAccounts
from cti.api.execute import execute
from cti.api.requests import parse_action
from cti.app.engine import Direct
from cti.calls import commands as c
from cti.voicemail.audio_db import AudioStore
from cti.voicemail.wav import make_wav
from tests.office import Office, fmt
from tests.presence.helpers import seeds

VM = "351"


def tone(seconds: float, hz: int = 440, rate: int = 8000) -> bytes:
    """A WAV of a sine tone: speech enough for a voicemail."""
    frames = int(seconds * rate)
    pcm = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate))) for i in range(frames)
    )
    return make_wav(pcm, rate)


def people() -> Office:
    """The example office's accounts, signed-in already (no password change pending)."""
    office = Office()
    ready = tuple(
        attrs.evolve(s, password="argon2-hash", broker_password="broker-hash", must_change=False)
        for s in seeds()
    )
    office.do(SeedAccounts(accounts=ready))
    return office


class Voicemail:
    """An office, its audio store, and requests as a client sends them (JSON fields)."""

    def __init__(self, data: Path, office: Office | None = None) -> None:
        self.office = office or people()
        self.node = self.office.node
        self.audio = AudioStore(data / "audio")
        self.node.read_models["voicemail.audio"] = self.audio
        self.engine = Direct(self.node)

    def request(
        self, service: str, principal: str | None = "phone-sim", secure: bool = True, **fields: Any
    ) -> dict[str, Any]:
        action = parse_action(service, fields)
        return asyncio.run(execute(self.engine, action, principal, secure=secure))

    def ok(self, service: str, principal: str | None = "phone-sim", **fields: Any) -> Any:
        reply = self.request(service, principal, **fields)
        assert reply["ok"], reply
        return reply["result"]

    def error(self, service: str, principal: str | None = "phone-sim", **fields: Any) -> str:
        seq = self.node.state.seq
        reply = self.request(service, principal, **fields)
        assert not reply["ok"], reply
        self.error_reply = reply["error"]
        if reply["error"]["code"] != "wrongPin":  # a wrong PIN is recorded (the throttle)
            assert self.node.state.seq == seq
        return str(reply["error"]["code"])

    def events_since(self, seq: int) -> list[str]:
        return [fmt(x.event) for x in self.office.committed() if x.seq > seq]

    def deflected(self, caller: str = "330", user: str = "331") -> int:
        """``caller`` calls ``user``, whose phone deflects the call to the voicemail."""
        call = self.office.call_of(c.MakeCall(calling=caller, called=user))
        self.office.do(c.DeflectCall(call=call, device=user, to=VM))
        return call

    def dialled(self, user: str = "331") -> int:
        """``user`` dials the voicemail number (the menu)."""
        return self.office.call_of(c.MakeCall(calling=user, called=VM))

    def leave(self, call: int, device: str = "330", seconds: float = 3.0) -> dict[str, Any]:
        audio = base64.b64encode(tone(seconds)).decode()
        return self.request("leaveVoicemailMessage", call=call, device=device, audio=audio)
