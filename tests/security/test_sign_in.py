"""Sign-in (USER-01, USER-02, specs/security.md "Accounts", "The broker"): who the embedded
Mosquitto lets in, with the password file the node writes from its accounts and rewrites (and
reloads) when they change; the first sign-in of an account an administrator made; the
password policy as MQTT clients see it; changePassword only over the verified TLS listener.

One node per module: each test uses accounts no other test here touches."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from cti.mqtt import certs
from tests.mqtt.conftest import TESTER
from tests.security.conftest import (
    PASSWORDS,
    REFUSED,
    SecureNode,
    handshake_error,
    lost,
    settled,
    sign_in,
    topic,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


def refusal(code: str) -> dict[str, Any]:
    """What a refusal looks like, whatever its message says (compared with ==)."""
    return {"ok": False, "error": {"code": code, "message": Anything()}}


class Anything:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    def __repr__(self) -> str:
        return "<a message>"


def ok(reply: dict[str, Any], result: Any = None) -> None:
    assert reply["ok"] is True, reply
    assert reply["result"] == ({} if result is None else result), reply
    assert isinstance(reply["seq"], int), reply


# -- who the broker lets in -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "password"),
    [
        (None, None),  # anonymous
        ("331", "wrong"),
        ("331", PASSWORDS["332"]),  # someone else's password
        ("331", PASSWORDS["331"].lower()),
        ("nobody", PASSWORDS["331"]),  # no such account
        ("cti-node1", "guess"),  # the node's own account, without its secret
        ("334", "Lager-2026!"),  # a device without an account
    ],
)
async def test_anonymous_and_wrong_credentials_are_refused_on_both_listeners(
    secure_node: SecureNode, user: str | None, password: str | None
) -> None:
    n = secure_node
    assert await sign_in(n.host, n.port, user, password) in REFUSED
    assert await sign_in(n.host, n.tls_port, user, password, ca=n.ca) in REFUSED


async def test_every_demo_account_signs_in_with_its_password(secure_node: SecureNode) -> None:
    """The positive control of the refusals above: the same broker lets the right ones in."""
    n = secure_node
    for user in ("330", "331", "340", "phone-sim", "monitor", TESTER):
        assert await sign_in(n.host, n.port, user, PASSWORDS[user]) is None, user
    assert await sign_in(n.host, n.tls_port, "331", PASSWORDS["331"], ca=n.ca) is None


async def test_a_removed_account_is_refused_from_the_change_on(secure_node: SecureNode) -> None:
    """removeAccount: the node rewrites the password and ACL files and reloads the broker;
    the account cannot sign in from the reply on, and the connection it had is closed."""
    n = secure_node
    frank = PASSWORDS["336"]
    async with n.client("336", filters=[topic("devices", 336, "state")]) as connected:
        await connected.wait_for(topic("devices", 336, "state"))
        assert await sign_in(n.host, n.port, "336", frank) is None
        async with n.client("330") as admin:
            ok(await admin.request("removeAccount", name="336"))
        assert await sign_in(n.host, n.port, "336", frank) in REFUSED
        assert await sign_in(n.host, n.tls_port, "336", frank, ca=n.ca) in REFUSED
        await lost(connected)  # the reload ended the session of the removed account
    files = n.data_dir / "broker"
    assert not re.search(r"^336:", (files / "passwords").read_text(), re.M)
    for acl in ("acl.plain", "acl.tls"):
        assert "user 336\n" not in (files / acl).read_text()
        assert "user 335\n" in (files / acl).read_text()  # the others stay


async def test_a_password_changed_over_tls_is_in_force_at_once(secure_node: SecureNode) -> None:
    """changePassword over the TLS listener: the reply is ok, and from then on the broker
    takes the new password and refuses the old one (both listeners); the node's own check
    of the old password (argon2) has changed too."""
    n = secure_node
    old, new = PASSWORDS["333"], "Dieter-2027?"
    async with n.client("333", tls=True) as dieter:
        reply = await dieter.raw_request(
            dieter.topic("changePassword", secure=True),
            json.dumps({"oldPassword": old, "newPassword": new}).encode(),
        )
        ok(reply)
    assert await sign_in(n.host, n.port, "333", new) is None
    assert await sign_in(n.host, n.tls_port, "333", new, ca=n.ca) is None
    assert await sign_in(n.host, n.port, "333", old) in REFUSED
    assert await sign_in(n.host, n.tls_port, "333", old, ca=n.ca) in REFUSED
    async with n.client("333", new, tls=True) as dieter:
        again = await dieter.raw_request(
            dieter.topic("changePassword", secure=True),
            json.dumps({"oldPassword": old, "newPassword": "Dieter-2028?"}).encode(),
        )
        assert again == refusal("wrongPassword")
        ok(await dieter.request("snapshotDevice", device="333"), [])


async def test_a_password_reset_ends_the_live_sessions_of_that_user_only(
    secure_node: SecureNode,
) -> None:
    """UC-LESSONS rule 7: an administrator resets Eva's (335) password while she is signed
    in on both listeners. The broker reloads its password file and closes both sessions (they
    signed in with the old password); Bernd's (331) session stays and is answered."""
    n = secure_node
    async with (
        n.client("335", name="plain") as plain,
        n.client("335", tls=True, name="tls") as secure,
        n.client("331") as bernd,
    ):
        await settled(plain)  # positive control: both sessions work before the reset
        await settled(secure)
        async with n.client("330") as admin:
            ok(await admin.request("setPassword", name="335", password="Eva-Reset1!"))
        await lost(plain)
        await lost(secure)
        assert bernd.lost is None
        await settled(bernd)
    assert await sign_in(n.host, n.port, "335", PASSWORDS["335"]) in REFUSED


