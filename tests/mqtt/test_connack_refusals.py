"""A broker's refusal of a CONNECT is told by the CONNACK's reason code, never by the words of
the error: a refusal of the account (MQTT 5 0x86/0x87, the 3.1.1 return codes 4/5 that NATS
sends) is "the broker refused USER", and no other member is tried; any other (busy,
unavailable) is "would not take the connection", and the next member is tried.

Mosquitto and nats-server here refuse accounts on demand (both are used below); no broker
here can be made to answer "server busy" or a 3.1.1 code to an MQTT 5 CONNECT, so
:class:`RefusingBroker` does exactly that on a loopback socket."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cti.cli import main
from cti.mqtt.client import ConnectionRefused, MqttClient
from cti.mqtt.client.connection import refusal
from cti.store import SqliteStore
from phone_sim.cli import main as phone_sim
from tests.mqtt.conftest import Mosquitto, Nats
from tests.mqtt.test_cli_errors import cti
from tests.test_cli_errors import one_line

#: (protocol level -> CONNACK code) per test: 5 is MQTT 5, 4 is 3.1.1.
Answers = dict[int, int]


class RefusingBroker(socketserver.ThreadingTCPServer):
    """Answers every CONNECT with a CONNACK carrying ``answers[protocol level]``; records the
    levels it was asked in."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.levels: list[int] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.server_address[1]}"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, RefusingBroker)
        sock: socket.socket = self.request
        head = sock.recv(1)
        if head != b"\x10":  # not a CONNECT
            return
        length, shift = 0, 0
        while True:  # the remaining length, a variable byte integer
            byte = sock.recv(1)[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        body = b""
        while len(body) < length:
            body += sock.recv(length - len(body))
        level = body[6]  # after the protocol name "MQTT" and its length
        server.levels.append(level)
        code = server.answers[level]
        # MQTT 5: flags, reason code, no properties; 3.1.1: flags, return code.
        sock.sendall(bytes([0x20, 3, 0, code, 0]) if level == 5 else bytes([0x20, 2, 0, code]))
        sock.recv(1)  # until the client closes


@pytest.fixture
def refusing() -> Iterator[list[RefusingBroker]]:
    """Make RefusingBrokers with ``start(answers)``; all shut down after the test."""
    started: list[RefusingBroker] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def start(started: list[RefusingBroker], answers: Answers) -> RefusingBroker:
    server = RefusingBroker(answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started.append(server)
    return server


@pytest.mark.parametrize(
    ("code", "reason", "credentials"),
    [
        (0x86, 0x86, True),  # MQTT 5: bad user name or password
        (0x87, 0x87, True),  # MQTT 5: not authorized
        (4, 0x86, True),  # 3.1.1: bad user name or password
        (5, 0x87, True),  # 3.1.1: not authorized (nats-server's answer)
        (0x88, 0x88, False),  # MQTT 5: server unavailable
        (0x89, 0x89, False),  # MQTT 5: server busy
        (3, 0x88, False),  # 3.1.1: server unavailable
        (2, 0x85, False),  # 3.1.1: identifier rejected
    ],
)
def test_connack_codes_map_to_mqtt_5_reasons(code: int, reason: int, credentials: bool) -> None:
    refused = refusal(code)
    assert (refused.reason, refused.credentials) == (reason, credentials)
    assert f"reason {reason:#x}" in str(refused)


@pytest.mark.parametrize(("answer", "reason"), [(4, 0x86), (5, 0x87), (3, 0x88)])
async def test_a_3_1_1_code_is_mapped_after_the_fallback_and_without_it(
    refusing: list[RefusingBroker], answer: int, reason: int
) -> None:
    """A 3.1.1-only broker answers MQTT 5 with code 1, and the client asks again as 3.1.1 (as
    with NATS); one that answers the MQTT 5 CONNECT with its own 3.1.1 code at once means
    the same: code 5 to an MQTT 5 CONNECT was reason 0x05, "no refusal of the account"."""
    fallback = start(refusing, {5: 1, 4: answer})
    direct = start(refusing, {5: answer})
    for server, levels in ((fallback, [5, 4]), (direct, [5])):
        port = int(server.url.rsplit(":", 1)[1])
        with pytest.raises(ConnectionRefused) as info:
            await MqttClient("127.0.0.1", port, "c1", username="u", password="p").connect()
        assert info.value.reason == reason
        assert info.value.credentials is (reason in (0x86, 0x87))
        assert info.value.user == "u"  # who was refused, for the tool's line
        assert server.levels == levels


def test_cti_request_tells_a_busy_broker_from_a_refused_account(
    refusing: list[RefusingBroker], capsys: pytest.CaptureFixture[str]
) -> None:
    busy = start(refusing, {5: 0x89})
    argv = ["request", "--mqtt-url", busy.url, "--user", "330", "snapshotDevice", "device=330"]
    assert main(argv) == 3
    assert one_line(capsys.readouterr().err) == (
        f"cti request: the broker at {busy.url} would not take the connection: "
        "broker refused the connection (reason 0x89: server busy)"
    )
    # A busy member passes the request on to the next; a refusal of the account ends it.
    bad = start(refusing, {5: 0x86})
    never = start(refusing, {5: 0})
    members = f"{busy.url},{bad.url},{never.url}"
    argv = ["request", "--mqtt-url", members, "--user", "330", "snapshotDevice", "device=330"]
    assert main(argv) == 3
    assert one_line(capsys.readouterr().err) == (
        "cti request: the broker refused 330: broker refused the connection "
        "(reason 0x86: bad user name or password)"
    )
    assert (busy.levels, bad.levels, never.levels) == ([5, 5], [5], [])


def test_cti_users_exits_as_cti_request_for_a_busy_broker_and_a_refused_account(
    refusing: list[RefusingBroker], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`cti users` on a running node (it holds its log): the same lines and the same exit
    code as `cti request`, 3 (it exited 2, as for a wrong argument)."""
    busy = start(refusing, {5: 0x89})
    bad = start(refusing, {5: 0x86})
    with SqliteStore(tmp_path / "node1.db"):  # the node "runs"
        users = ["users", "--data-dir", str(tmp_path), "--user", "330", "list"]
        assert main([*users, "--mqtt-url", busy.url]) == 3
        assert one_line(capsys.readouterr().err) == (
            f"cti users: the broker at {busy.url} would not take the connection: "
            "broker refused the connection (reason 0x89: server busy)"
        )
        assert main([*users, "--mqtt-url", bad.url]) == 3
        assert one_line(capsys.readouterr().err) == (
            "cti users: the broker refused 330: broker refused the connection "
            "(reason 0x86: bad user name or password)"
        )


def test_phone_sim_tells_a_busy_broker_from_a_refused_account(
    refusing: list[RefusingBroker], capsys: pytest.CaptureFixture[str]
) -> None:
    unavailable = start(refusing, {5: 1, 4: 3})  # a 3.1.1 broker: server unavailable
    assert phone_sim(["--mqtt-url", unavailable.url, "console", "330"]) == 3
    assert one_line(capsys.readouterr().err) == (
        f"phone-sim: the broker at {unavailable.url} would not take the connection: "
        "broker refused the connection (reason 0x88: server unavailable)"
    )
    bad = start(refusing, {5: 1, 4: 4})
    never = start(refusing, {5: 0})
    assert phone_sim(["--mqtt-url", f"{bad.url},{never.url}", "console", "330"]) == 3
    assert one_line(capsys.readouterr().err) == (
        f"phone-sim: the broker at {bad.url},{never.url} refused phone-sim: broker refused "
        "the connection (reason 0x86: bad user name or password)"
    )
    assert never.levels == []  # every member would refuse the account: none other is asked


@pytest.fixture
async def nats_with_accounts(tmp_path: Path) -> AsyncIterator[Nats]:
    """A real 3.1.1 broker that refuses a wrong password with return code 5."""
    server = Nats(tmp_path)
    text = server.conf.read_text()
    server.conf.write_text(
        text + 'authorization { users: [ {user: "330", password: "Right-2026!"} ] }\n'
    )
    await server.start()
    yield server
    server.stop()


async def test_nats_refusing_the_account_is_said_so(nats_with_accounts: Nats) -> None:
    """NATS answers MQTT 5 with 3.1.1's code 1, then a wrong password with code 5 (not
    authorised): both tools say the account was refused, exit 3."""
    url = nats_with_accounts.url
    env = {"CTI_PASSWORD": "Wrong-2026!"}
    code, err = await _run(
        "cti.cli", "request", "--mqtt-url", url, "--user", "330", "getPresence", env=env
    )
    assert code == 3
    assert err.startswith("cti request: the broker refused 330: ") and "reason 0x87" in err, err
    code, err = await _run(
        "phone_sim.cli", "--mqtt-url", url, "--user", "330", "console", "330", env=env
    )
    assert code == 3
    assert err.startswith(f"phone-sim: the broker at {url} refused 330: ") and "0x87" in err, err


async def test_phone_sim_load_names_the_account_refused(mosquitto: Mosquitto) -> None:
    """`load` on several nodes signs in once per node (``--user 'phone-sim@{node}'``): the
    line names the account the broker refused, branch's, which it does not know (it named
    the first node's, phone-sim@node1, whose sign-in had worked)."""
    await mosquitto.signed_in_only({"phone-sim@node1": "Sim-2026!"}, online="node1")
    url = mosquitto.url
    code, err = await _run(
        *("phone_sim.cli", "--mqtt-url", url, "--user", "phone-sim@{node}"),
        *("--node", "node1", "--node", "branch", "load", "--duration", "1"),
        env={"CTI_PASSWORD": "Sim-2026!"},
    )
    assert code == 3
    assert err.startswith(f"phone-sim: the broker at {url} refused phone-sim@branch: "), err
    assert "reason 0x87" in err, err


async def _run(module: str, *argv: str, env: dict[str, str]) -> tuple[int, str]:
    """A command line in a process of its own (its own event loop): exit code, its one line
    on stderr."""
    code, _, err = await cti(*argv, password=env["CTI_PASSWORD"], module=module)
    return code, one_line(err)
