"""The services that take a password: createAccount, setPassword (administrators) and
changePassword (the account's owner). USER-01, USER-02.

A password is checked against the policy and hashed here, where it arrives, in a worker
thread (hashing is deliberately slow); only the hashes go on to the node, as an INTERNAL
command, so no password reaches the log, a log line or a topic. The node then authorizes that
command against its state like any other (cti.accounts.access).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import attrs

from cti.accounts import passwords
from cti.accounts.commands import AccountSeed, CreateAccount, SetPasswordHash
from cti.accounts.model import Licence, Role
from cti.app.engine import Executor
from cti.app.node import Outcome, Refused
from cti.kernel.messages import Command, NoResult
from cti.kernel.refusal import Refusal
from cti.mqtt.passwords import mosquitto_hash


@attrs.frozen(kw_only=True)
class CreateAccountRequest:
    """An administrator creates an account with an initial password (to be changed)."""

    SERVICE: ClassVar[str] = "createAccount"
    ADMIN: ClassVar[bool] = True
    RESULT: ClassVar[Any] = NoResult
    name: str
    password: str = attrs.field(repr=False)
    display_name: str = ""
    role: Role = Role.USER
    devices: tuple[str, ...] | None = None  # default: [name] for people
    licences: tuple[Licence, ...] = ()


@attrs.frozen(kw_only=True)
class SetPasswordRequest:
    """An administrator sets a user's password; the user must change it at next sign-in."""

    SERVICE: ClassVar[str] = "setPassword"
    ADMIN: ClassVar[bool] = True
    RESULT: ClassVar[Any] = NoResult
    name: str
    password: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class ChangePasswordRequest:
    """A signed-in user changes their own password (over an encrypted connection only)."""

    SERVICE: ClassVar[str] = "changePassword"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = NoResult
    old_password: str = attrs.field(repr=False)
    new_password: str = attrs.field(repr=False)


PasswordRequest = CreateAccountRequest | SetPasswordRequest | ChangePasswordRequest
REQUESTS: tuple[type[PasswordRequest], ...] = (
    CreateAccountRequest,
    SetPasswordRequest,
    ChangePasswordRequest,
)


def _hashes(password: str) -> tuple[str, str]:
    passwords.check_policy(password)
    return passwords.hash_password(password), mosquitto_hash(password)


async def prepare(
    engine: Executor, request: PasswordRequest, principal: str | None, *, secure: bool
) -> Command:
    """The command that carries the hashes; raises Refusal (a wrong old password, the
    policy, an unencrypted connection)."""
    if isinstance(request, ChangePasswordRequest):
        if principal is None:
            raise Refusal("notPermitted", "changePassword is for a signed-in account")
        if not secure:
            raise Refusal(
                "encryptionRequired", "a password is changed over an encrypted connection only"
            )
        account = engine.node.state.accounts.account(principal)
        stored = None if account is None else account.password
        ok = stored is not None and await asyncio.to_thread(
            passwords.verify_password, stored, request.old_password
        )
        if not ok:
            raise Refusal("wrongPassword", "the current password is not right")
        hashed, broker = await asyncio.to_thread(_hashes, request.new_password)
        return SetPasswordHash(
            name=principal, password=hashed, broker_password=broker, must_change=False
        )
    hashed, broker = await asyncio.to_thread(_hashes, request.password)
    if isinstance(request, SetPasswordRequest):
        return SetPasswordHash(
            name=request.name, password=hashed, broker_password=broker, must_change=True
        )
    person = request.role in (Role.USER, Role.ADMIN)
    devices = (
        request.devices if request.devices is not None else ((request.name,) if person else ())
    )
    device = engine.node.site.devices.get(request.name)
    return CreateAccount(
        account=AccountSeed(
            name=request.name,
            display_name=request.display_name or (device.name if device else request.name),
            role=request.role,
            devices=devices,
            licences=frozenset(request.licences),
            password=hashed,
            broker_password=broker,
            must_change=True,
        )
    )


async def execute(
    engine: Executor, request: PasswordRequest, principal: str | None, *, secure: bool
) -> Outcome:
    try:
        command = await prepare(engine, request, principal, secure=secure)
    except Refusal as refusal:
        return Refused(refusal)
    return await engine.execute(command, principal)
