"""Password requests cannot make the node hash for nothing (USER-01, USER-02; specs/security.md
"Passwords", specs/mqtt.md request limits), over the embedded Mosquitto with the node's ACLs:

- a user's (or a monitor's) setPassword and createAccount are refused ``notPermitted``, naming
  the service the client sent, before any hash is computed: the hashing pool is given no job;
- one password request at a time per account: another while one is in progress is refused
  ``resourceBusy`` at once and changes nothing, while the first (an administrator's) goes on
  and is in force; other accounts are not held up by it, and the hashing threads being busy
  does not hold up another user's directory search (asyncio's default pool).

Work "in progress" is held without timing: the test occupies the hashing pool's threads
itself (jobs that wait for an event it sets), so a password request waits in that pool until
the test lets it go. One node per module."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cti.accounts import passwords
from cti.api.hashing import HASHING
from tests.mqtt.conftest import CtiClient
from tests.security.conftest import PASSWORDS, REFUSED, SecureNode, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="module")


def not_permitted(message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": "notPermitted", "message": message}}


@contextlib.contextmanager
def hashing_held() -> Iterator[None]:
    """Every thread of the hashing pool busy until the block ends: password work submitted
    meanwhile waits in the pool (in progress, not answered)."""
    gate = threading.Event()
    started = [threading.Event() for _ in range(HASHING.workers)]
    jobs = [HASHING.executor().submit(lambda e=e: (e.set(), gate.wait())) for e in started]
    try:
        for e in started:  # each thread holds one job: none is left for anyone else
            assert e.wait(10)
        yield
    finally:
        gate.set()
        for job in jobs:
            job.result(10)


async def sent(
    client: CtiClient, service: str, fields: dict[str, Any], *, secure: bool = False
) -> bytes:
    """Publish a request (the broker has it when this returns); its correlation data."""
    corr = uuid.uuid4().bytes
    payload = json.dumps(fields).encode()
    topic = client.topic(service, secure=secure)
    await client.publish(topic, payload, response_topic=client.inbox, correlation=corr)
    return corr


def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords the node hashes with argon2id from now on (the real hash runs; the
    list only records), whichever thread or pool it runs on."""
    calls: list[str] = []
    real = passwords.hash_password

    def counted(password: str) -> str:
        calls.append(password)
        return real(password)

    monkeypatch.setattr(passwords, "hash_password", counted)
    return calls


@pytest.mark.parametrize("sender", ["331", "monitor"])
async def test_a_non_administrators_password_requests_are_refused_before_any_hashing(
    secure_node: SecureNode, sender: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The black-box finding: 331 asks, 5 times each at once, to set 332's password and to create
    an account. Each is refused notPermitted naming setPassword or createAccount (not the
    node's internal setPasswordHash / createAccountHashed), none resourceBusy (refused
    before the per-account bound), and the hashing pool got no job; 332's password stands.
    A monitor changes nothing either. Positive control: an administrator's request hashes."""
    n = secure_node
    hashed = argon2_calls(monkeypatch)
    before = HASHING.submitted
    monitor = "monitor may read, not change (monitor account)"
    async with n.client(sender) as user:
        replies = await asyncio.gather(
            *(user.request("setPassword", name="332", password="Hack-2026!x") for _ in range(5)),
            *(
                user.request("createAccount", name=f"hack{i}", password="Hack-2026!x")
                for i in range(5)
            ),
        )
    set_message = monitor if sender == "monitor" else "setPassword is for administrators"
    create_message = monitor if sender == "monitor" else "createAccount is for administrators"
    assert replies[:5] == [not_permitted(set_message)] * 5
    assert replies[5:] == [not_permitted(create_message)] * 5
    assert hashed == []  # not one hash
    assert HASHING.submitted == before  # nor any other password work
    assert await sign_in(n.host, n.port, "332", PASSWORDS["332"]) is None
    assert await sign_in(n.host, n.port, "332", "Hack-2026!x") in REFUSED
    async with n.client("330") as admin:
        listed = await admin.ok("listAccounts")
        assert not any(a["name"].startswith("hack") for a in listed["result"])
        # The policy is checked with the hash, after the sender may: an administrator's
        # weak password costs the check (one job), a user's never gets there.
        reply = await admin.request("createAccount", name="weak", role="monitor", password="x")
        assert reply["error"]["code"] == "passwordPolicy", reply
        ok = await admin.request(
            "createAccount", name=f"ok-{sender}", role="monitor", password="Ok-2026!x"
        )
        assert ok["ok"] is True, ok
    assert HASHING.submitted == before + 2
    assert hashed == ["Ok-2026!x"]


async def test_one_password_request_at_a_time_per_account(secure_node: SecureNode) -> None:
    """While 330's setPassword for 336 waits for a hashing thread, 330's second one (another
    password) is answered resourceBusy at once (the hashing threads are still held: it was not
    queued); 331's directory search is answered meanwhile. Once the threads are free the first
    is accepted: 336 signs in with its password, not with the refused one's. A changePassword
    of another account (335) in progress at the same time is not refused: the bound is each
    account's."""
    n = secure_node
    first, second = "Frank-Reset1!", "Frank-Reset2!"
    async with (
        n.client("330") as admin,
        n.client("331") as bernd,
        n.client("335", tls=True) as eva,
    ):
        with hashing_held():
            before = HASHING.submitted
            # Published (and acknowledged by the broker) before the next: the node gets them
            # in this order, through the one broker thread and its one connection.
            accepted = await sent(admin, "setPassword", {"name": "336", "password": first})
            changed = await sent(
                eva,
                "changePassword",
                {"oldPassword": PASSWORDS["335"], "newPassword": "Eva-2027?x"},
                secure=True,
            )
            busy = await admin.request("setPassword", name="336", password=second)
            assert busy == {
                "ok": False,
                "error": {
                    "code": "resourceBusy",
                    "message": "setPassword: 330 has a password request in progress: "
                    "try again once it is answered",
                },
            }
            found = await bernd.request("searchDirectory", user="331", text="Anna")
            assert found["ok"] is True, found
            assert accepted not in admin.replies and changed not in eva.replies  # still waiting
            assert HASHING.submitted == before + 2  # the first and 335's, not the refused one
        reply = (await admin.reply(accepted)).doc
        assert reply["ok"] is True, reply
        assert (await eva.reply(changed)).doc["ok"] is True
    assert await sign_in(n.host, n.port, "336", first) is None
    assert await sign_in(n.host, n.port, "336", second) in REFUSED
    assert await sign_in(n.host, n.port, "336", PASSWORDS["336"]) in REFUSED
    assert await sign_in(n.host, n.port, "335", "Eva-2027?x") is None
