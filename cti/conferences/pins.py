"""Conference PINs (CONF-03, UC-LESSONS rules 6 and 7), derived rather than stored.

A PIN is HMAC-SHA256(the site's conference key, "conference/participant/round") read as six
digits; the guest PIN uses participant 0. The log holds only the round, so no PIN is in the
log, an event, a topic or a document, and the node can still tell a participant their PIN in
an invitation (CONF-07). A PIN is issued only when it differs from every PIN of every
conference (unique among active conferences, so a keyed PIN names one room, and a
participant's and a moderator's PIN always differ): on a collision the round is raised.

The key is never empty: ``cti serve`` reads it from the data directory; a node built without
it (tests, embedding) has the process's random key (cti.site.model.PROCESS_PIN_KEY).
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from cti.conferences.model import Conference
from cti.conferences.state import ConferencesState

DIGITS = 6
GUEST = 0  # the guest PIN's participant number in the derivation


@functools.lru_cache(maxsize=65_536)
def pin(key: bytes, conference: int, participant: int, round_: int) -> str:
    if not key:  # anyone could compute them (ConferencePlan refuses one too)
        raise ValueError("conference PINs need a key")
    mac = hmac.new(key, f"{conference}/{participant}/{round_}".encode(), hashlib.sha256)
    return str(int.from_bytes(mac.digest()[:8], "big") % 10**DIGITS).zfill(DIGITS)


def pins_of(key: bytes, conf: Conference) -> dict[str, int | None]:
    """Each PIN of a conference: the participant it admits, None for the guest PIN."""
    out: dict[str, int | None] = {
        pin(key, conf.id, p.id, p.pin_round): p.id for p in conf.participants if not p.guest
    }
    if conf.guest_round is not None:
        out[pin(key, conf.id, GUEST, conf.guest_round)] = None
    return out


def in_use(key: bytes, state: ConferencesState) -> set[str]:
    return {p for conf in state.conferences.values() for p in pins_of(key, conf)}


def free_round(
    key: bytes, state: ConferencesState, conference: int, participant: int, after: int
) -> int:
    """The first round after ``after`` whose PIN no conference uses."""
    taken = in_use(key, state)
    round_ = after + 1
    while pin(key, conference, participant, round_) in taken:
        round_ += 1
    return round_


def find(key: bytes, state: ConferencesState, digits: str) -> tuple[Conference, int | None] | None:
    """The conference a keyed PIN admits to, and whose PIN it is (None: the guest PIN)."""
    for conf in state.conferences.values():
        owner = pins_of(key, conf)
        if digits in owner:
            return conf, owner[digits]
    return None
