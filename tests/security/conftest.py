"""Fixtures of the security tests (specs/security.md) against a real node and a real Mosquitto.

- ``secure_node``: one node per test module, started the way ``cti serve --broker embedded
  --site office.toml`` starts it (cti.app.bootstrap.start, in-process): the example office with
  its demo accounts plus the tests' integrator, the embedded mosquitto running with the
  password file and the two ACL files the node wrote into its data directory, a plain and a
  TLS listener (the certificate the node made at its first start), no CSTA link.
- :func:`sign_in`: what the broker answers a sign-in (CONNACK), :func:`settled`: a positive
  control that everything the broker queued for a client before now has arrived.
- ``broker`` and ``node_face`` (from tests/mqtt): a broker WITHOUT the node's accounts and
  ACLs (anonymous allowed) with a node face on it, for the spoof defence.

Nothing here sleeps for timing: every wait is for a condition, bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import tomllib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import aiomqtt
import attrs
import pytest
import pytest_asyncio

from cti.app.bootstrap import Running, ServeOptions, start
from cti.mqtt.broker import free_port, mosquitto_binary
from tests.mqtt.conftest import (
    BASE,
    REPO,
    TESTER,
    TESTER_PASSWORD,
    TIMEOUT,
    CtiClient,
    broker,
    node_face,
)

__all__ = ["broker", "node_face"]  # the tests/mqtt fixtures test_spoof.py uses

EXAMPLE = REPO / "cti" / "sites" / "example.toml"
# The demo accounts' passwords, as the example office's [[users]] give them, and the tester's.
PASSWORDS: dict[str, str] = {
    u["name"]: u["password"] for u in tomllib.loads(EXAMPLE.read_text())["users"]
} | {TESTER: TESTER_PASSWORD}
REFUSED = {0x86, 0x87}  # CONNACK: bad user name or password / not authorized
# What a lamp document has: no numbers but its own device, nothing about calls (CALL-10).
LAMP_KEYS = {"seq", "ts", "event", "device", "name", "kind", "summary", "dnd"}


def site_file(directory: Path) -> Path:
    """The example office, its demo accounts and the tests' integrator (``tester``)."""
    text = EXAMPLE.read_text()
    head, csta, tail = text.partition("[csta]")
    tester = (
        f'[[users]]\nname = "{TESTER}"\nrole = "integrator"\n'
        f'password = "{TESTER_PASSWORD}"\nmust_change = false\n\n'
    )
    path = directory / "office.toml"
    path.write_text(head + tester + csta + tail)
    return path


@attrs.define
class SecureNode:
    """A running node with its embedded, access-controlled broker."""

    running: Running
    data_dir: Path
    host: str = "127.0.0.1"

    @property
    def port(self) -> int:
        assert self.running.broker is not None
        return self.running.broker.port

    @property
    def tls_port(self) -> int:
        assert self.running.broker is not None and self.running.broker.tls is not None
        return self.running.broker.tls.port

    @property
    def ca(self) -> Path:
        """The CA the node made at its first start: what clients verify the broker with."""
        return self.data_dir / "tls" / "ca.crt"

    @property
    def seq(self) -> int:
        return self.running.node.state.seq

    def client(
        self,
        user: str,
        password: str | None = None,
        *,
        tls: bool = False,
        filters: Iterable[str] = (),
        name: str = "ui",
    ) -> CtiClient:
        """A signed-in client (the account's demo password unless ``password``), on the TLS
        listener verifying the node's CA if ``tls``; it subscribes its inbox and ``filters``."""
        return CtiClient(
            self.host,
            self.tls_port if tls else self.port,
            filters=filters,
            name=name,
            user=user,
            password=PASSWORDS[user] if password is None else password,
            tls=self.ca if tls else None,
        )

    def truth(self, topic: str) -> Any:
        """The retained document the node last published on ``topic``."""
        return json.loads(self.running.mqtt.outbox.retained[topic])


@contextlib.asynccontextmanager
async def running_secure_node(
    directory: Path, edit: Callable[[str], str] | None = None
) -> AsyncIterator[SecureNode]:
    """The example office (its site file ``edit``ed if given) as ``cti serve --broker
    embedded`` runs it, in ``directory``, until the block ends."""
    if mosquitto_binary() is None:  # a missing broker fails the suite, it never skips it
        pytest.fail("mosquitto is not installed: apt-get install -y mosquitto (see README)")
    path = site_file(directory)
    if edit is not None:
        path.write_text(edit(path.read_text()))
    data = directory / "data"
    options = ServeOptions(
        site=path,
        data_dir=data,
        broker="embedded",
        broker_port=free_port(),
        tls_port=free_port(),
        csta_port=0,
    )
    running = await start(options)
    try:
        assert running.broker is not None and running.broker.kind == "mosquitto"
        await asyncio.wait_for(running.mqtt.connected.wait(), TIMEOUT)
        yield SecureNode(running, data)
    finally:
        await running.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def secure_node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SecureNode]:
    async with running_secure_node(tmp_path_factory.mktemp("secure-node")) as node:
        yield node


async def sign_in(
    host: str, port: int, user: str | None, password: str | None, *, ca: Path | None = None
) -> int | None:
    """None if the broker lets ``user`` sign in, else the CONNACK reason code it answers."""
    client = aiomqtt.Client(
        host,
        port,
        identifier=f"sign-in-{uuid.uuid4().hex[:8]}",
        protocol=aiomqtt.ProtocolVersion.V5,
        username=user,
        password=password,
        timeout=TIMEOUT,
        tls_params=None if ca is None else aiomqtt.TLSParameters(ca_certs=str(ca)),
    )
    try:
        async with client:
            return None
    except aiomqtt.MqttCodeError as exc:
        code = exc.rc
        return code if isinstance(code, int) else int(code.value)  # type: ignore[union-attr]


async def handshake_error(host: str, port: int, ca: Path) -> BaseException:
    """The error of a TLS connection that trusts only ``ca``; fails if one is made."""
    client = aiomqtt.Client(
        host,
        port,
        identifier=f"tls-{uuid.uuid4().hex[:8]}",
        username="331",
        password=PASSWORDS["331"],
        timeout=TIMEOUT,
        tls_params=aiomqtt.TLSParameters(ca_certs=str(ca)),
    )
    try:
        async with client:
            pass
    except aiomqtt.MqttError as exc:
        cause = exc.__cause__ or exc.__context__
        assert isinstance(cause, ssl.SSLCertVerificationError), repr(exc)
        return cause
    raise AssertionError("a client that does not trust the node's CA connected")


async def settled(client: CtiClient) -> None:
    """Positive control: a reply to ``client``'s own request has arrived, so everything the
    broker queued for it before (from the node's connection, in order) has arrived too."""
    await client.request("getProfile", name=client.user)


async def lost(client: CtiClient, timeout: float = TIMEOUT) -> BaseException:
    """Wait until the broker has closed ``client``'s connection; the error it ended with."""
    changed = client._changed
    async with changed:
        await asyncio.wait_for(changed.wait_for(lambda: client.lost is not None), timeout)
    assert client.lost is not None
    return client.lost


def topic(*parts: object) -> str:
    return "/".join([BASE, *map(str, parts)])
