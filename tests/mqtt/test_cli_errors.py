"""`cti request`, `cti users` and `phone-sim` against a broker that refuses: one line saying
what was refused, at once (tests/test_cli_errors.py has the cases that need no broker)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.app.config import EXAMPLE_SITE
from cti.mqtt.broker import free_port
from cti.mqtt.client import MqttClient
from cti.mqtt.client import protocol as p
from cti.store.sqlite import SqliteStore
from tests.mqtt.conftest import REPO, Mosquitto, Nats, retain_online, site_with_tester


async def cti(*argv: str, password: str = "x", module: str = "cti.cli") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *argv,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "CTI_PASSWORD": password},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:  # timed out or cancelled: no child left running
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_request_to_another_node_is_refused_in_one_line(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """The broker's ACL opens node1's request topics only: a publish to another node's is
    refused (MQTT 5 PUBACK 0x87), which ends the connection. The tool says so at once (not
    "no reply within 10 s") and names the topic; the node comes from --node or --site."""
    acl = tmp_path / "acl"
    acl.write_text("user 330\ntopic readwrite cti/node1/#\n")
    mosquitto.stop()
    mosquitto.configure(extra=f"acl_file {acl}\n")
    await mosquitto.start()
    url = ["--mqtt-url", mosquitto.url, "--user", "330"]
    code, out, err = await cti("request", *url, "--node", "branch", "snapshotDevice")
    assert (code, out) == (1, ""), err
    assert err == (
        "cti request: the broker refused the request to "
        "cti/branch/users/330/requests/snapshotDevice: is node branch right?\n"
    )
    site = tmp_path / "branch.toml"
    example = (REPO / "cti" / "sites" / EXAMPLE_SITE).read_text("utf-8")
    assert 'node = "node1"' in example
    site.write_text(example.replace('node = "node1"', 'node = "branch"'), "utf-8")
    code, _, err = await cti("request", *url, "--site", str(site), "snapshotDevice")
    assert code == 1 and "is node branch right?" in err, err


async def test_a_refused_sign_in_is_said_in_words(mosquitto: Mosquitto) -> None:
    mosquitto.stop()
    mosquitto.configure(allow_anonymous=False)  # no password file: nobody signs in
    await mosquitto.start()
    code, _, err = await cti(
        "request", "--mqtt-url", mosquitto.url, "--user", "330", "snapshotDevice"
    )
    assert code == 3
    assert err.startswith("cti request: the broker refused 330: broker refused the connection")
    assert err.count("\n") == 1 and "wrong user name or password?" in err, err


async def test_cti_users_whose_request_the_broker_refuses_exits_as_cti_request(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """A running node "branch" (its log held) asked on a broker whose ACL opens node1's
    topics only: the broker refuses the request's publish. `cti users` says it as `cti
    request` does, exit 1 like it (it said "node branch runs, but not reachable", exit 2)."""
    acl = tmp_path / "acl"
    acl.write_text("user 330\ntopic readwrite cti/node1/#\n")
    mosquitto.stop()
    mosquitto.configure(extra=f"acl_file {acl}\n")
    await mosquitto.start()
    site = tmp_path / "branch.toml"
    example = (REPO / "cti" / "sites" / EXAMPLE_SITE).read_text("utf-8")
    site.write_text(example.replace('node = "node1"', 'node = "branch"'), "utf-8")
    data = tmp_path / "data"
    data.mkdir()
    url = ["--mqtt-url", mosquitto.url, "--user", "330"]
    store = SqliteStore(data / "branch.db")  # the node "runs": it holds its log
    try:
        code, out, err = await cti(
            *("users", "--site", str(site), "--data-dir", str(data), *url, "list")
        )
    finally:
        store.close()
    assert (code, out) == (1, ""), err
    assert err == (  # one line: no warning of the MQTT client before it
        "cti users: the broker refused the request to "
        "cti/branch/users/330/requests/listAccounts: is node branch right?\n"
    )
    code, _, err = await cti("request", *url, "--site", str(site), "listAccounts")
    assert code == 1 and "is node branch right?" in err, err


async def test_serve_names_the_broker_files_it_cannot_write(tmp_path: Path) -> None:
    """--broker-files where no directory can be: which option's directory, one line, exit 1
    (not a bare "[Errno 20] Not a directory: PATH")."""
    (tmp_path / "etc").write_text("a file\n")
    files = tmp_path / "etc" / "mosquitto"
    code, _, err = await cti(
        *("serve", "--site", str(site_with_tester(tmp_path)), "--data-dir", str(tmp_path / "d")),
        *("--mqtt-url", f"mqtt://127.0.0.1:{free_port()}", "--broker-files", str(files)),
        *("--csta-port", "0", "--http-port", "0", "--web-port", "0"),
    )
    assert code == 1
    assert err == f"cti serve: cannot write the broker files in {files}: Not a directory\n"


async def test_phone_sim_on_another_node_is_told_so(mosquitto: Mosquitto) -> None:
    """phone-sim's first request to a node whose topics the broker does not open to it is
    refused (the connection ends): not "cannot reach the node's broker" but the node named,
    exit 1 as `cti request` for a refused request (it was 2, a usage error's). A retained
    status of node "branch" lets it start at once; --node after the subcommand."""
    acl = mosquitto.conf.parent / "acl"
    acl.write_text(
        "topic write cti/branch/status\n"  # anonymous: the status below
        "user phone-sim\ntopic readwrite cti/node1/#\ntopic read cti/branch/status\n"
    )
    mosquitto.stop()
    mosquitto.configure(extra=f"acl_file {acl}\n")
    await mosquitto.start()
    status = MqttClient(mosquitto.host, mosquitto.port, "status")
    await status.connect()
    await retain_online(status, "branch")
    await status.disconnect()
    scenario = str(REPO / "phone_sim" / "scenarios" / "call-07-transfer.yaml")
    code, _, err = await cti(
        *("--mqtt-url", mosquitto.url, "run", scenario, "--node", "branch"),
        module="phone_sim.cli",
    )
    assert code == 1, err
    last = err.splitlines()[-1]
    assert last.startswith(
        "phone-sim: the broker refused a request to node branch: is --node branch right?"
    ), last


@pytest.fixture
async def nats_deaf_330(tmp_path: Path) -> AsyncIterator[Nats]:
    """A real broker whose permissions let account 330 sign in and publish, but not
    subscribe to its inboxes on node1 (where replies come): nats-server's SUBACK refuses that
    filter (0x80). Mosquitto cannot be made to: it grants a subscription its ACL does not
    let be read, and delivers nothing."""
    server = Nats(tmp_path)
    deny = '{subscribe: {deny: ["cti.node1.users.330.inbox.>"]}}'
    server.conf.write_text(
        server.conf.read_text()
        + f'authorization {{ users: [ {{user: "330", password: "Right-2026!", '
        f"permissions: {deny}}} ] }}\n"
    )
    await server.start()
    yield server
    server.stop()


async def test_a_refused_subscription_to_the_reply_is_said_so(nats_deaf_330: Nats) -> None:
    """The broker takes the connection but refuses the subscription to the reply topic: the
    tool says so at once, naming the topic, exit 1 as a refused request (it waited the whole
    10 s and said "no reply: is node node1 running?"; and, the refusal being a
    ConnectionError, was near to saying "no broker")."""
    url = nats_deaf_330.url
    code, out, err = await cti(
        "request",
        "--mqtt-url",
        url,
        "--user",
        "330",
        "snapshotDevice",
        "device=330",
        password="Right-2026!",
    )
    assert (code, out) == (1, ""), err
    assert re.fullmatch(
        "cti request: the broker refused the subscription to the reply topic "
        r"cti/node1/users/330/inbox/cti-request-[0-9a-f]{8}: is node node1 right\?\n",
        err,
    ), err


async def test_cti_users_on_a_running_node_says_the_subscription_was_refused(
    nats_deaf_330: Nats, tmp_path: Path
) -> None:
    """`cti users` asks a running node (one holds its log) through `cti request`'s code: the
    same line, not "node node1 runs, but not reachable" after the timeout, and the same exit
    code, 1 (it was 2, a usage error's)."""
    data = tmp_path / "data"
    data.mkdir()
    store = SqliteStore(data / "node1.db")  # the node "runs": it holds its log
    try:
        code, _, err = await cti(
            *("users", "--data-dir", str(data), "--mqtt-url", nats_deaf_330.url),
            *("--user", "330", "list"),
            password="Right-2026!",
        )
    finally:
        store.close()
    assert code == 1, err
    assert re.fullmatch(
        "cti users: the broker refused the subscription to the reply topic "
        r"cti/node1/users/330/inbox/cti-request-[0-9a-f]{8}: is node node1 right\?\n",
        err,
    ), err


async def test_phone_sim_says_the_subscription_was_refused(nats_deaf_330: Nats) -> None:
    """phone-sim's link subscribes at the start; a refusal is said as one (not "cannot reach
    the node's broker", nor ignored until requests time out), exit 1 as `cti request` for a
    refused subscription (it was 2, a usage error's): the account may not read that node's
    topics. The broker and the account given after the subcommand."""
    url = nats_deaf_330.url
    code, _, err = await cti(
        *("console", "330", "--mqtt-url", url, "--user", "330"),
        password="Right-2026!",
        module="phone_sim.cli",
    )
    assert code == 1, err
    assert re.fullmatch(
        f"phone-sim: the broker at {re.escape(url)} refused the subscription to "
        r"cti/node1/users/330/inbox/phone-sim-console-330-[0-9a-f]{8}: is --node node1 right\?\n",
        err,
    ), err


async def test_a_refused_subscription_sends_the_request_to_the_next_member(
    nats_deaf_330: Nats, mosquitto: Mosquitto
) -> None:
    """``--mqtt-url A,B``: member A takes the connection but refuses the reply topic's
    subscription (a NATS member does so while it elects its JetStream leaders); nothing was
    published there, so the tool tries B, which takes both, and the request is answered
    there once (it said "refused" after A alone). The node is stood in for on B."""
    asked: list[str] = []

    def answer(message: p.Message) -> None:
        asked.append(message.topic)
        reply_to = message.properties[p.RESPONSE_TOPIC]
        assert isinstance(reply_to, str)
        node.publish(reply_to, b'{"ok":true,"result":{"answered":"B"}}')

    node = MqttClient(mosquitto.host, mosquitto.port, "node", on_message=answer)
    await node.connect()
    try:
        await node.subscribe([("cti/node1/users/+/requests/#", 1)], required=True)
        url = f"{nats_deaf_330.url},{mosquitto.url}"
        code, out, err = await cti(
            *("request", "--mqtt-url", url, "--user", "330", "snapshotDevice", "device=330"),
            password="Right-2026!",
        )
    finally:
        await node.disconnect()
    assert code == 0, err
    assert json.loads(out)["result"] == {"answered": "B"}
    assert asked == ["cti/node1/users/330/requests/snapshotDevice"]


async def test_a_refused_subscription_is_said_even_if_the_next_member_is_down(
    nats_deaf_330: Nats,
) -> None:
    """Member A refuses the reply topic's subscription, member B cannot be reached: the tool
    says A's refusal (the broker answered: "no broker" after B would hide it)."""
    url = f"{nats_deaf_330.url},mqtt://127.0.0.1:{free_port()}"
    code, out, err = await cti(
        *("request", "--mqtt-url", url, "--user", "330", "snapshotDevice", "device=330"),
        password="Right-2026!",
    )
    assert (code, out) == (1, ""), err
    assert err.startswith("cti request: the broker refused the subscription to the reply topic "), (
        err
    )
