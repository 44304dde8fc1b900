"""`phone-sim run` and `phone-sim load` as a tester uses them: separate processes talking to
a `cti serve` process through a real Mosquitto; its shared options before or after the
subcommand, as the `cti` tools take them (cti/tools/options.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from cti.mqtt.broker import free_port
from phone_sim.cli import build_parser
from tests.mqtt.conftest import REPO, CtiClient, Mosquitto, Server

SCENARIOS = REPO / "phone_sim" / "scenarios"


async def phone_sim(url: str, *args: str, url_after: bool = False) -> tuple[int, str]:
    """Run phone-sim with ``--mqtt-url url`` before the subcommand, or after the ``args``."""
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    where = [*args, "--mqtt-url", url] if url_after else ["--mqtt-url", url, *args]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "phone_sim.cli",
        *where,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_run_and_load_against_cti_serve(
    broker: Mosquitto, servers: list[Server], tmp_path: Path
) -> None:
    server = Server("--mqtt-url", broker.url, "--data-dir", str(tmp_path / "data"))
    servers.append(server)
    await server.start()
    async with CtiClient(broker.host, broker.port, filters=["cti/node1/status"]) as ui:
        # The first start hashes the ten demo accounts' passwords (argon2id and the broker's
        # PBKDF2, slow on purpose): seconds on a busy machine, so more than the usual wait.
        await ui.wait_for("cti/node1/status", lambda d: d["state"] == "online", timeout=30)

    scenario = str(SCENARIOS / "call-07-transfer.yaml")
    code, out = await phone_sim(broker.url, "run", scenario, "--node", "node1", url_after=True)
    assert code == 0, out
    assert "✓ 330 transfers" in out and "1 scenario(s): passed" in out

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - 330 calls 331\n  - expect 331 talking-internal\n")
    code, out = await phone_sim(broker.url, "run", str(bad))
    assert code == 1, out
    assert "✗ expect 331 talking-internal" in out and "found incoming-internal" in out

    bad.write_text("name: bad\nsteps:\n  - 330 sings\n")
    code, out = await phone_sim(broker.url, "run", str(bad))
    assert code == 2 and "unknown action" in out, out

    code, out = await phone_sim(
        *(broker.url, "load", "--devices", "12", "--calls-per-second", "10", "--duration", "1"),
        url_after=True,  # the broker given after the subcommand, as `cti users` takes it
    )
    assert code == 0, out
    assert "calls completed" in out and "latency p99" in out


@pytest.mark.parametrize("url_after", [False, True], ids=["before", "after"])
async def test_unreachable_broker_is_a_clear_error(url_after: bool) -> None:
    """No broker at --mqtt-url, given before or after the subcommand: one line, exit 3 as
    `cti request` (after the subcommand it was a usage error, exit 2)."""
    url = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    scenario = str(SCENARIOS / "call-04-hold-retrieve.yaml")
    code, out = await phone_sim(url, "run", scenario, url_after=url_after)
    assert code == 3, out
    assert out == f"phone-sim: cannot reach the node's broker at {url}: Connection refused\n"


async def test_only_load_drives_several_nodes() -> None:
    """Several --node are for `load` (tests/mqtt/test_many_sites.py runs it on two nodes);
    the other commands act on one node and say so, reaching no broker."""
    code, out = await phone_sim(
        "mqtt://127.0.0.1:1", "--node", "node1", "--node", "branch", "console", "330"
    )
    assert code == 2 and "phone-sim console drives one node: give one --node" in out, out
    # One --node each side of the subcommand: both count (the one after replaced the one
    # before: one node, and a broker to reach).
    code, out = await phone_sim(
        "mqtt://127.0.0.1:1", "--node", "node1", "console", "330", "--node", "branch"
    )
    assert out == "phone-sim console drives one node: give one --node\n", out
    assert code == 2


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["console", "330", "--log-level", "loud"],
            "phone-sim console: error: argument --log-level: 'loud' is not one of debug, "
            "info, warning, error, critical",
        ),
        (
            ["phones", "330", "--mqtt-url"],
            "phone-sim phones: error: argument --mqtt-url: expected one argument",
        ),
        (
            ["run", "a.yaml", "--node"],
            "phone-sim run: error: argument --node: expected one argument",
        ),
    ],
    ids=["value", "no-value", "no-node"],
)
async def test_a_shared_options_mistake_after_the_subcommand_is_a_usage_error(
    argv: list[str], line: str
) -> None:
    """A wrong shared option after the subcommand is told as the option's mistake, exit 2 as
    a usage error of every `cti` tool, before any broker is reached (none at port 1). It was
    "unrecognized arguments", the option not known there."""
    code, out = await phone_sim("mqtt://127.0.0.1:1", *argv)
    assert code == 2, out
    assert out.splitlines()[-1] == line, out
    assert "Traceback" not in out, out


SUBCOMMANDS = [["run", "a.yaml"], ["load"], ["console", "330"], ["phones", "330"]]


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=[c[0] for c in SUBCOMMANDS])
def test_shared_options_go_before_or_after_the_subcommand(command: list[str]) -> None:
    """`phone-sim load --mqtt-url U --node a` as `phone-sim --mqtt-url U --node a load`
    (it was refused: "unrecognized arguments"). Not given after the subcommand, the value
    before it stays; given on both sides, the later wins; --node collects both sides' in
    order, the default (None: node1) not among them."""
    parse = build_parser().parse_args
    options = ["--mqtt-url", "mqtt://h:1884", "--user", "u", "--password", "p"]
    options += ["--ca-file", "ca.pem", "--log-level", "info"]
    before = parse([*options, *command])
    after = parse([*command, *options])
    for args in (before, after):
        got = (args.mqtt_url, args.user, args.password, args.ca_file, args.log_level)
        assert got == ("mqtt://h:1884", "u", "p", Path("ca.pem"), "info")
    both = parse(["--mqtt-url", "mqtt://a:1", "--user", "u", *command, "--mqtt-url", "mqtt://b:2"])
    assert (both.mqtt_url, both.user) == ("mqtt://b:2", "u")
    neither = parse(command)
    got = (neither.mqtt_url, neither.user, neither.node, neither.log_level)
    assert got == ("mqtt://127.0.0.1:1883", "phone-sim", None, "warning")
    assert parse(["--node", "a", *command]).node == ["a"]
    assert parse([*command, "--node", "b"]).node == ["b"]
    nodes = ["--node", "a", "--node", "b", *command, "--node", "c", "--node", "d"]
    assert parse(nodes).node == ["a", "b", "c", "d"]
