"""Many sites (issue 19, item 3; specs/operations.md "Many sites", specs/security.md "Several
nodes on one broker"): two `cti serve` processes, the example office (node1) and the branch
(cti/sites/branch.toml), on one private PostgreSQL schema and one private Mosquitto that reads
the password and ACL files both nodes keep in one shared directory (`--shared-broker`).

Each node's log and sequence are its own; an account of one site can neither read nor write
the other's topics (the broker enforces it) nor associate with the other node; the two sites'
accounts ``331`` are two accounts (``331@node1``, ``331@branch``); `phone-sim load` drives
both nodes at once and reports per node. Real processes, real TCP; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from cti.app.config import load_config
from cti.cli import main
from cti.csta.client import AssociationRefused, CstaClient
from cti.mqtt.broker import free_port, mosquitto_binary, wait_listening
from cti.store.postgres import PostgresStore
from tests.mqtt.conftest import REPO, TIMEOUT, CtiClient, Server
from tests.security.conftest import REFUSED, sign_in
from tests.waiting import until

OFFICE = REPO / "cti" / "sites" / "example.toml"
BRANCH = REPO / "cti" / "sites" / "branch.toml"
SIM = "PhoneSim-2026!"  # both sites' phone-sim integrator
BERND = "Bernd-2026!"  # the office's 331
KARL = "Karl-2026!"  # the branch's 331


@attrs.define
class Sites:
    """Both nodes running against one broker (``port``) and one PostgreSQL schema (``dsn``)."""

    port: int
    dsn: str
    shared: Path  # the broker files' directory both nodes keep
    broker: subprocess.Popen[bytes]
    office: Server
    branch: Server
    csta: dict[str, int]  # node -> its CSTA port

    def client(
        self, user: str, password: str, node: str, name: str, filters: tuple[str, ...] = ()
    ) -> CtiClient:
        """Signed in as ``user`` for ``node``'s topics; subscribed to its status and
        ``filters``."""
        return CtiClient(
            "127.0.0.1",
            self.port,
            user=user,
            password=password,
            node=node,
            filters=[f"cti/{node}/status", *filters],
            name=name,
        )

    def log(self, node: str) -> list[tuple[int, str, str]]:
        """``node``'s log: (seq, kind, body) of every event, from PostgreSQL."""
        with PostgresStore.open_readonly(self.dsn, node) as log:
            return [(e.seq, e.kind, e.data.decode()) for e in log.read(1)]


def _serve_args(
    site: Path, sites_dir: Path, url: str, data: Path, dsn: str, csta: int
) -> list[str]:
    return [
        *("--site", str(site), "--data-dir", str(data), "--store", dsn),
        *("--broker", "external", "--mqtt-url", url),
        *("--broker-files", str(sites_dir), "--shared-broker"),
        *("--csta-port", str(csta)),
    ]


@pytest.fixture
async def sites(tmp_path: Path, pg_dsn: str, servers: list[Server]) -> AsyncIterator[Sites]:
    binary = mosquitto_binary()
    if binary is None:
        pytest.fail("mosquitto is not installed: apt-get install -y mosquitto (see README)")
    shared, data = tmp_path / "broker", tmp_path / "data"  # one data directory: keyed by node
    port = free_port()
    for site in (OFFICE, BRANCH):  # what the operator runs once per node (specs/operations.md)
        code = main(
            [
                "broker-config",
                *("--site", str(site), "--data-dir", str(data), "--store", pg_dsn),
                *("--out", str(shared), "--host", "127.0.0.1", "--port", str(port)),
                *("--tls-port", "0", "--shared-broker"),
            ]
        )
        assert code == 0
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"user {getpass.getuser()}\npersistence false\ninclude_dir {shared}\n")
    log = (tmp_path / "mosquitto.log").open("wb")
    broker = subprocess.Popen([binary, "-c", str(conf), "-v"], stdout=log, stderr=log)
    try:
        await wait_listening("127.0.0.1", port, timeout=TIMEOUT)
        url = f"mqtt://127.0.0.1:{port}"
        csta = {"node1": free_port(), "branch": free_port()}
        office = Server(*_serve_args(OFFICE, shared, url, data, pg_dsn, csta["node1"]))
        branch = Server(*_serve_args(BRANCH, shared, url, data, pg_dsn, csta["branch"]))
        servers += [office, branch]
        await asyncio.gather(office.start(), branch.start())
        for server, node in ((office, "node1"), (branch, "branch")):
            await server.wait_line(lambda line, n=node: f"(node {n}) at seq" in line, 60)
        yield Sites(port, pg_dsn, shared, broker, office, branch, csta)
        for server in (office, branch):  # a clean stop: no writer session left behind
            server.signal(signal.SIGTERM)
        assert await office.wait() == 0 and await branch.wait() == 0
    finally:
        broker.kill()
        broker.wait(TIMEOUT)
        log.close()


