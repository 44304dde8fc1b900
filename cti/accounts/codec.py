"""The accounts part of a snapshot."""

from __future__ import annotations

from typing import Any

import immutables

from cti.accounts.state import AccountsState, UserSettings
from cti.kernel.context import SnapshotPart
from cti.site.model import DialMethod


def encode(state: AccountsState) -> dict[str, Any]:
    return {
        user: {
            "assigned_phone": s.assigned_phone,
            "dial_method": None if s.dial_method is None else s.dial_method.value,
        }
        for user, s in state.settings.items()
    }


def decode(doc: Any) -> AccountsState:
    return AccountsState(
        immutables.Map(
            {
                user: UserSettings(
                    assigned_phone=s["assigned_phone"],
                    dial_method=None if s["dial_method"] is None else DialMethod(s["dial_method"]),
                )
                for user, s in doc.items()
            }
        )
    )


SNAPSHOT = SnapshotPart(format=1, encode=encode, decode=decode)
