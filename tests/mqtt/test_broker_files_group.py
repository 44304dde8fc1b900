"""The files an operator's own Mosquitto reads keep the group it reads them through
(specs/security.md, "Your own broker", steps 2 and 3): the operator gives them the broker's
group once (`chgrp -R mosquitto DIR`); every rewrite by the node or by `cti broker-config`
(a new file renamed over the old) keeps that group and writes the documented mode (0640 for
what the broker reads, the TLS key included; 0644 for `cti.conf` and the certificates). Real
files; the group changes need root or a second group of the tests' user; the last test runs
a real Mosquitto that drops to its own user, as a packaged one does."""

from __future__ import annotations

import asyncio
import contextlib
import grp
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
import structlog

from cti.app.bootstrap import ServeOptions, start
from cti.cli import main
from cti.mqtt import certs
from cti.mqtt.broker import free_port, mosquitto_binary, wait_listening
from cti.mqtt.broker_files import BrokerFiles
from cti.mqtt.files import replace_file
from tests.mqtt.conftest import TIMEOUT, CtiClient
from tests.mqtt.test_shared_broker_files import OFFICE, site_and_accounts
from tests.waiting import until

BROKER_READS = ("passwords", "acl.plain", "acl.tls")
ANNA = "Anna-2026!"  # 330 of the example office, an administrator
BERND = "Bernd-2026!"  # 331


def another_group() -> int:
    """A group the files can be given that is not the one a new file of ours gets."""
    mine = os.getegid()
    if os.geteuid() == 0:
        for name in ("mosquitto", "daemon", "nogroup"):
            try:
                return grp.getgrnam(name).gr_gid
            except KeyError:
                continue
    for gid in os.getgroups():
        if gid != mine:
            return gid
    # A missing part fails, never skips (CI runs as root: .ci/run).
    pytest.fail("needs root or a second group to give the files: run the tests as root")


