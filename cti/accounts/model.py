"""Accounts: who may sign in, as what, with which devices and licences (USER-01..05).

A site user's name is their internal number (USER-01); integrator accounts (bridges, test
harnesses, phone_sim) have any name. The password is kept only as hashes: argon2id for the
node's own checks, and the PBKDF2 verifier Mosquitto checks at sign-in (specs/security.md).
"""

from __future__ import annotations

from enum import StrEnum

import attrs


class Role(StrEnum):
    USER = "user"  # their own devices, the busy lamps of all
    ADMIN = "admin"  # a user who also administers accounts
    INTEGRATOR = "integrator"  # full control of every device, every topic (bridges, phone_sim)
    MONITOR = "monitor"  # reads everything, changes nothing


class Licence(StrEnum):
    """What a user's licences allow (USER-05)."""

    VOICEMAIL = "voicemail"
    CONFERENCE = "conference"
    MOBILITY = "mobility"


@attrs.frozen
class Account:
    name: str  # what the account signs in with: a user's internal number (USER-01)
    display_name: str
    role: Role
    devices: tuple[str, ...]  # the numbers the user acts as: own phones, a MULAP (USER-04)
    licences: frozenset[Licence] = frozenset()
    password: str | None = None  # argon2id hash; None: cannot sign in yet
    broker_password: str | None = None  # Mosquitto's $7$ verifier of the same password
    must_change: bool = True  # an administrator set it: change before anything else (USER-01)

    @property
    def can_sign_in(self) -> bool:
        return self.password is not None and self.broker_password is not None
