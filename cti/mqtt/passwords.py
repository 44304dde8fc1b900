"""Mosquitto's password file format, so the node can write the file its broker checks.

Mosquitto 2 keeps ``user:$7$<iterations>$<salt>$<hash>`` lines: PBKDF2-HMAC-SHA512 over the
password with a 12-byte salt, 64-byte hash, both base64. Our own account store keeps argon2id
hashes (cti.accounts); this hash is derived from the same password when it is set, only for the
broker's file (specs/security.md says why both exist).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

ITERATIONS = 20_000  # mosquitto runs this at every CONNECT: a connection storm must not stall it


def mosquitto_hash(
    password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None
) -> str:
    salt = os.urandom(12) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def mosquitto_verify(password: str, stored: str) -> bool:
    """Does ``password`` match a ``$7$`` hash (ours or mosquitto_passwd's)?"""
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac(
            "sha512", password.encode("utf-8"), base64.b64decode(salt), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(expected, actual)


def kept_or_new_hash(password: str, stored: str | None) -> str:
    """``stored`` if it is a hash of ``password`` at today's iterations, else a newly salted one.

    The node's own line in the broker's password file stays as it was while its password does:
    a start that changes nothing else leaves the file byte for byte, so the node can tell an
    operator's broker needs no reload. A hash of fewer (or more) iterations is replaced."""
    if (
        stored is not None
        and stored.startswith(f"$7${ITERATIONS}$")
        and mosquitto_verify(password, stored)
    ):
        return stored
    return mosquitto_hash(password)
