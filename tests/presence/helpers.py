"""The example office with its people's accounts (no passwords: presence needs none) and
Bernd's (331) profile numbers, for presence scenarios."""

from __future__ import annotations

from functools import cache

from cti.accounts.commands import AccountSeed, SeedAccounts, SetProfileChecked
from cti.app.config import load_config
from tests.office import Office

MOBILE = "+491712345678"  # Bernd's profile mobile (0171 2345678)
EXTERNAL = "+49301234567"  # Bernd's profile external number


@cache
def seeds() -> tuple[AccountSeed, ...]:
    return tuple(u.seed_without_password() for u in load_config().users)


def office_with_people() -> Office:
    office = Office()
    office.do(SeedAccounts(accounts=seeds()))
    office.do(SetProfileChecked(name="331", mobile="0171 2345678", external="+49 30 1234567"))
    return office
