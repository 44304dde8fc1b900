"""The ``[[users]]`` of the site file: the accounts a node starts with (USER-01..05).

Each entry seeds one account the log does not have yet; once the log has it, the log wins
(specs/configuration.md). ``password`` is an initial password in clear (a demo office, a first
administrator): it is checked against the policy here, hashed when the account is seeded and
never stored; ``must_change`` (default true) makes its owner change it at first sign-in.

    [[users]]
    name = "330"            # a person's account: their internal number (USER-01)
    display_name = "Anna Berger"   # default: the device's name
    role = "admin"          # user (default), admin, integrator, monitor
    devices = ["330"]       # default: [name] for people, [] for integrators
    licences = ["voicemail", "conference"]
    password = "Anna-2026!"
    must_change = false
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from cti.accounts.commands import AccountSeed
from cti.accounts.model import Licence, Role
from cti.accounts.passwords import check_policy, hash_password
from cti.accounts.services import check_account
from cti.app.config.site_file import _entries, _enum, _flag, _keys, _text
from cti.kernel.refusal import Refusal
from cti.mqtt.passwords import mosquitto_hash
from cti.site import Site, SiteError

_KEYS = frozenset(
    {"name", "display_name", "role", "devices", "licences", "password", "must_change"}
)


@attrs.frozen
class UserSpec:
    """A ``[[users]]`` entry; ``password`` in clear, kept in memory until seeded."""

    name: str
    display_name: str
    role: Role
    devices: tuple[str, ...]
    licences: frozenset[Licence]
    password: str | None = attrs.field(default=None, repr=False)
    must_change: bool = True

    def seed_without_password(self) -> AccountSeed:
        return attrs.evolve(self, password=None).seed()

    def seed(self) -> AccountSeed:
        """The account to create, its password hashed now (slow: only for the seeds the log
        does not have)."""
        hashed = None if self.password is None else hash_password(self.password)
        broker = None if self.password is None else mosquitto_hash(self.password)
        return AccountSeed(
            name=self.name,
            display_name=self.display_name,
            role=self.role,
            devices=self.devices,
            licences=self.licences,
            password=hashed,
            broker_password=broker,
            must_change=self.must_change,
        )


def users_from_dict(raw: Mapping[str, Any], site: Site) -> tuple[UserSpec, ...]:
    specs: list[UserSpec] = []
    for i, entry in enumerate(_entries(raw, "users"), 1):
        where = f"[[users]] entry {i}"
        _keys(entry, _KEYS, where)
        name = entry.get("name")
        if isinstance(name, int) and not isinstance(name, bool):
            name = str(name)
        if not isinstance(name, str):
            raise SiteError(f"{where}: missing key 'name' (the user's number, or a name)")
        where = f"user {name}"
        role = _enum(Role, entry.get("role", "user"), where, "role")
        person = role in (Role.USER, Role.ADMIN)
        device = site.devices.get(name)
        devices = entry.get("devices", [name] if person else [])
        if not isinstance(devices, list) or not all(isinstance(d, str | int) for d in devices):
            raise SiteError(f"{where}: devices must be a list of numbers")
        licences = entry.get("licences", [])
        if not isinstance(licences, list):
            raise SiteError(f"{where}: licences must be a list (voicemail, conference, mobility)")
        password = entry.get("password")
        if password is not None and not isinstance(password, str):
            raise SiteError(f"{where}: password must be a string")
        spec = UserSpec(
            name=name,
            display_name=_text(entry, "display_name", where, device.name if device else name),
            role=role,
            devices=tuple(str(d) for d in devices),
            licences=frozenset(_enum(Licence, lic, where, "licence") for lic in licences),
            password=password,
            must_change=_flag(entry, "must_change", where) if "must_change" in entry else True,
        )
        try:
            check_account(site, spec.seed_without_password())
            if password is not None:
                check_policy(password)
        except Refusal as refusal:
            raise SiteError(f"{where}: {refusal.message}") from None
        if any(s.name == name for s in specs):
            raise SiteError(f"{where}: configured twice")
        specs.append(spec)
    return tuple(specs)