async def online(client: CtiClient) -> None:
    await client.wait_for(f"{client.base}/status", lambda d: d["state"] == "online")


async def test_two_sites_have_their_own_logs_accounts_and_topics(sites: Sites) -> None:
    # Each integrator subscribes to cti/#: all the broker lets it read, its own site's only.
    office_sim = sites.client("phone-sim@node1", SIM, "node1", "office", ("cti/#",))
    branch_sim = sites.client("phone-sim@branch", SIM, "branch", "branch", ("cti/#",))
    async with office_sim as office, branch_sim as branch:
        await online(office)
        await online(branch)
        office_seq = sites.log("node1")[-1][0]
        branch_seq = sites.log("branch")[-1][0]

        # Each node numbers its own log: commands on one leave the other's sequence alone.
        first = await branch.ok("setDoNotDisturb", device="231", on=True)
        dnd = await office.ok("setDoNotDisturb", device="332", on=True)
        second = await branch.ok("setDoNotDisturb", device="231", on=False)
        assert (first["seq"], second["seq"]) == (branch_seq + 1, branch_seq + 2)
        assert dnd["seq"] == office_seq + 1
        made = await branch.ok("makeCall", calling="230", called="331")
        await branch.ok("answerCall", call=made["result"]["call"], device="331")
        await branch.wait_for("cti/branch/devices/331/state", lambda d: d["summary"] != "idle")
        await office.request("getProfile", name="phone-sim")  # settled: all before it is here

        office_log, branch_log = sites.log("node1"), sites.log("branch")
        assert [seq for seq, _, _ in office_log] == list(range(1, dnd["seq"] + 1))
        assert [seq for seq, _, _ in branch_log] == list(range(1, branch_log[-1][0] + 1))
        assert not any('"230"' in body for _, _, body in office_log)  # a branch number
        assert not any('"332"' in body for _, _, body in branch_log)  # an office number

        # Read isolation, by the broker: each integrator subscribed to cti/# and got only its
        # own node's topics, although both nodes published meanwhile (positive controls).
        assert any(m.topic.startswith("cti/branch/devices/") for m in branch.messages)
        assert any(m.topic.startswith("cti/node1/devices/") for m in office.messages)
        assert {m.topic.split("/")[1] for m in office.messages} == {"node1"}
        assert {m.topic.split("/")[1] for m in branch.messages} == {"branch"}


