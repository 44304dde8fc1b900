"""The accounts part of a snapshot."""

from __future__ import annotations

import typing
from typing import Any

import cattrs
import immutables

from cti.accounts.model import Account
from cti.accounts.state import AccountsState, UserSettings
from cti.kernel.context import SnapshotPart
from cti.site.model import DialMethod

_conv = cattrs.Converter()
# Licences: a frozenset in the state, a sorted list of names in the snapshot.
_conv.register_unstructure_hook_func(
    lambda t: frozenset in (t, typing.get_origin(t)),
    lambda s: sorted(str(x) for x in s),
)


def encode(state: AccountsState) -> dict[str, Any]:
    return {
        "settings": {
            user: {
                "assigned_phone": s.assigned_phone,
                "dial_method": None if s.dial_method is None else s.dial_method.value,
            }
            for user, s in state.settings.items()
        },
        "accounts": [_conv.unstructure(a) for a in state.accounts.values()],
    }


def decode(doc: Any) -> AccountsState:
    settings = immutables.Map(
        {
            user: UserSettings(
                assigned_phone=s["assigned_phone"],
                dial_method=None if s["dial_method"] is None else DialMethod(s["dial_method"]),
            )
            for user, s in doc["settings"].items()
        }
    )
    accounts = immutables.Map({a["name"]: _conv.structure(a, Account) for a in doc["accounts"]})
    return AccountsState(settings, accounts)


# 2: accounts (1 held the settings alone). 3: each account with its profile (USER-03); a
# format 2 snapshot reads as accounts with empty profiles, which is what its release had.
SNAPSHOT = SnapshotPart(format=3, encode=encode, decode=decode, older=frozenset({2}))
