"""The voicemail PIN's rules (VM-03) and its throttle (UC-LESSONS rules 6 and 7).

A PIN is 6 digits, not all the same digit, not an ascending or descending run (123456,
987654, also wrapping: 890123). The default 123456 is refused as a new PIN by the run rule.
Wrong PINs are throttled per mailbox and caller: after FREE_TRIES wrong ones in a row each
further wrong one locks that pair for a time that doubles from LOCK_MS up to MAX_LOCK_MS.
"""

from __future__ import annotations

import itertools

from cti.kernel.refusal import Refusal

DEFAULT_PIN = "123456"
LENGTH = 6
FREE_TRIES = 3
LOCK_MS = 30_000
MAX_LOCK_MS = 3_600_000


def pin_problems(pin: str) -> list[str]:
    """The rules ``pin`` breaks: ``length`` (6 digits 0-9), ``allSame``, ``run``."""
    if len(pin) != LENGTH or not all("0" <= c <= "9" for c in pin):
        return ["length"]
    problems = []
    if len(set(pin)) == 1:
        problems.append("allSame")
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    if steps in ({1}, {9}):
        problems.append("run")
    return problems


def check_new_pin(pin: str) -> None:
    problems = pin_problems(pin)
    if problems:
        raise Refusal(
            "pinPolicy",
            "a PIN is 6 digits, not all the same, not an ascending or descending run",
            {"failed": problems},
        )


def lock_ms(failures: int) -> int:
    """How long a mailbox and caller are locked after ``failures`` wrong PINs in a row."""
    if failures < FREE_TRIES:
        return 0
    lock: int = LOCK_MS * 2 ** min(failures - FREE_TRIES, 20)
    return min(lock, MAX_LOCK_MS)
