"""generateDigits: DTMF keyed on a connected connection (the voicemail menu and PINs, the
conference dial-in PIN; digits to a person or an outside party are only heard).

Digits keyed towards a device that a context serves (Context.digit_receivers, by device kind)
go to that context and nowhere else: they may be a PIN, so call control records no event with
them. Digits towards anyone else are recorded as ``digitsGenerated`` for every party."""

from __future__ import annotations

import re

from cti.calls import commands as cmd
from cti.calls import events as ev
from cti.calls.decision import CallDecision as Decision
from cti.calls.errors import CstaError
from cti.calls.values import Cause, ConnectionState
from cti.site.model import PHONE_KINDS

DIGITS = re.compile(r"[0-9*#A-D]{1,32}")


def generate_digits(d: Decision, c: cmd.GenerateDigits) -> None:
    call, state = d.connection(c.call, c.device)
    if state is not ConnectionState.CONNECTED:
        raise CstaError("invalidConnectionState", f"{c.device} is {state} in call {c.call}")
    if DIGITS.fullmatch(c.digits) is None:
        raise CstaError("invalidParameterValue", "digits are 1 to 32 of 0-9, *, #, A-D (DTMF)")
    others = [p.device for p in call.parties if p.device != c.device]
    if len(others) == 1:
        served = d.site.device(others[0])
        receiver = d.digit_receivers.get(served.kind) if served is not None else None
        if receiver is not None:
            receiver(d, c.call, c.device, others[0], c.digits)
            return
    record_heard(d, c.call, c.device, c.digits)


def record_heard(d: Decision, call_id: int, device: str, digits: str) -> None:
    """``digitsGenerated`` for every party of the call: the digits only when every other party
    is a phone of the site (towards an outside party or a bridge they may be a PIN)."""
    call = d.call(call_id)
    others = [p.device for p in call.parties if p.device != device]
    phones = all(
        (dev := d.site.device(other)) is not None and dev.kind in PHONE_KINDS for other in others
    )
    local = tuple(ev.Local(p.device, p.state) for p in call.parties)
    d.emit(
        ev.DigitsGenerated(
            call=call_id,
            cause=Cause.NORMAL,
            local=local,
            device=device,
            count=len(digits),
            digits=digits if phones else "",
        )
    )
