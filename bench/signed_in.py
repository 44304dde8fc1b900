"""Signed in, ACLs on: the benchmark's broker, node and clients as `cti serve --broker embedded`
runs them (cti/app/bootstrap.py, specs/security.md).

- the embedded mosquitto with the node's password and ACL files (:class:`BrokerFiles`);
- the node signed in as ``cti-{node}`` with its secret;
- the UIs and load generators signed in as an integrator account (or, in section 2b, as the
  phones' users), sending on ``cti/{node}/users/{u}/requests/{service}`` and reading their
  replies in ``cti/{node}/users/{u}/inbox/...``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import resource
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from cti.accounts.commands import AccountSeed, SeedAccounts
from cti.accounts.model import Role
from cti.accounts.passwords import hash_password
from cti.app.node import Node
from cti.mqtt.access import node_user
from cti.mqtt.broker import EmbeddedBroker
from cti.mqtt.broker_files import BrokerFiles, node_secret
from cti.mqtt.client import MqttClient
from cti.mqtt.client import protocol as p
from cti.mqtt.passwords import mosquitto_hash

INTEGRATOR = "integrator"  # the load generators' account (role integrator: every device)
INTEGRATOR_PASSWORD = "Bench-2026!"
USER_PASSWORD = "Phone-2026!"  # every phone user's, see users()


@attrs.frozen
class Login:
    """Who a client signs in as (picklable: it goes to the load processes)."""

    user: str
    password: str = attrs.field(repr=False)

    def client(self, port: int, client_id: str, **options: Any) -> MqttClient:
        return MqttClient(
            "127.0.0.1",
            port,
            client_id,
            username=self.user,
            password=self.password,
            **options,
        )


@functools.cache
def _hashes(password: str) -> tuple[str, str]:
    """(argon2id, mosquitto $7$) of ``password``: what the node and the broker check."""
    return hash_password(password), mosquitto_hash(password)


def integrator() -> AccountSeed:
    password, broker_password = _hashes(INTEGRATOR_PASSWORD)
    return AccountSeed(
        name=INTEGRATOR,
        display_name="Benchmark load",
        role=Role.INTEGRATOR,
        devices=(),
        licences=frozenset(),
        password=password,
        broker_password=broker_password,
        must_change=False,
    )


def users(numbers: Iterable[str]) -> tuple[AccountSeed, ...]:
    """A user account per phone, named by its number (USER-01), all with the same password
    and ONE precomputed hash pair. Hashing each password would take too long: argon2id is
    memory-hard on purpose (~0.15 s a password here, 1,000 users ~2.5 min) and the broker's
    PBKDF2 verifier another ~10 ms each. The broker still verifies every sign-in (PBKDF2,
    20,000 iterations per CONNECT): that cost is in the sign-in time the bench reports."""
    password, broker_password = _hashes(USER_PASSWORD)
    return tuple(
        AccountSeed(
            name=number,
            display_name=f"User {number}",
            role=Role.USER,
            devices=(number,),
            licences=frozenset(),
            password=password,
            broker_password=broker_password,
            must_change=False,
        )
        for number in numbers
    )


def seed(node: Node, accounts: Iterable[AccountSeed]) -> None:
    outcome = node.execute(SeedAccounts(accounts=tuple(accounts)))
    assert outcome.ok, outcome


async def start_broker(directory: Path, node: Node) -> tuple[EmbeddedBroker, Login]:
    """The embedded mosquitto with the password and ACL files of ``node``'s accounts (written
    before it starts, as `cti serve` does); the node's own login."""
    site = node.site
    directory.mkdir(parents=True, exist_ok=True)
    secret = node_secret(directory, site.node)
    files = BrokerFiles(directory / "broker", site, secret)
    files.write(node.state.accounts.accounts.values())
    broker = EmbeddedBroker(None, files=files)
    await broker.start()
    return broker, Login(node_user(site.node), secret)


def integrator_login() -> Login:
    return Login(INTEGRATOR, INTEGRATOR_PASSWORD)


def raise_fd_limit(need: int) -> int:
    """Raise this process's open-file limit (inherited by the broker child) to at least
    ``need`` if the hard limit allows; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class Requester:
    """Requests on the login's own request topics, replies matched by correlation data in
    its inbox (MQTT 5 Response Topic)."""

    def __init__(self, port: int, node: str, login: Login, name: str = "bench") -> None:
        self.node, self.login = node, login
        self.base = f"cti/{node}/users/{login.user}"
        self.inbox = f"{self.base}/inbox/{name}"
        self.client = login.client(port, f"{name}-req", on_message=self._reply)
        self.pending: dict[bytes, asyncio.Future[dict[str, Any]]] = {}
        self.n = 0

    async def start(self) -> None:
        await self.client.connect()
        await self.client.subscribe([(self.inbox, 1)])

    def _reply(self, m: p.Message) -> None:
        key = m.properties.get(p.CORRELATION_DATA, b"")
        fut = self.pending.pop(key, None) if isinstance(key, bytes) else None
        if fut is not None and not fut.done():
            fut.set_result(json.loads(m.payload))

    async def __call__(self, service: str, **fields: object) -> dict[str, Any]:
        """The reply; AssertionError if the request is refused."""
        self.n += 1
        key = str(self.n).encode()
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[key] = fut
        self.client.publish(
            f"{self.base}/requests/{service}",
            json.dumps(fields).encode(),
            props={p.RESPONSE_TOPIC: self.inbox, p.CORRELATION_DATA: key},
        )
        reply = await asyncio.wait_for(fut, 30)
        assert reply.get("ok") is True, f"{service} {fields} refused: {reply}"
        return reply
