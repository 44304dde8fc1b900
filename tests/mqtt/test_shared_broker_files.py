"""The broker files of several nodes sharing one broker (specs/security.md, "Several nodes on
one broker"; issue 19, item 3): each node's accounts sign in as NAME@NODE, the ACL names only
the node's topics (no patterns, which would hold for every node's accounts), each node writes
nodes/NODE/ and the broker's files are their combination; a node not told the directory is
shared is refused, and the other way round. Real files, no broker (tests/mqtt/test_many_sites.py
runs one)."""

from __future__ import annotations

import argparse
import functools
import re
from pathlib import Path

import attrs
import pytest

from cti.accounts.model import Account, Role
from cti.app.bootstrap import ServeOptions, StartupError, start
from cti.app.config import load_config
from cti.app.config.site_file import site_from_dict
from cti.mqtt.broker_files import COMBINED, BrokerFiles
from cti.mqtt.client import endpoint
from cti.mqtt.signin import account_of, qualified
from cti.site import Site, SiteError
from tests.app.test_codec_and_site import site_dict

REPO = Path(__file__).resolve().parents[2]
OFFICE = REPO / "cti" / "sites" / "example.toml"
BRANCH = REPO / "cti" / "sites" / "branch.toml"


@functools.cache
def site_and_accounts(path: Path) -> tuple[Site, tuple[Account, ...]]:
    """A site and its [[users]] as accounts (hashed once: hashing is slow on purpose)."""
    config = load_config(path)
    accounts = []
    for spec in config.users:
        seed = spec.seed()
        accounts.append(
            Account(
                name=seed.name,
                display_name=seed.display_name,
                role=seed.role,
                devices=seed.devices,
                licences=seed.licences,
                password=seed.password,
                broker_password=seed.broker_password,
                must_change=seed.must_change,
            )
        )
    return config.site, tuple(accounts)


def files(directory: Path, path: Path, *, shared: bool = True) -> BrokerFiles:
    site, _ = site_and_accounts(path)
    return BrokerFiles(directory, site, f"secret-of-{site.node}", shared)


_files: dict[tuple[Path, Path], BrokerFiles] = {}


def write(directory: Path, path: Path, accounts: tuple[Account, ...] | None = None) -> bool:
    """As the node's one BrokerFiles does (its own hash is kept while the file holds it)."""
    key = (directory, path)
    if key not in _files:
        _files[key] = files(directory, path)
    return _files[key].write(accounts or site_and_accounts(path)[1])


