"""Where the presence services are decided. Bad input is refused by name and changes nothing."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from cti.accounts.profiles import canonical_number
from cti.calls import events as calls_events
from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal, invalid_field
from cti.presence import commands as cmd
from cti.presence import events as ev
from cti.presence import view
from cti.presence.model import FORWARDED, Status, Target, TargetKind
from cti.site.model import Device

if TYPE_CHECKING:
    from cti.domain.state import NodeState

REFUSALS = frozenset(
    {
        "unknownUser",
        "invalidParameterValue",
        "noteNotForOffice",
        "returnTimeNotInFuture",
        "doNotDisturbNotAvailable",
        "statusNotForwarded",
        "targetHasNoNumber",
        "forwardingLoop",
    }
)


def _user(d: Decision[NodeState], user: str) -> Device:
    dev = view.user_device(d.site, user)
    if dev is None:
        raise Refusal("unknownUser", f"{user!r} is not a user (phone or MULAP) of this site")
    return dev


def _info(text: str | None) -> str | None:
    """The info text as kept: trimmed, None when empty; no control characters (it is shown
    on one line of UIs and phone displays)."""
    if text is None:
        return None
    if len(text) > cmd.MAX_INFO:
        raise invalid_field("info", "tooLong", f"info: at most {cmd.MAX_INFO} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise invalid_field(
            "info", "controlCharacter", "info: no control characters (one line of text)"
        )
    return text.strip() or None


def set_presence(d: Decision[NodeState], c: cmd.SetPresence) -> None:
    dev = _user(d, c.user)
    info = _info(c.info)
    if c.status is Status.OFFICE and (c.return_at is not None or c.info is not None):
        field = "returnAt" if c.return_at is not None else "info"
        raise Refusal(
            "noteNotForOffice",
            "office takes no return time or info text (PRES-02)",
            {"field": field},
        )
    if c.return_at is not None and c.return_at <= d.now_ms:
        raise Refusal(
            "returnTimeNotInFuture",
            f"the return time {c.return_at} is not after now ({d.now_ms}, ms UTC)",
            {"now": d.now_ms},
        )
    dnd = c.status is Status.DO_NOT_DISTURB
    if dnd:
        reason = view.dnd_unavailable(d.site, dev)
        if reason is not None:
            raise Refusal(
                "doNotDisturbNotAvailable",
                f"do-not-disturb is not available to {c.user} ({reason}, CALL-14)",
                {"reason": reason},
            )
    # The phone's do-not-disturb is the one truth of DND (cti.presence.view): write it. Any
    # other status is available or absent without DND, so it switches the phone's DND off.
    if view.dnd_on(d.state, c.user) != dnd:
        d.emit(calls_events.DoNotDisturb(device=c.user, on=dnd))
    entry = d.state.presence.of(c.user)
    if (entry.status, entry.return_at, entry.info) != (c.status, c.return_at, info):
        d.emit(ev.PresenceChanged(user=c.user, status=c.status, return_at=c.return_at, info=info))


def set_presence_forwarding(d: Decision[NodeState], c: cmd.SetPresenceForwarding) -> None:
    _user(d, c.user)
    if c.status not in FORWARDED:
        raise Refusal(
            "statusNotForwarded",
            f"{c.status} has no forwarding: only the absent statuses but doNotDisturb (PRES-03)",
            {"status": c.status.value},
        )
    number: str | None = None
    if c.target is TargetKind.NUMBER:
        if c.number is None:
            raise invalid_field("number", "missing", "target number needs a number")
        number = canonical_number(d.site, "number", c.number)
        if d.site.plan.resolve(number).number == c.user:
            raise Refusal(
                "forwardingLoop", f"{c.user} cannot forward to itself", {"number": number}
            )
    elif c.number is not None:
        raise invalid_field("number", "onlyForNumberTarget", f"target {c.target} takes no number")
    new = Target(c.target, number)
    entry = d.state.presence.of(c.user)
    if entry.target(c.status) == new:
        return
    # Checked against the profile as it is now; at call time a target whose number has gone
    # since is skipped (specs/presence.md).
    if c.target is not TargetKind.NUMBER and view.resolve(d.site, d.state, c.user, new) is None:
        raise Refusal(
            "targetHasNoNumber",
            f"{c.user} has no {c.target} number to forward to",
            {"target": c.target.value},
        )
    d.emit(ev.PresenceForwardingSet(user=c.user, status=c.status, target=c.target, number=number))


def expire_return_time(d: Decision[NodeState], c: cmd.ExpireReturnTime) -> None:
    """Records nothing when no return time is due: the user set another status between the
    timer being found due and this command (a stale firing, not an error to retry)."""
    due = d.state.presence.of(c.user).return_at
    if due is not None and due <= d.now_ms:
        d.emit(ev.ReturnTimePassed(user=c.user, return_at=due))


def forget_user(d: Decision[NodeState], user: str) -> None:
    """An account is being removed (removeAccount): its presence goes with it, so the number
    shows no status or note of the departed person (nothing leaks once no profile hides it)
    and calls to it are no longer diverted to that person's targets; a new account of the
    number starts in the office. Recorded as the usual events, in the same decision."""
    entry = d.state.presence.of(user)
    if entry.status is not Status.OFFICE or entry.return_at is not None or entry.info:
        d.emit(ev.PresenceChanged(user=user, status=Status.OFFICE))
    for status in sorted(entry.forwarding.keys()):
        d.emit(ev.PresenceForwardingSet(user=user, status=status, target=TargetKind.VOICEMAIL))


SERVICES: dict[type[Any], Any] = {
    cmd.SetPresence: set_presence,
    cmd.SetPresenceForwarding: set_presence_forwarding,
    cmd.ExpireReturnTime: expire_return_time,
}
