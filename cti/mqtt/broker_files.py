"""The broker's password and ACL files, kept in step with the node's accounts.

Written at start-up (before the embedded broker starts) and again by :class:`BrokerAccess`, a
follower of the log, whenever an account changes: a change is in force once it is durable.
The embedded broker is then reloaded (SIGHUP); an operator's own broker is told to in the log
(specs/security.md). The node's own account has a secret kept in the data directory.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs
import structlog

from cti.accounts.model import Account
from cti.app.follower import FollowerHealth, supervised
from cti.app.node import Node
from cti.mqtt import access
from cti.mqtt.passwords import mosquitto_hash
from cti.site import Site

log = structlog.get_logger(__name__)


def node_secret(data_dir: Path, node: str) -> str:
    """The node's broker password: made at the first start, kept mode 0600 (never logged)."""
    path = data_dir / f"{node}.broker-secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)  # whatever happened to it since, it stays private
        secret = path.read_text().strip()
        if secret:
            return secret
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    secret = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` atomically: a broker reloading meanwhile reads the old or the new."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


@attrs.define
class BrokerFiles:
    """``passwords``, ``acl.plain`` and ``acl.tls`` in ``directory``."""

    directory: Path
    site: Site
    node_password: str = attrs.field(repr=False)
    _node_hash: str = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._node_hash = mosquitto_hash(self.node_password)

    @property
    def passwords(self) -> Path:
        return self.directory / "passwords"

    def acl(self, *, tls: bool) -> Path:
        return self.directory / ("acl.tls" if tls else "acl.plain")

    @property
    def node_user(self) -> str:
        return access.node_user(self.site.node)

    def texts(self, accounts: Iterable[Account]) -> dict[Path, str]:
        accounts = list(accounts)
        return {
            self.passwords: access.password_file(accounts, self.site.node, self._node_hash),
            self.acl(tls=False): access.acl_file(self.site, accounts, tls=False),
            self.acl(tls=True): access.acl_file(self.site, accounts, tls=True),
        }

    def write(self, accounts: Iterable[Account]) -> bool:
        """Write what differs; True if anything did."""
        self.directory.mkdir(parents=True, exist_ok=True)
        changed = False
        for path, text in self.texts(accounts).items():
            try:
                if path.read_text() == text:
                    continue
            except FileNotFoundError:
                pass
            # Readable by the owner's group: an operator's broker may run as another user.
            write_private(path, text, 0o640)
            changed = True
        return changed


class BrokerAccess:
    """Follows the node's accounts into the broker's files; ``reload`` makes the broker
    read them (None: an operator's broker, which the log line asks them to reload)."""

    name = "broker-access"

    def __init__(
        self, node: Node, files: BrokerFiles, reload: Callable[[], None] | None = None
    ) -> None:
        self.node, self.files, self.reload = node, files, reload
        self._task: asyncio.Task[None] | None = None
        self._written = node.state.accounts.accounts
        self.health = FollowerHealth()  # shown on /healthz (cti/ops/health.py)

    def write_now(self) -> None:
        self._written = self.node.state.accounts.accounts
        self.files.write(self._written.values())

    async def start(self) -> None:
        self._task = asyncio.create_task(
            supervised(self.name, self._run, health=self.health), name=self.name
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        seq = self.node.state.seq
        while True:
            self.sync()
            await self.node.feed.wait_beyond(seq)
            seq = self.node.state.seq

    def sync(self) -> bool:
        """Rewrite the files if the accounts changed since; True if the broker must reload."""
        accounts = self.node.state.accounts.accounts
        if accounts is self._written:
            return False
        self._written = accounts
        if not self.files.write(accounts.values()):
            return False
        if self.reload is not None:
            self.reload()
            log.info("broker.reloaded", directory=str(self.files.directory))
        else:
            log.warning(
                "broker.files_changed",
                directory=str(self.files.directory),
                action="reload your broker (SIGHUP) to apply the accounts' change",
            )
        return True