def mode_and_group(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mode & 0o7777, st.st_gid


def chgrp_r(directory: Path, gid: int) -> None:
    """`chgrp -R GROUP DIR`, as specs/security.md's step 2 has the operator run it."""
    subprocess.run(["chgrp", "-R", str(gid), str(directory)], check=True)


def test_an_account_change_keeps_the_group_and_writes_0640(tmp_path: Path) -> None:
    site, accounts = site_and_accounts(OFFICE)
    files = BrokerFiles(tmp_path, site, "node-secret")
    assert files.write(accounts)
    group = another_group()
    chgrp_r(tmp_path, group)
    for name in BROKER_READS:
        os.chmod(tmp_path / name, 0o644)  # whatever it was, the node writes the documented mode
    before = {name: (tmp_path / name).stat().st_ino for name in BROKER_READS}

    fewer = tuple(a for a in accounts if a.name != "331")
    assert files.write(fewer)  # 331 removed: every file changes
    for name in BROKER_READS:
        assert (tmp_path / name).stat().st_ino != before[name]  # a new file, renamed over
        assert mode_and_group(tmp_path / name) == (0o640, group), name
    assert not list(tmp_path.glob("*.tmp"))


def test_a_write_that_changes_nothing_keeps_everything(tmp_path: Path) -> None:
    site, accounts = site_and_accounts(OFFICE)
    assert BrokerFiles(tmp_path, site, "node-secret").write(accounts)
    group = another_group()
    chgrp_r(tmp_path, group)
    (tmp_path / "acl.tls").chmod(0o600)  # an operator's stricter choice, for a file not rewritten
    before = {n: (tmp_path / n).stat() for n in BROKER_READS}

    assert not BrokerFiles(tmp_path, site, "node-secret").write(accounts)
    for name in BROKER_READS:
        now = (tmp_path / name).stat()
        was = before[name]
        assert (now.st_ino, now.st_mtime_ns, now.st_mode, now.st_uid, now.st_gid) == (
            was.st_ino,
            was.st_mtime_ns,
            was.st_mode,
            was.st_uid,
            was.st_gid,
        ), name


def test_a_shared_directorys_combined_files_keep_their_group(tmp_path: Path) -> None:
    site, accounts = site_and_accounts(OFFICE)
    files = BrokerFiles(tmp_path, site, "node-secret", shared=True)
    assert files.write(accounts)
    group = another_group()
    chgrp_r(tmp_path, group)
    assert files.write(tuple(a for a in accounts if a.name != "331"))
    for name in BROKER_READS:
        assert mode_and_group(tmp_path / name) == (0o640, group), name


def test_the_tls_key_is_0640_and_a_remade_certificate_keeps_the_group(tmp_path: Path) -> None:
    """The broker (as its own user) must read the key: group-readable, never the world's."""
    made = certs.ensure(tmp_path / "tls", "node1")
    assert mode_and_group(made.key)[0] == 0o640
    assert mode_and_group(made.cert)[0] == mode_and_group(made.ca)[0] == 0o644
    group = another_group()
    chgrp_r(tmp_path, group)
    old_key = made.key.read_bytes()
    made.ca.unlink()  # a file lost: all three are made anew, over the two left

    again = certs.ensure(tmp_path / "tls", "node1")
    assert again.key.read_bytes() != old_key
    assert mode_and_group(again.key) == (0o640, group)
    assert mode_and_group(again.cert) == (0o644, group)


def test_broker_config_run_again_keeps_the_group_of_what_it_rewrites(tmp_path: Path) -> None:
    out, data = tmp_path / "conf", tmp_path / "data"
    argv = ["broker-config", "--data-dir", str(data), "--out", str(out), "--tls-port", "8883"]
    assert main(argv) == 0
    group = another_group()
    chgrp_r(out, group)
    assert main([*argv, "--port", "1884"]) == 0  # cti.conf changes
    assert "listener 1884" in (out / "cti.conf").read_text()
    assert mode_and_group(out / "cti.conf") == (0o644, group)
    assert mode_and_group(out / "tls" / "server.key") == (0o640, group)


def replaced_as_nobody(path: Path, extra_groups: list[int]) -> list[dict[str, object]]:
    """``replace_file`` in a forked child running as user nobody (not root); its log."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never back into pytest
        code = 1
        try:
            os.setgroups(extra_groups)
            os.setgid(grp.getgrnam("nogroup").gr_gid)
            os.setuid(pwd.getpwnam("nobody").pw_uid)
            with structlog.testing.capture_logs() as logs:
                replace_file(path, "new\n", 0o640)
            os.write(write, json.dumps(logs).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        out = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    logs: list[dict[str, object]] = json.loads(out)
    return logs


@pytest.mark.parametrize("member", [True, False])
def test_a_node_not_root_keeps_the_group_if_a_member_else_says_what_to_do(
    member: bool,
) -> None:
    """A node running as its own user (not root) cannot keep the file's owner; it keeps the
    group if it is a member of it, and otherwise warns, naming the file and the fix."""
    assert os.geteuid() == 0, "runs a writer as another user: run the tests as root (as CI)"
    group = grp.getgrnam("daemon")
    with world_traversable_directory() as directory:
        directory.chmod(0o777)  # the writer may create and rename files in it
        path = directory / "passwords"
        path.write_text("old\n")
        os.chown(path, 0, group.gr_gid)
        logs = replaced_as_nobody(path, [group.gr_gid] if member else [])
        st = path.stat()
        assert path.read_text() == "new\n"
        assert st.st_uid == pwd.getpwnam("nobody").pw_uid and st.st_mode & 0o777 == 0o640
        if member:
            assert st.st_gid == group.gr_gid
            assert logs == []
        else:
            [warning] = logs
            assert warning["event"] == "broker.file_group_changed"
            assert (warning["file"], warning["was"]) == (str(path), "daemon")
            action = str(warning["action"])
            assert f"chgrp -R daemon {directory}" in action and "usermod -aG daemon" in action


@contextlib.contextmanager
def world_traversable_directory() -> Iterator[Path]:
    """A temporary directory other users can reach (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="cti-broker-perms-"))
    try:
        path.chmod(0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def mosquitto_user() -> str:
    # A missing part fails, never skips: .ci/run runs as root and installs mosquitto (whose
    # Debian package makes the user).
    if os.geteuid() != 0:
        pytest.fail("Mosquitto drops to its own user only when started as root: run as root")
    try:
        return pwd.getpwnam("mosquitto").pw_name
    except KeyError:
        pytest.fail("no user mosquitto: install Debian's mosquitto package (make deps)")


@pytest.fixture
def out_dir() -> Iterator[Path]:
    with world_traversable_directory() as directory:
        yield directory


async def test_a_packaged_mosquitto_reads_the_files_after_the_nodes_rewrite(
    out_dir: Path, tmp_path: Path
) -> None:
    """The operator's steps as documented: broker-config, `chgrp -R mosquitto DIR`, a
    Mosquitto that drops to user mosquitto (it reads the TLS key and, at each reload, the
    password and ACL files as that user), the node keeping the files; an account created,
    the broker reloaded: the new account and the others sign in."""
    user = mosquitto_user()
    binary = mosquitto_binary()
    assert binary is not None, "mosquitto is not installed (see README)"
    out, data = out_dir / "conf", tmp_path / "data"
    port, tls_port = free_port(), free_port()
    argv = ["broker-config", "--data-dir", str(data), "--out", str(out), "--host", "127.0.0.1"]
    assert main([*argv, "--port", str(port), "--tls-port", str(tls_port)]) == 0
    subprocess.run(["chgrp", "-R", "mosquitto", str(out)], check=True)
    conf = out_dir / "mosquitto.conf"  # read again, as user mosquitto, at the reload
    conf.write_text(f"user {user}\npersistence false\ninclude_dir {out}\n")
    log = out_dir / "mosquitto.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen([binary, "-c", str(conf)], stderr=stderr)
    try:
        await started(proc, log, port, tls_port)
        options = ServeOptions(
            data_dir=data,
            broker="external",
            mqtt_url=f"mqtt://127.0.0.1:{port}",
            broker_files=out,
            csta_port=0,
        )
        with structlog.testing.capture_logs() as logs:
            running = await start(options)
            try:
                before = (out / "passwords").read_text()
                async with CtiClient("127.0.0.1", port, user="330", password=ANNA, filters=[]) as a:
                    await a.ok("createAccount", name="334", password="Lager-2026!")
                await until(lambda: (out / "passwords").read_text() != before)
                proc.send_signal(signal.SIGHUP)
                await signs_in(port, "334", "Lager-2026!", log)  # once the reload is done
                await signs_in(port, "331", BERND, log)
            finally:
                await running.stop()
        assert not [e for e in logs if e["event"] == "broker.file_group_changed"]
        assert proc.poll() is None, log.read_text()
        for name in BROKER_READS:
            assert (out / name).stat().st_gid == grp.getgrnam("mosquitto").gr_gid, name
    finally:
        proc.kill()
        proc.wait(TIMEOUT)


async def started(proc: subprocess.Popen[bytes], log: Path, *ports: int) -> None:
    for port in ports:
        try:
            await wait_listening("127.0.0.1", port, timeout=TIMEOUT)
        except TimeoutError:
            pytest.fail(f"mosquitto did not start: {log.read_text()}")
    # Mosquitto opens its sockets before it loads the TLS key, and exits if it cannot.
    await signs_in(ports[0], "331", BERND, log)
    assert proc.poll() is None, log.read_text()


async def signs_in(port: int, user: str, password: str, log: Path) -> None:
    """Connect as ``user``, retried until TIMEOUT (a reload is done when it is done)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        try:
            async with aiomqtt.Client(
                "127.0.0.1", port, username=user, password=password, timeout=TIMEOUT
            ):
                return
        except aiomqtt.MqttError as exc:
            if loop.time() > deadline:
                pytest.fail(f"{user} is refused ({exc}): {log.read_text()}")
            await asyncio.sleep(0.05)