async def test_an_account_of_one_site_cannot_touch_the_other(sites: Sites) -> None:
    # One name, two accounts: each site's 331 signs in with its own password only, and only
    # under its qualified name (the bare name is no account on a shared broker).
    assert await sign_in("127.0.0.1", sites.port, "331@node1", BERND) is None
    assert await sign_in("127.0.0.1", sites.port, "331@branch", KARL) is None
    assert await sign_in("127.0.0.1", sites.port, "331@node1", KARL) in REFUSED
    assert await sign_in("127.0.0.1", sites.port, "331@branch", BERND) in REFUSED
    assert await sign_in("127.0.0.1", sites.port, "331", BERND) in REFUSED
    assert await sign_in("127.0.0.1", sites.port, "cti-branch", "guess") in REFUSED

    # Bernd (office) tries the branch: to read its topics and to request as its 331.
    async with (
        sites.client("331@node1", BERND, "node1", "bernd", ("cti/branch/#",)) as bernd,
        sites.client("331@branch", KARL, "branch", "karl") as karl,
    ):
        await online(bernd)
        await online(karl)
        before = sites.log("branch")[-1][0]
        rogue = json.dumps({"calling": "331", "called": "230"}).encode()
        await bernd.publish("cti/branch/users/331/requests/makeCall", rogue)
        await bernd.ok("setDoNotDisturb", device="331", on=True)  # his own: the broker is past it
        # The branch's node got nothing: its next event is the next command's, of its own 331.
        reply = await karl.ok("setDoNotDisturb", device="331", on=True)
        assert reply["seq"] == before + 1
        await karl.request("getProfile", name="331")  # settled
        assert not [m.topic for m in bernd.messages if m.topic.startswith("cti/branch/")]
        assert any(m.topic == "cti/branch/status" for m in karl.messages)  # control

    # The other node does not accept the office's 331 over CSTA either (its own accounts).
    with pytest.raises(AssociationRefused):
        async with CstaClient("127.0.0.1", sites.csta["branch"], "331", BERND, timeout=TIMEOUT):
            pass
    async with CstaClient("127.0.0.1", sites.csta["branch"], "331", KARL, timeout=TIMEOUT):
        pass


async def test_an_account_made_on_one_site_signs_in_there_after_the_reload(sites: Sites) -> None:
    """The branch's administrator creates 232: the branch's node rewrites its files and the
    combination (the office's accounts stay in it); after the operator's SIGHUP, 232@branch
    signs in, and there is still no such account at the office."""
    passwords = sites.shared / "passwords"
    async with sites.client("230@branch", "Greta-2026!", "branch", "greta") as greta:
        await greta.ok("createAccount", name="232", password="Inge-2026!")
    await until(lambda: "\n232@branch:" in passwords.read_text())
    await sites.branch.wait_line(lambda line: "broker.files_changed" in line)
    sites.broker.send_signal(signal.SIGHUP)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while await sign_in("127.0.0.1", sites.port, "232@branch", "Inge-2026!") is not None:
        assert loop.time() < deadline, "232@branch cannot sign in after the reload"
    assert await sign_in("127.0.0.1", sites.port, "331@node1", BERND) is None
    assert await sign_in("127.0.0.1", sites.port, "232@node1", "Inge-2026!") in REFUSED
    assert "\n331@node1:" in passwords.read_text()


async def test_phone_sim_load_drives_both_nodes_at_once(sites: Sites) -> None:
    env = {**os.environ, "CTI_PASSWORD": SIM, "COLUMNS": "200", "NO_COLOR": "1"}
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "phone_sim.cli"),
        *("--mqtt-url", f"mqtt://127.0.0.1:{sites.port}", "--user", "phone-sim@{node}"),
        *("--node", "node1", "--node", "branch"),
        *("load", "--devices", "6", "--calls-per-second", "4", "--duration", "3", "--seed", "7"),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 90)
    text = out.decode()
    assert proc.returncode == 0, text
    for node in ("node1", "branch"):
        table = text[text.index(f"phone-sim load on {node}") :]
        completed = int(re.search(r"calls completed\s*│\s*(\d+)", table)[1])  # type: ignore[index]
        errors = int(re.search(r"errors\s*│\s*(\d+)", table)[1])  # type: ignore[index]
        assert completed > 0 and errors == 0, table
    # Each node's calls are in its own log only (331 is a phone of both sites).
    numbers = {"node1": {"330", "332", "333", "335"}, "branch": {"230", "231", "232", "233"}}
    for node, other in (("node1", "branch"), ("branch", "node1")):
        bodies = [body for _, kind, body in sites.log(node)]
        assert sum(kind == "delivered" for _, kind, _ in sites.log(node)) > 0, node
        assert not any(f'"{n}"' in b for b in bodies for n in numbers[other]), node


def test_the_example_sites_can_run_side_by_side() -> None:
    """Different node names and CSTA ports: both serve on one machine as shipped."""
    office, branch = load_config(OFFICE), load_config(BRANCH)
    assert office.site.node != branch.site.node
    assert office.csta.port != branch.csta.port
