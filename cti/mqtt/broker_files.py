"""The broker's password and ACL files, kept in step with the node's accounts.

Written at start-up (before the embedded broker starts) and again by :class:`BrokerAccess`, a
follower of the log, whenever an account changes: a change is in force once it is durable.
The embedded broker is then reloaded (SIGHUP); an operator's own broker is told to in the log
(specs/security.md), at start too. A file is rewritten only when its text changes, and the
node's own account (a secret kept in the data directory) keeps the hash the file holds while
the secret verifies against it, so a start that changes nothing writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import attrs
import structlog

from cti.accounts.model import Account
from cti.accounts.services import NAME
from cti.app.follower import FollowerHealth, supervised
from cti.app.node import Node
from cti.mqtt import access
from cti.mqtt.files import replace_file
from cti.mqtt.passwords import kept_or_new_hash
from cti.site import Site

log = structlog.get_logger(__name__)

BROKER_READS = 0o640  # the files the broker reads: its user reads them through their group


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


def stored_hash(path: Path, user: str) -> str | None:
    """``user``'s hash in the password file at ``path`` (None: no file, unreadable, no line)."""
    try:
        text = path.read_text()
    except (OSError, ValueError):  # ValueError: not UTF-8, so not a file of ours
        return None
    for line in text.splitlines():
        name, colon, stored = line.partition(":")
        if colon and name == user:
            return stored
    return None


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` atomically, mode ``mode``, keeping its owner and group (cti.mqtt.files)."""
    replace_file(path, text, mode)


def _replace_if_changed(path: Path, text: str) -> bool:
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass
    # Readable by the group (kept on a rewrite): an operator's broker may run as another user.
    write_private(path, text, BROKER_READS)
    return True


NAMES = ("passwords", "acl.plain", "acl.tls")
NODES = "nodes"  # a shared directory's per-node files: nodes/{node}/passwords, ...
COMBINED = "# Combined by cti from nodes/*/ of this directory; edits are overwritten.\n"


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Nodes sharing the directory combine one at a time (an advisory lock on ``.lock``)."""
    fd = os.open(directory / ".lock", os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # and the lock with it


def _valid(accounts: Iterable[Account]) -> list[Account]:
    """The accounts whose names the broker's files can hold. A log written before names were
    checked whole may keep one ending in a line break: its lines would give its rights to
    another user name (or break the password file), so it is left out, and said."""
    kept = []
    for account in accounts:
        if NAME.fullmatch(account.name):
            kept.append(account)
        else:
            log.warning("broker_files.account_left_out", account=account.name, why="invalid name")
    return kept


def combine(directory: Path) -> bool:
    """Write the broker's files of a shared ``directory`` from every node's files under
    ``nodes/``, in node order; True if any changed. Call it holding the lock."""
    nodes = sorted(p for p in (directory / NODES).iterdir() if p.is_dir())
    changed = False
    for name in NAMES:
        parts: list[tuple[str, str]] = []
        for node in nodes:
            with contextlib.suppress(FileNotFoundError):
                parts.append((node.name, (node / name).read_text()))
        if name == "passwords":  # no comments: every Mosquitto reads it as user:hash lines
            text = "".join(t for _, t in parts)
        else:
            text = COMBINED + "".join(f"\n# node {n}\n{t}" for n, t in parts)
        changed |= _replace_if_changed(directory / name, text)
    return changed


@attrs.define
class BrokerFiles:
    """``passwords``, ``acl.plain`` and ``acl.tls`` in ``directory``: what the broker reads.

    ``shared``: several nodes use the directory (one broker for many sites): each writes its
    own files into ``nodes/{node}/``, its accounts signing in as ``{name}@{node}``, then
    combines every node's files into the broker's, under a lock (specs/security.md).
    """

    directory: Path
    site: Site
    node_password: str = attrs.field(repr=False)
    shared: bool = False
    _node_hash: str = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Salted anew only if the file's line does not verify (a new secret, a first start).
        stored = stored_hash(self.own_directory / "passwords", self.node_user)
        self._node_hash = kept_or_new_hash(self.node_password, stored)

    @property
    def passwords(self) -> Path:
        return self.directory / "passwords"

    def acl(self, *, tls: bool) -> Path:
        return self.directory / ("acl.tls" if tls else "acl.plain")

    @property
    def own_directory(self) -> Path:
        """Where this node's files go: the directory itself, or ``nodes/{node}/`` if shared."""
        return self.directory / NODES / self.site.node if self.shared else self.directory

    @property
    def node_user(self) -> str:
        return access.node_user(self.site.node)

    def texts(self, accounts: Iterable[Account]) -> dict[Path, str]:
        accounts, node, own = _valid(accounts), self.site.node, self.own_directory
        shared = self.shared
        return {
            own / "passwords": access.password_file(accounts, node, self._node_hash, shared=shared),
            own / "acl.plain": access.acl_file(self.site, accounts, tls=False, shared=shared),
            own / "acl.tls": access.acl_file(self.site, accounts, tls=True, shared=shared),
        }

    def write(self, accounts: Iterable[Account]) -> bool:
        """Write what differs; True if anything the broker reads did. ValueError if the
        directory is shared and this node is not told so, or the other way round."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._check_layout()
        if not self.shared:
            return self._write_own(accounts)
        with _locked(self.directory):
            self._write_own(accounts)
            return combine(self.directory)

    def _write_own(self, accounts: Iterable[Account]) -> bool:
        self.own_directory.mkdir(parents=True, exist_ok=True)
        changed = False
        for path, text in self.texts(accounts).items():
            changed |= _replace_if_changed(path, text)
        return changed

    def _check_layout(self) -> None:
        # Two nodes overwriting each other's files would lock one site out of the broker.
        if not self.shared and (self.directory / NODES).is_dir():
            raise ValueError(
                f"{self.directory} is shared by several nodes ({NODES}/ in it): "
                "start this node with --shared-broker too"
            )
        acl = self.acl(tls=False)
        if self.shared and acl.exists() and not acl.read_text().startswith(COMBINED):
            raise ValueError(
                f"{acl} belongs to one node alone (written without --shared-broker): "
                "use another directory, or start that node with --shared-broker too"
            )


def ask_reload(files: BrokerFiles) -> None:
    """Tell the operator their broker reads the changed files only once reloaded."""
    log.warning(
        "broker.files_changed",
        directory=str(files.directory),
        action=(
            "reload your broker (SIGHUP): until then it checks the previous accounts and grants"
        ),
    )


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
            ask_reload(self.files)
        return True
