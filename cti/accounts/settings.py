"""The settings in force: the user's own change if it still fits the site, else the site's.

Every reader of these settings (call control, documents) goes through here, so a value the
site file no longer allows (a phone that left the MULAP group) is never used.
"""

from __future__ import annotations

from cti.accounts.state import AccountsState
from cti.site.model import Device, DialMethod


def assigned_phone(accounts: AccountsState, group: Device) -> str:
    """The phone that places a MULAP user's outgoing CTI calls (CALL-14, USER-04)."""
    chosen = accounts.of(group.number).assigned_phone
    if chosen is not None and chosen in group.members:
        return chosen
    return group.assigned_phone or group.members[0]


def dial_method(accounts: AccountsState, user: Device) -> DialMethod:
    """How a mobility user's CTI calls start (CALL-15, USER-04)."""
    chosen = accounts.of(user.number).dial_method
    return user.dial_method if chosen is None or user.mobile is None else chosen
