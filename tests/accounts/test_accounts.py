"""Accounts (USER-01..05): seeded by the site file, administered by requests, passwords kept
only as hashes, and every request authorized against the sender's account."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.accounts import passwords
from cti.accounts.access import controlled
from cti.accounts.commands import (
    CreateAccount,
    RemoveAccount,
    SeedAccounts,
    SetDialMethod,
    SetPasswordHash,
    UpdateAccount,
)
from cti.accounts.model import Licence, Role
from cti.api import execute as api
from cti.api.requests import parse_action
from cti.app.bootstrap import seed_accounts
from cti.app.clock import ManualClock
from cti.app.config import load_config
from cti.app.engine import Engine
from cti.app.node import Accepted, Node, Refused, replay
from cti.calls import commands as c
from cti.calls.services.queries import SnapshotCall, SnapshotDevice
from cti.domain import snapshot
from cti.kernel.refusal import Refusal
from cti.site import DialMethod
from cti.store import MemoryStore

CONFIG = load_config()
SEEDS = SeedAccounts(accounts=tuple(u.seed() for u in CONFIG.users))  # hashing is slow: once


def seeded() -> Node:
    node = Node(CONFIG.site, MemoryStore(), ManualClock())
    assert node.execute(SEEDS).ok
    return node


def refusal(node: Node, command: c.Command, principal: str | None) -> Refusal:
    outcome = node.execute(command, principal)
    assert isinstance(outcome, Refused), f"{command} by {principal} was accepted"
    return outcome.error


def test_the_site_seeds_accounts_once_then_the_log_wins() -> None:
    node = seeded()
    anna = node.state.accounts.account("330")
    assert anna is not None and anna.role is Role.ADMIN and anna.display_name == "Anna Berger"
    assert anna.licences == {Licence.VOICEMAIL, Licence.CONFERENCE} and not anna.must_change
    assert anna.password is not None and passwords.verify_password(anna.password, "Anna-2026!")
    assert "Anna-2026!" not in repr(node.store.read(1))  # only hashes are recorded
    assert node.execute(UpdateAccount(name="331", display_name="B. Vogel"), "330").ok
    seq = node.state.seq
    seed_accounts(node, CONFIG.users)  # a restart: nothing is seeded again
    assert node.state.seq == seq
    assert node.state.accounts.account("331").display_name == "B. Vogel"  # type: ignore[union-attr]
    assert replay(node.store, use_snapshot=False) == node.state
    assert snapshot.decode(snapshot.encode(node.state)) == node.state


@pytest.mark.parametrize(
    ("password", "failed"),
    [
        ("Short1!", ["length"]),
        ("Much-too-long-2026!", ["length"]),
        ("lower-2026!", ["upper"]),
        ("UPPER-2026!", ["lower"]),
        ("NoDigits-here!", ["digit"]),
        ("NoSpecial2026", ["special"]),
        ("Tab\t2026aA", ["printable"]),
        ("abc", ["length", "upper", "digit", "special"]),
        ("Gut-2026!", []),
        ("Grüße 2026", []),  # a space is a special character; umlauts are letters
    ],
)
def test_password_policy_names_every_rule_that_failed(password: str, failed: list[str]) -> None:
    """USER-02: 8-16 characters, upper, lower, digit, special."""
    assert passwords.failed_rules(password) == failed
    if failed:
        with pytest.raises(Refusal) as info:
            passwords.check_policy(password)
        assert info.value.name == "passwordPolicy"
        assert info.value.details == {"failed": failed}


def test_who_may_do_what() -> None:
    node = seeded()
    made = node.execute(c.MakeCall(calling="331", called="332"), "331")
    assert isinstance(made, Accepted)
    call = made.result["call"]
    assert isinstance(call, int)
    # Another user's phone: refused, saying which devices are theirs.
    err = refusal(node, c.AnswerCall(call=call, device="332"), "331")
    assert (err.name, err.details) == ("notYourDevice", {"device": "332", "yours": ["331"]})
    assert node.execute(c.AnswerCall(call=call, device="332"), "332").ok
    # A call: only its parties may clear it or look at it.
    assert refusal(node, c.ClearCall(call=call), "333").name == "notYourDevice"
    with pytest.raises(Refusal):
        node.query(SnapshotCall(call=call), "333")
    assert node.query(SnapshotCall(call=call), "332")
    # The MULAP user acts as the group and its phones (CALL-14, USER-04).
    assert node.execute(c.MakeCall(calling="340", called="333"), "340").ok
    assert refusal(node, c.MakeCall(calling="337", called="300"), "331").name == "notYourDevice"
    # A monitor reads, an integrator does anything.
    assert node.query(SnapshotDevice(device="330"), "monitor") == []
    assert refusal(node, c.SetDoNotDisturb(device="333", on=True), "monitor").name == (
        "notPermitted"
    )
    assert node.execute(c.SetDoNotDisturb(device="333", on=True), "phone-sim").ok
    # Administration is for administrators.
    assert refusal(node, UpdateAccount(name="331", role=Role.ADMIN), "331").name == "notPermitted"
    assert node.execute(UpdateAccount(name="331", role=Role.ADMIN), "330").ok
    # Licences decide what a user may do (USER-05): 336 has mobility, 340 not.
    assert node.execute(
        SetDialMethod(user="336", dial_method=DialMethod.CALLBACK_PREFERRED), "336"
    ).ok
    unknown = refusal(node, c.SetDoNotDisturb(device="330", on=True), "nobody")
    assert unknown.name == "notPermitted"


def test_the_writers_refusal_names_the_service_the_client_sent() -> None:
    """Defence in depth (specs/security.md, "Passwords"): the API refuses a user's
    setPassword and createAccount before hashing; should the sender's role change in between,
    the node's own check of the internal command refuses it and names setPassword or
    createAccount (what the client sent), not setPasswordHash or createAccountHashed."""
    node = seeded()
    seed = SEEDS.accounts[0]
    hashes = {"password": seed.password or "", "broker_password": seed.broker_password or ""}
    reset = SetPasswordHash(name="332", must_change=True, **hashes)
    create = CreateAccount(
        account=attrs.evolve(seed, name="hack", role=Role.MONITOR, devices=(), licences=frozenset())
    )
    for command, service in ((reset, "setPassword"), (create, "createAccount")):
        refused = refusal(node, command, "331")
        assert (refused.name, refused.message) == (
            "notPermitted",
            f"{service} is for administrators",
        )
        assert node.execute(command, "330").ok


def test_the_last_administrator_stays() -> None:
    node = seeded()
    assert refusal(node, RemoveAccount(name="330"), "330").name == "lastAdministrator"
    assert refusal(node, UpdateAccount(name="330", role=Role.USER), "330").name == (
        "lastAdministrator"
    )
    assert node.execute(UpdateAccount(name="331", role=Role.ADMIN), "330").ok
    assert node.execute(RemoveAccount(name="330"), "331").ok


async def test_passwords_set_by_an_administrator_must_be_changed_first() -> None:
    """USER-01: the initial password works for one thing only: changing it (USER-02: over an
    encrypted connection, with the current password, to one that keeps the policy)."""
    node = seeded()
    engine = Engine(node)
    await engine.start()
    try:

        async def ask(service: str, fields: dict[str, object], by: str | None, **kw: bool):  # type: ignore[no-untyped-def]
            return await api.execute(engine, parse_action(service, fields), by, **kw)

        made = await ask("createAccount", {"name": "334", "password": "Start-2026!"}, "330")
        assert made["ok"], made
        weak = await ask("setPassword", {"name": "334", "password": "weak"}, "330")
        assert weak["error"]["code"] == "passwordPolicy"
        assert weak["error"]["details"]["failed"] == ["length", "upper", "digit", "special"]
        blocked = await ask("makeCall", {"calling": "334", "called": "331"}, "334")
        assert blocked["error"]["code"] == "passwordChangeRequired"
        new = {"oldPassword": "Start-2026!", "newPassword": "Mine-2026?"}
        clear = await ask("changePassword", new, "334", secure=False)
        assert clear["error"]["code"] == "encryptionRequired"
        wrong = {"oldPassword": "Guess-2026!", "newPassword": "Mine-2026?"}
        assert (await ask("changePassword", wrong, "334", secure=True))["error"]["code"] == (
            "wrongPassword"
        )
        assert (await ask("changePassword", new, "334", secure=True))["ok"]
        account = node.state.accounts.account("334")
        assert account is not None and not account.must_change
        assert passwords.verify_password(account.password or "", "Mine-2026?")
        assert (await ask("makeCall", {"calling": "334", "called": "331"}, "334"))["ok"]
        # An administrator's reset makes it one-use again.
        assert (await ask("setPassword", {"name": "334", "password": "Reset-2026!"}, "330"))["ok"]
        assert node.state.accounts.account("334").must_change  # type: ignore[union-attr]
        other = await ask("setPassword", {"name": "331", "password": "Reset-2026!"}, "334")
        assert other["error"]["code"] in ("passwordChangeRequired", "notPermitted")
    finally:
        await engine.stop()


USERS = [u.name for u in CONFIG.users]
DEVICES = ["330", "331", "332", "333", "335", "336", "337", "338", "340", "300", "+491701234567"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(USERS),
    st.sampled_from(DEVICES),
    st.sampled_from(["330", "331", "332", "340", "+4930123456"]),
    st.sampled_from(["make", "dnd", "snapshot", "forward"]),
)
def test_authorization_matrix(user: str, device: str, target: str, what: str) -> None:
    """Whatever a signed-in account sends about any device: a user's request about a device
    that is not theirs is refused as notYourDevice and changes nothing; a monitor changes
    nothing; what is accepted is theirs or comes from an integrator or administrator."""
    node = seeded()
    account = node.state.accounts.account(user)
    assert account is not None
    own = controlled(CONFIG.site, account)
    before = node.state
    if what == "snapshot":
        try:
            node.query(SnapshotDevice(device=device), user)
            allowed = True
        except Refusal as err:
            allowed = False
            if err.name == "notYourDevice":
                assert device not in own
    else:
        command: c.Command = {
            "make": c.MakeCall(calling=device, called=target),
            "dnd": c.SetDoNotDisturb(device=device, on=True),
            "forward": c.SetForwarding(
                device=device,
                forwarding_type=c.ForwardingType.IMMEDIATE,
                on=True,
                destination=target,
            ),
        }[what]
        outcome = node.execute(command, user)
        allowed = outcome.ok
        if isinstance(outcome, Refused):
            assert node.state is before
    if account.role is Role.MONITOR:
        assert allowed == (what == "snapshot")
    elif account.role is Role.USER and allowed:
        assert device in own
    if account.role is Role.USER and device not in own:
        assert not allowed


@pytest.mark.parametrize("name", ["331\n", "integrator\n", "a\nb"])
async def test_an_account_name_with_a_line_break_is_refused(name: str) -> None:
    """USER-01: a name is one line of topic-safe characters. "331\\n" would be a second
    account whose block in the broker's ACL file reads ``user 331``: the ordinary user 331
    would get its rights from the broker while the node shows it as a user."""
    node = seeded()
    engine = Engine(node)
    await engine.start()
    try:
        fields = {"name": name, "password": "Start-2026!x", "role": "integrator"}
        made = await api.execute(engine, parse_action("createAccount", fields), "330")
        assert made["error"]["code"] == "invalidAccountName", made
        assert set(node.state.accounts.accounts.keys()) == set(seeded().state.accounts.accounts)
    finally:
        await engine.stop()
