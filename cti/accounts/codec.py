"""The accounts part of a snapshot."""

from __future__ import annotations

import typing
from typing import Any

import cattrs
import immutables

from cti.accounts.model import Account, Visibility
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


def _visibility(account: dict[str, Any]) -> dict[str, Any]:
    """Format 3 kept presence visibility as a flag: visible is the default level."""
    profile = account.get("profile")
    if profile is None or "presence_visible" not in profile:
        return account
    profile = dict(profile)
    visible = profile.pop("presence_visible")
    level = Visibility.INTERNAL_AND_EXTERNAL if visible else Visibility.NOT_VISIBLE
    return {**account, "profile": {**profile, "presence_visibility": level.value}}


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
    accounts = immutables.Map(
        {a["name"]: _conv.structure(_visibility(a), Account) for a in doc["accounts"]}
    )
    return AccountsState(settings, accounts)


# 2: accounts (1 held the settings alone). 3: each account with its profile (USER-03); a
# format 2 snapshot reads as accounts with empty profiles, which is what its release had.
# 4: the profile's presence visibility of three levels (PRES-04); format 3 had a flag, read as
# the event's upcaster reads it.
SNAPSHOT = SnapshotPart(format=4, encode=encode, decode=decode, older=frozenset({2, 3}))