async def test_users_cannot_reset_their_own_password_with_set_password(
    secure_node: SecureNode,
) -> None:
    """setPassword is for administrators (specs/security.md): a user naming themselves may
    not use it to replace their password without the old one and in the clear (over the
    plain listener); the old password still signs in."""
    n = secure_node
    async with n.client("331") as bernd:
        reply = await bernd.request("setPassword", name="331", password="Taken-2026!")
        assert reply == refusal("notPermitted")
    assert await sign_in(n.host, n.port, "331", PASSWORDS["331"]) is None
    assert await sign_in(n.host, n.port, "331", "Taken-2026!") in REFUSED


# -- the first sign-in of an account an administrator made ------------------------------------
async def test_first_sign_in_requires_a_password_change_over_verified_tls(
    secure_node: SecureNode, tmp_path: Path
) -> None:
    """USER-01/02: 330 (admin) creates 334 over MQTT. 334 signs in at once, but every request
    but changePassword is refused passwordChangeRequired; changePassword is refused
    encryptionRequired on the plain topic, and the secure topic cannot even be written over
    the plain listener; over TLS (verified with the node's CA; a client that does not trust
    that CA fails the handshake) it is accepted, and from then on 334's requests work and only
    the new password signs in."""
    n = secure_node
    start, mine = "Start-2026!", "Mine-2026?"
    async with n.client("330") as admin:
        ok(await admin.request("createAccount", name="334", password=start, licences=["voicemail"]))
        listed = await admin.request("listAccounts")
        entry = next(a for a in listed["result"] if a["name"] == "334")
        assert entry == {
            "name": "334",
            "displayName": "Lager (analog)",
            "role": "user",
            "devices": ["334"],
            "licences": ["voicemail"],
            "canSignIn": True,
            "mustChange": True,
        }
    assert await sign_in(n.host, n.port, "334", start) is None

    refused_until_changed = [
        ("makeCall", {"calling": "334", "called": "330"}),
        ("snapshotDevice", {"device": "334"}),
        ("setDoNotDisturb", {"device": "334", "on": True}),
        ("getProfile", {"name": "334"}),
        ("setProfile", {"email": "lager@example.com"}),
        ("replay", {"fromSeq": 1}),
        ("setPassword", {"name": "334", "password": "Other-2026!"}),
        ("listAccounts", {}),
    ]
    async with n.client("334", start, filters=[topic("devices", 334, "#")]) as lager:
        for service, fields in refused_until_changed:
            reply = await lager.request(service, **fields)
            assert reply == refusal("passwordChangeRequired"), (service, reply)
        change = {"oldPassword": start, "newPassword": mine}
        assert await lager.request("changePassword", **change) == refusal("encryptionRequired")
        # The plain listener's ACL has no secure topic: the broker drops it, no reply comes.
        corr = uuid.uuid4().bytes
        secure = lager.topic("changePassword", secure=True)
        await lager.publish(secure, json.dumps(change).encode(), response_topic=lager.inbox,
                            correlation=corr)  # fmt: skip
        await settled(lager)
        assert [m for m in lager.messages if m.correlation == corr] == []
    assert await sign_in(n.host, n.port, "334", mine) in REFUSED  # nothing changed

    other_ca = certs.ensure(tmp_path / "other-ca", "elsewhere").ca
    await handshake_error(n.host, n.tls_port, other_ca)

    async with n.client("334", start, tls=True) as lager:
        assert lager.tls == n.ca
        reply = await lager.raw_request(
            lager.topic("changePassword", secure=True), json.dumps(change).encode()
        )
        ok(reply)
    assert await sign_in(n.host, n.port, "334", start) in REFUSED
    async with n.client("334", mine) as lager:
        ok(await lager.request("snapshotDevice", device="334"), [])
        ok(await lager.request("setDoNotDisturb", device="334", on=True))
        ok(await lager.request("setDoNotDisturb", device="334", on=False))
        replay = await lager.request("replay", fromSeq=1)
        assert replay["ok"] is True
        assert [e["event"] for e in replay["result"]["events"]] == ["doNotDisturb"] * 2
    async with n.client("330") as admin:
        listed = await admin.request("listAccounts")
        assert next(a for a in listed["result"] if a["name"] == "334")["mustChange"] is False


