"""Passwords of the accounts: the policy of USER-02 and the hash they are kept as.

A password is checked against the policy and hashed where it arrives (the API, the command
line), never in the node's writer: hashing is deliberately slow. Only the hash travels on, in
a command and then an event, so a password is never in the log, a log line or a topic.

Policy (USER-02): 8 to 16 characters, with at least one upper-case letter, one lower-case
letter, one digit and one special character (anything that is not a letter or a digit, the
space included; control characters are not allowed at all). A refusal names every rule that
failed, so a UI can mark them all at once.
"""

from __future__ import annotations

from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cti.kernel.refusal import Refusal

# argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes).
_HASHER = PasswordHasher()

RULES: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("length", "8 to 16 characters", lambda p: 8 <= len(p) <= 16),
    ("upper", "an upper-case letter", lambda p: any(c.isupper() for c in p)),
    ("lower", "a lower-case letter", lambda p: any(c.islower() for c in p)),
    ("digit", "a digit", lambda p: any(c.isdigit() for c in p)),
    ("special", "a special character", lambda p: any(not c.isalnum() for c in p)),
    ("printable", "no control characters", lambda p: all(c.isprintable() for c in p)),
)


def failed_rules(password: str) -> list[str]:
    """The names of the rules ``password`` breaks, in the order of RULES."""
    return [name for name, _, holds in RULES if not holds(password)]


def check_policy(password: str) -> None:
    """Refuse a password that breaks the policy, naming every rule it breaks."""
    failed = failed_rules(password)
    if failed:
        wanted = ", ".join(text for name, text, _ in RULES if name in failed)
        raise Refusal(
            "passwordPolicy",
            f"the password needs {wanted}",
            {"failed": failed},
        )


def hash_password(password: str) -> str:
    """The argon2id hash kept for the account (salted, memory-hard)."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
