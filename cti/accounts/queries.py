"""Queries of the accounts context: what administrators see of accounts (never a hash)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import attrs

from cti.accounts.model import Account, Licence, Role
from cti.kernel.messages import Query
from cti.site.model import Site

if TYPE_CHECKING:
    from cti.domain.state import NodeState


class AccountEntry(TypedDict):
    name: str
    displayName: str
    role: Role
    devices: list[str]
    licences: list[Licence]
    canSignIn: bool  # has a password
    mustChange: bool  # must change it at the next sign-in (USER-01)


@attrs.frozen(kw_only=True)
class ListAccounts(Query):
    """Every account, by name (administrators, integrators, monitors)."""

    SERVICE: ClassVar[str] = "listAccounts"
    ADMIN: ClassVar[bool] = True
    RESULT: ClassVar[object] = list[AccountEntry]


def entry(account: Account) -> AccountEntry:
    return AccountEntry(
        name=account.name,
        displayName=account.display_name,
        role=account.role,
        devices=list(account.devices),
        licences=sorted(account.licences),
        canSignIn=account.can_sign_in,
        mustChange=account.must_change,
    )


def list_accounts(site: Site, state: NodeState, q: ListAccounts) -> list[AccountEntry]:
    return [entry(a) for _, a in sorted(state.accounts.accounts.items())]


QUERIES: dict[type[Any], Any] = {ListAccounts: list_accounts}