# -- the password policy, rule by rule (USER-02) ----------------------------------------------
POLICY = [
    ("Ab1!xyz", ["length"]),  # 7 characters
    ("Ab1!" + "x" * 13, ["length"]),  # 17
    ("ab1!abcd", ["upper"]),
    ("AB1!ABCD", ["lower"]),
    ("Abc!defg", ["digit"]),
    ("Abc1defg", ["special"]),
    ("Abc1de\tf", ["printable"]),  # the tab is special, but not printable
    ("abcdefg", ["length", "upper", "digit", "special"]),  # every failed rule, in order
]


@pytest.mark.parametrize(("password", "failed"), POLICY)
async def test_password_policy_names_exactly_the_failed_rules(
    secure_node: SecureNode, password: str, failed: list[str]
) -> None:
    """createAccount by an administrator: refused passwordPolicy, ``details.failed`` naming
    the rules broken and no others; no account is made."""
    n = secure_node
    async with n.client("330") as admin:
        reply = await admin.request(
            "createAccount", name="policy", role="monitor", password=password
        )
        assert reply == {
            "ok": False,
            "error": {
                "code": "passwordPolicy",
                "message": Anything(),
                "details": {"failed": failed},
            },
        }
        names = [a["name"] for a in (await admin.request("listAccounts"))["result"]]
        assert "policy" not in names


async def test_password_policy_bounds_and_the_owners_change(secure_node: SecureNode) -> None:
    """8 and 16 characters are accepted (the positive control of the table above); the
    owner's changePassword over TLS applies the same policy."""
    n = secure_node
    async with n.client("330") as admin:
        ok(
            await admin.request(
                "createAccount", name="policy-8", role="monitor", password="Ab1!wxyz"
            )
        )
        ok(await admin.request(
            "createAccount", name="policy-16", role="monitor", password="Ab1!" + "x" * 12
        ))  # fmt: skip
    async with n.client("332", tls=True) as clara:
        reply = await clara.raw_request(
            clara.topic("changePassword", secure=True),
            json.dumps({"oldPassword": PASSWORDS["332"], "newPassword": "clara"}).encode(),
        )
        assert reply["error"]["code"] == "passwordPolicy"
        assert reply["error"]["details"] == {"failed": ["length", "upper", "digit", "special"]}
    assert await sign_in(n.host, n.port, "332", PASSWORDS["332"]) is None
