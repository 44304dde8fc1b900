"""The services that take a password: createAccount, setPassword (administrators) and
changePassword (the account's owner). USER-01, USER-02.

A password is checked against the policy and hashed here, where it arrives, in a worker
thread (hashing is deliberately slow); only the hashes go on to the node, as an INTERNAL
command, so no password reaches the log, a log line or a topic. The node then authorizes that
command against its state like any other (cti.accounts.access).

Hashing costs ~0.1 s of CPU and 64 MiB, so nobody may make the node hash for nothing
(specs/security.md, "Passwords"):

- who may send the request is decided first, on the same rules the node applies later (the
  internal command, its hashes left empty, authorized against the current state): a user's
  setPassword or createAccount is refused ``notPermitted`` before any hashing;
- one password request at a time per account (``MAX_PER_ACCOUNT``): another while one is in
  progress is refused ``resourceBusy`` at once, not queued, so one account cannot fill the
  hashing threads;
- the hashing runs on its own small pool (cti.api.hashing), never asyncio's default one.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any, ClassVar, Final

import attrs

from cti.accounts import passwords
from cti.accounts.access import authorize
from cti.accounts.commands import AccountSeed, CreateAccount, SetPasswordHash
from cti.accounts.model import Licence, Role
from cti.api.hashing import HASHING
from cti.api.in_progress import PerAccount
from cti.app.engine import Executor
from cti.app.node import Node, Outcome, Refused
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


# Password requests in progress, per node and account: the hashing each may cause is bounded.
MAX_PER_ACCOUNT: Final = 1
_IN_PROGRESS: weakref.WeakKeyDictionary[Node, PerAccount] = weakref.WeakKeyDictionary()


def _hashes(password: str) -> tuple[str, str]:
    passwords.check_policy(password)
    return passwords.hash_password(password), mosquitto_hash(password)


def _command(engine: Executor, request: PasswordRequest, hashed: str, broker: str) -> Command:
    """The internal command for an administrator's request, with the hashes given (empty to
    ask whether the sender may send it before hashing anything)."""
    if isinstance(request, SetPasswordRequest):
        return SetPasswordHash(
            name=request.name, password=hashed, broker_password=broker, must_change=True
        )
    assert isinstance(request, CreateAccountRequest)
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


def _one_at_a_time(
    node: Node, principal: str, service: str
) -> contextlib.AbstractContextManager[None]:
    """Hold one of ``principal``'s password requests in progress; refuse ``resourceBusy``
    beyond ``MAX_PER_ACCOUNT`` (at once: a queue would let one account occupy the hashing)."""
    bound = _IN_PROGRESS.setdefault(node, PerAccount(MAX_PER_ACCOUNT))
    return bound.slot(
        principal,
        lambda _: Refusal(
            "resourceBusy",
            f"{service}: {principal} has a password request in progress: "
            "try again once it is answered",
        ),
    )


async def prepare(
    engine: Executor, request: PasswordRequest, principal: str | None, *, secure: bool
) -> Command:
    """The command that carries the hashes; raises Refusal (a wrong old password, the
    policy, an unencrypted connection). Decides nothing about who may send it: the caller
    does that first (:func:`execute`)."""
    if isinstance(request, ChangePasswordRequest):
        if principal is None:
            raise Refusal("notPermitted", "changePassword is for a signed-in account")
        if not secure:
            raise Refusal(
                "encryptionRequired", "a password is changed over an encrypted connection only"
            )
        account = engine.node.state.accounts.account(principal)
        stored = None if account is None else account.password
        ok = stored is not None and await HASHING.run(
            passwords.verify_password, stored, request.old_password
        )
        if not ok:
            raise Refusal("wrongPassword", "the current password is not right")
        hashed, broker = await HASHING.run(_hashes, request.new_password)
        return SetPasswordHash(
            name=principal, password=hashed, broker_password=broker, must_change=False
        )
    hashed, broker = await HASHING.run(_hashes, request.password)
    return _command(engine, request, hashed, broker)


async def execute(
    engine: Executor, request: PasswordRequest, principal: str | None, *, secure: bool
) -> Outcome:
    """Refused before any hashing if ``principal`` may not send ``request`` or has another
    password request in progress; else hashed, and the node decides (and authorizes) again."""
    node = engine.node
    try:
        if principal is None:  # a face without accounts (in-process): nothing to bound
            command = await prepare(engine, request, principal, secure=secure)
        else:
            if not isinstance(request, ChangePasswordRequest):
                # The node's own rule on the state as it is now (hashes left empty); it is
                # applied again when the command is decided, the state may change meanwhile.
                authorize(node.site, node.state, principal, _command(engine, request, "", ""))
            with _one_at_a_time(node, principal, request.SERVICE):
                command = await prepare(engine, request, principal, secure=secure)
                return await engine.execute(command, principal)
    except Refusal as refusal:
        return Refused(refusal)
    return await engine.execute(command, principal)
