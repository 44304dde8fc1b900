"""The broker's files at `cti serve`'s start (specs/security.md, "Your own broker", steps 3 and
4; USER-01): a start that changes nothing leaves them byte for byte (the node's own password
hash is kept, not salted anew) and says nothing; a start after accounts, grants or the node's
secret changed rewrites them and logs `broker.files_changed` once, so the operator of their
own broker knows when to reload it. Real files and a real broker."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import structlog

from cti.app.bootstrap import ServeOptions, start
from cti.cli import main
from cti.mqtt.access import node_user
from cti.mqtt.broker_files import BrokerFiles, node_secret, stored_hash
from cti.mqtt.passwords import ITERATIONS, kept_or_new_hash, mosquitto_hash, mosquitto_verify
from tests.mqtt.conftest import Mosquitto
from tests.mqtt.test_shared_broker_files import OFFICE, site_and_accounts

NAMES = ("passwords", "acl.plain", "acl.tls")
Snapshot = dict[str, tuple[bytes, int]]


def snapshot(directory: Path) -> Snapshot:
    """Each broker file's bytes and modification time (ns): a rewrite changes the time."""
    return {n: ((directory / n).read_bytes(), (directory / n).stat().st_mtime_ns) for n in NAMES}


async def serve_once(data: Path, out: Path, url: str) -> list[dict[str, Any]]:
    """Start and stop `cti serve --broker-files OUT` against an operator's broker; its log."""
    options = ServeOptions(
        data_dir=data, broker="external", mqtt_url=url, broker_files=out, csta_port=0
    )
    with structlog.testing.capture_logs() as logs:
        running = await start(options)
        await running.stop()
    return logs


async def cti_users(data: Path, *argv: str) -> int:
    """`cti users` on the stopped node, as an operator runs it; the logging it configures
    (warnings and worse) is undone, else the next start's log is not captured."""
    saved = structlog.get_config()
    try:
        return await asyncio.to_thread(main, ["users", "--data-dir", str(data), *argv])
    finally:
        structlog.configure(**saved)


def changed(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "broker.files_changed"]


def no_secrets(logs: list[dict[str, Any]], *secrets: str) -> None:
    text = repr(logs)
    assert "$7$" not in text
    assert not any(secret in text for secret in secrets)


async def test_a_start_that_changes_nothing_leaves_the_files_and_says_nothing(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    data, out = tmp_path / "data", tmp_path / "conf"
    first = await serve_once(data, out, mosquitto.url)
    [new] = changed(first)  # written for the first time: the broker must read them
    assert new["log_level"] == "warning" and new["directory"] == str(out)
    assert "reload your broker" in new["action"]
    before = snapshot(out)

    again = await serve_once(data, out, mosquitto.url)
    assert changed(again) == []
    assert snapshot(out) == before  # not rewritten: same bytes, same modification time
    no_secrets(first + again, node_secret(data, "node1"))


async def test_a_start_after_an_account_or_grant_change_says_so_once(
    tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, out = tmp_path / "data", tmp_path / "conf"
    await serve_once(data, out, mosquitto.url)
    before = snapshot(out)

    # An account added while the node was stopped: its line and its ACL block come.
    monkeypatch.setenv("CTI_NEW_PASSWORD", "Lager-2026!")
    assert await cti_users(data, "add", "334") == 0
    logs = await serve_once(data, out, mosquitto.url)
    assert len(changed(logs)) == 1
    after = snapshot(out)
    assert "\n334:$7$" in after["passwords"][0].decode()
    assert after["acl.plain"][0] != before["acl.plain"][0]
    # The node's own line is kept: only the account's change differs.
    own = f"{node_user('node1')}:"
    assert [x for x in after["passwords"][0].decode().splitlines() if x.startswith(own)] == [
        x for x in before["passwords"][0].decode().splitlines() if x.startswith(own)
    ]

    # Grants the node would not write (an older release's topics, an operator's edit).
    acl = out / "acl.tls"
    acl.write_text(acl.read_text().replace("/secure/", "/insecure/"))
    logs = await serve_once(data, out, mosquitto.url)
    assert len(changed(logs)) == 1
    assert acl.read_bytes() == after["acl.tls"][0]
    no_secrets(logs, node_secret(data, "node1"))


async def test_a_new_node_secret_is_salted_anew_and_said(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    data, out = tmp_path / "data", tmp_path / "conf"
    await serve_once(data, out, mosquitto.url)
    old = node_secret(data, "node1")
    kept = stored_hash(out / "passwords", node_user("node1"))
    (data / "node1.broker-secret").unlink()  # a new machine without the copied secret

    logs = await serve_once(data, out, mosquitto.url)
    assert len(changed(logs)) == 1
    new = node_secret(data, "node1")
    written = stored_hash(out / "passwords", node_user("node1"))
    assert written is not None and written != kept
    assert mosquitto_verify(new, written) and not mosquitto_verify(old, written)
    no_secrets(logs, old, new)


@pytest.mark.parametrize("shared", [False, True])
def test_a_second_broker_files_writes_nothing(tmp_path: Path, shared: bool) -> None:
    """As a restart's: its own hash is the one in the file, so nothing differs."""
    site, accounts = site_and_accounts(OFFICE)
    assert BrokerFiles(tmp_path, site, "node-secret", shared).write(accounts)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    times = {p: p.stat().st_mtime_ns for p in before}
    assert not BrokerFiles(tmp_path, site, "node-secret", shared).write(accounts)
    assert {p: p.read_bytes() for p in before} == before
    assert {p: p.stat().st_mtime_ns for p in before} == times
    # Another secret: the node's line is salted anew, the rest stays.
    other = BrokerFiles(tmp_path, site, "another-secret", shared)
    assert other.write(accounts)
    line = stored_hash(other.own_directory / "passwords", other.node_user)
    assert line is not None and mosquitto_verify("another-secret", line)


def test_only_a_current_hash_of_the_same_password_is_kept() -> None:
    current = mosquitto_hash("node-secret")
    assert kept_or_new_hash("node-secret", current) == current
    for stored in (
        None,
        mosquitto_hash("other-secret"),  # the secret changed
        mosquitto_hash("node-secret", iterations=101),  # mosquitto_passwd's, or an old release's
        "not-a-hash",
    ):
        made = kept_or_new_hash("node-secret", stored)
        assert made != stored and made.startswith(f"$7${ITERATIONS}$")
        assert mosquitto_verify("node-secret", made)


def test_a_stored_hash_is_found_by_its_exact_user(tmp_path: Path) -> None:
    path = tmp_path / "passwords"
    assert stored_hash(path, "cti-node1") is None  # no file yet
    path.write_text("cti-node10:$7$a\ncti-node1:$7$b\n331:$7$c\n")
    assert stored_hash(path, "cti-node1") == "$7$b"
    assert stored_hash(path, "cti-node") is None
    path.write_bytes(b"\xff\xfe")
    assert stored_hash(path, "cti-node1") is None  # not ours: salted anew