def users_of(acl: str) -> dict[str, list[str]]:
    """The ACL's ``user`` blocks: user -> its ``topic`` lines."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in acl.splitlines():
        if line.startswith("user "):
            current = blocks.setdefault(line.removeprefix("user "), [])
        elif line.startswith("topic ") and current is not None:
            current.append(line)
    return blocks


def test_a_shared_nodes_accounts_sign_in_qualified_and_reach_only_its_topics(
    tmp_path: Path,
) -> None:
    assert write(tmp_path, BRANCH)
    own = tmp_path / "nodes" / "branch"
    names = [line.split(":")[0] for line in (own / "passwords").read_text().splitlines()]
    assert names == ["cti-branch", "230@branch", "331@branch", "monitor@branch", "phone-sim@branch"]
    for tls in (False, True):
        acl = (own / ("acl.tls" if tls else "acl.plain")).read_text()
        assert "pattern" not in acl  # a pattern would hold for the other nodes' accounts
        blocks = users_of(acl)
        assert set(blocks) == {"cti-branch", *names[1:]}
        for user, lines in blocks.items():
            assert lines, user
            assert all(line.split()[2].startswith("cti/branch/") for line in lines), user
        karl = blocks["331@branch"]
        assert "topic write cti/branch/users/331/requests/#" in karl
        assert "topic read cti/branch/users/331/inbox/#" in karl
        assert "topic read cti/branch/devices/331/state" in karl
        assert ("topic write cti/branch/users/331/secure/requests/#" in karl) is tls
        assert "topic read cti/branch/events" not in karl  # a user; the integrator reads it
        assert "topic read cti/branch/events" in blocks["phone-sim@branch"]


def test_the_broker_reads_every_nodes_files_combined(tmp_path: Path) -> None:
    assert write(tmp_path, OFFICE)
    assert write(tmp_path, BRANCH)
    passwords = (tmp_path / "passwords").read_text()
    names = [line.split(":")[0] for line in passwords.splitlines()]
    assert "331@node1" in names and "331@branch" in names
    assert "cti-node1" in names and "cti-branch" in names
    assert len(names) == len(set(names))  # one name, one account: qualified per node
    assert passwords == "".join(
        (tmp_path / "nodes" / n / "passwords").read_text() for n in ("branch", "node1")
    )
    for name in ("acl.plain", "acl.tls"):
        acl = (tmp_path / name).read_text()
        assert acl.startswith(COMBINED)
        assert set(users_of(acl)) == set(names)
    assert not write(tmp_path, OFFICE)  # unchanged: nothing to reload


def test_a_nodes_account_change_keeps_the_other_nodes_accounts(tmp_path: Path) -> None:
    _, accounts = site_and_accounts(BRANCH)
    write(tmp_path, OFFICE)
    write(tmp_path, BRANCH)
    office_lines = (tmp_path / "nodes" / "node1" / "passwords").read_text()
    fewer = tuple(a for a in accounts if a.name != "331")
    assert write(tmp_path, BRANCH, fewer)  # the branch removed its 331
    passwords = (tmp_path / "passwords").read_text()
    assert "331@branch:" not in passwords
    assert office_lines in passwords  # the office's 331 and everyone else still sign in
    assert "user 331@branch\n" not in (tmp_path / "acl.plain").read_text()
    # A node taken off the broker: its directory goes, the next write drops its accounts.
    for path in (tmp_path / "nodes" / "branch").iterdir():
        path.unlink()
    (tmp_path / "nodes" / "branch").rmdir()
    assert write(tmp_path, OFFICE)
    assert (tmp_path / "passwords").read_text() == office_lines


def test_a_node_must_know_whether_the_directory_is_shared(tmp_path: Path) -> None:
    _, accounts = site_and_accounts(OFFICE)
    shared, alone = tmp_path / "shared", tmp_path / "alone"
    write(shared, BRANCH)
    with pytest.raises(ValueError, match="start this node with --shared-broker"):
        files(shared, OFFICE, shared=False).write(accounts)
    assert files(alone, OFFICE, shared=False).write(accounts)
    before = {p.name: p.read_text() for p in alone.iterdir()}
    with pytest.raises(ValueError, match="written without --shared-broker"):
        write(alone, BRANCH)
    assert {p.name: p.read_text() for p in alone.iterdir()} == before  # nothing changed


async def test_shared_broker_needs_the_shared_directory(tmp_path: Path) -> None:
    for broker, broker_files in (("external", None), ("embedded", tmp_path / "b")):
        options = ServeOptions(
            data_dir=tmp_path / "data",
            broker=broker,  # type: ignore[arg-type]
            broker_files=broker_files,
            shared_broker=True,
            csta_port=0,
        )
        with pytest.raises(StartupError, match="--shared-broker is for your own broker") as err:
            await start(options)
        assert err.value.configuration  # `cti serve` exits 2: not retried by systemd
    # A shared directory named without --shared-broker: the options' to fix, exit 2 too.
    (broker_files / "nodes").mkdir(parents=True)
    alone = ServeOptions(
        data_dir=tmp_path / "data",
        broker="external",
        broker_files=broker_files,
        mqtt_url="mqtt://127.0.0.1:1",
        csta_port=0,
    )
    with pytest.raises(StartupError, match="start this node with --shared-broker") as err:
        await start(alone)
    assert err.value.configuration


def test_sign_in_names() -> None:
    assert qualified("331", "branch") == "331@branch"
    assert account_of("331@branch") == "331"
    assert account_of("phone-sim") == "phone-sim"


def test_a_user_template_names_each_node() -> None:
    args = argparse.Namespace(
        mqtt_url="mqtt://127.0.0.1:1883", user="phone-sim@{node}", password="x", ca_file=None
    )
    assert endpoint.from_arguments(args, node="branch").username == "phone-sim@branch"
    assert endpoint.from_arguments(args).username == "phone-sim@{node}"


@pytest.mark.parametrize("node", ["a/b", "a+", "#", "331@x", "", "-x", "a b", "n" * 33])
def test_a_node_name_must_fit_topics_and_user_names(node: str) -> None:
    with pytest.raises(SiteError, match=re.escape(f"node {node!r}: letters, digits")):
        site_from_dict(site_dict(node=node))


def test_node_names_that_fit() -> None:
    for node in ("node1", "branch", "Site_2-b", "n" * 32):
        assert site_from_dict(site_dict(node=node)).node == node


@pytest.mark.parametrize("shared", [False, True])
def test_an_account_named_with_a_line_break_gets_no_lines(tmp_path: Path, shared: bool) -> None:
    """A log from before names were checked whole may hold "331\\n" (an integrator): its ACL
    block would read ``user 331`` and give the ordinary user 331 its rights; it is left out."""
    site, accounts = site_and_accounts(OFFICE)
    user = next(a for a in accounts if a.name == "331")
    stray = attrs.evolve(user, name="331\n", role=Role.INTEGRATOR)
    broker = BrokerFiles(tmp_path, site, "secret", shared)
    broker.write((*accounts, stray))
    own = broker.own_directory
    clean = BrokerFiles(tmp_path / "clean", site, "secret", shared)
    clean.write(accounts)
    for name in ("acl.plain", "acl.tls"):
        assert (own / name).read_text() == (clean.own_directory / name).read_text()
    lines = (own / "passwords").read_text().splitlines()
    assert lines[1:] == (clean.own_directory / "passwords").read_text().splitlines()[1:]
