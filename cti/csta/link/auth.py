"""Who an association is (specs/csta.md, specs/security.md): the AARQ's user and password
checked against the node's accounts, or against the ``[csta]`` section's own account.

- ``[csta]`` user and password (compared in constant time): the association acts for the
  node's integrators, as before accounts existed: its services carry no principal, so no
  per-account check applies (cti.domain.model.decide).
- an account of the node that can sign in, whose argon2 hash verifies the password: the
  association acts as that account; every service it sends is authorized against it
  (cti.accounts.access). An account whose password an administrator set (``must_change``) is
  refused until its owner has changed it over MQTT. The association lasts while that sign-in
  holds: removing the account, or a new password (changed or reset), aborts it
  (cti.csta.link.session.Session.end_if_signed_out).

Verifying is slow on purpose (argon2id: memory-hard), so it runs in a worker thread, at most
``checks`` at a time. An unknown user, or an account without a password, costs the same
verification (against a hash of nothing anyone knows), so the answer's timing does not tell
which names exist.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import secrets
from collections.abc import Callable

import attrs

from cti.accounts.model import Account
from cti.accounts.passwords import hash_password, verify_password
from cti.app.config import CstaSettings

Lookup = Callable[[str], Account | None]


@attrs.frozen
class Verdict:
    """The outcome of an AARQ's credentials. ``reason`` is for the log only (the AARE says
    authentication-failure whatever it is)."""

    accepted: bool
    principal: str | None = None  # the account; None: the [csta] account (integrator)
    reason: str = ""  # unknownUser, noPassword, wrongPassword, passwordChangeRequired
    # the account as it signed in (its password hash among it): the session compares the
    # account with it whenever the accounts change (Session.end_if_signed_out)
    account: Account | None = attrs.field(default=None, repr=False)

    @property
    def hint(self) -> str:
        if self.reason == "passwordChangeRequired":
            return "an administrator set this password: change it over MQTT (changePassword)"
        return ""


CSTA_ACCOUNT = Verdict(True, None)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


@functools.cache
def _unknowable_hash() -> str:
    """A hash of a random password, verified for users without one (timing)."""
    return hash_password(secrets.token_urlsafe(24))


def _verify(stored: str | None, password: str) -> bool:
    if stored is None:
        verify_password(_unknowable_hash(), password)
        return False
    return verify_password(stored, password)


async def authenticate(
    settings: CstaSettings,
    lookup: Lookup,
    user: str,
    password: str,
    checks: asyncio.Semaphore,
) -> Verdict:
    """Check an AARQ's ``user`` and ``password``; ``lookup`` reads the node's accounts as
    they are now (it is asked again after the slow verification)."""
    # both compared, whatever the first says: the time does not tell which one was wrong
    csta_user, csta_password = _same(user, settings.user), _same(password, settings.password)
    if csta_user and csta_password:
        return CSTA_ACCOUNT
    account = lookup(user)
    stored = account.password if account is not None and account.can_sign_in else None
    async with checks:
        verified = await asyncio.to_thread(_verify, stored, password)
    if account is None:
        return Verdict(False, reason="unknownUser")
    if stored is None:
        return Verdict(False, reason="noPassword")
    current = lookup(user)  # changed while we verified? Then that password is no longer it
    if not verified or current is None or current.password != stored:
        return Verdict(False, reason="wrongPassword")
    if current.must_change:
        return Verdict(False, reason="passwordChangeRequired")
    return Verdict(True, principal=current.name, account=current)
