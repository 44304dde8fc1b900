"""The embedded broker of `cti serve --broker embedded`: a managed ``mosquitto`` child process
when the binary exists, otherwise an in-process Python broker (amqtt, MQTT 3.1.1 only)."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import attrs
import structlog

from cti.mqtt.broker_files import BrokerFiles
from cti.mqtt.certs import CertFiles

log = structlog.get_logger(__name__)


TUNING = (
    "max_queued_messages 100000\n"
    "set_tcp_nodelay true\n"  # else Nagle + delayed ACK add 40 ms per reply
    # The default window of 20 unacknowledged QoS 1 messages per client makes a publisher
    # wait for a round trip every 20 messages.
    "max_inflight_messages 1000\n"
)


def listeners(files: BrokerFiles, host: str, port: int, tls: TlsListener | None) -> str:
    """The listeners of a broker that checks the node's accounts: a plain one and, if ``tls``,
    a TLS one, each with its own ACL file (only the TLS one lets accounts write ``secure``)."""
    out = [
        "per_listener_settings true\n",
        f"listener {port} {host}\nallow_anonymous false\n"
        f"password_file {files.passwords}\nacl_file {files.acl(tls=False)}\n",
    ]
    if tls is not None:
        out.append(
            f"listener {tls.port} {tls.host}\nallow_anonymous false\n"
            f"password_file {files.passwords}\nacl_file {files.acl(tls=True)}\n"
            f"certfile {tls.files.cert}\nkeyfile {tls.files.key}\n"
        )
    return "\n".join(out)


class BrokerUnavailable(RuntimeError):
    """The embedded broker cannot run as asked (one line for the operator)."""


@attrs.frozen
class TlsListener:
    """The embedded broker's TLS listener (USER-02: password changes need it)."""

    port: int
    files: CertFiles
    host: str = "127.0.0.1"


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens there, else a free loopback port."""
    if preferred is not None:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_listening(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port}") from None
            await asyncio.sleep(0.05)


def mosquitto_binary() -> str | None:
    """The mosquitto executable; Debian puts it in /usr/sbin, often not on a user's PATH."""
    found = shutil.which("mosquitto")
    if found is None and Path("/usr/sbin/mosquitto").exists():
        found = "/usr/sbin/mosquitto"
    return found


class EmbeddedBroker:
    """Start with :meth:`start`; ``kind`` is "mosquitto" or "amqtt", ``version`` the MQTT
    protocol level our clients use with it."""

    def __init__(
        self,
        port: int | None = None,
        *,
        prefer: str = "mosquitto",
        files: BrokerFiles | None = None,
        tls: TlsListener | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port(port)
        self.binary = mosquitto_binary() if prefer == "mosquitto" else None
        self.kind = "mosquitto" if self.binary else "amqtt"
        # Accounts and ACLs (specs/security.md); None: anyone may do anything (tests only).
        self.files, self.tls = files, tls
        if (files is not None or tls is not None) and self.kind != "mosquitto":
            raise BrokerUnavailable(
                "the embedded broker needs mosquitto for accounts, ACLs and TLS: "
                "apt-get install -y mosquitto (make mosquitto)"
            )
        self.version = 5 if self.kind == "mosquitto" else 4
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._amqtt: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The mosquitto child's process id (None for the in-process amqtt)."""
        return self._proc.pid if self._proc is not None else None

    async def start(self) -> None:
        if self.kind == "mosquitto":
            self._dir = tempfile.TemporaryDirectory(prefix="cti-mosquitto-")
            conf = Path(self._dir.name) / "mosquitto.conf"
            conf.write_text(self.config())
            self._proc = subprocess.Popen(
                [str(self.binary), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            await wait_listening(self.host, self.port)
            if self.tls is not None:
                await wait_listening(self.tls.host, self.tls.port)
        else:
            from amqtt.broker import Broker

            config = {
                "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
                "plugins": {
                    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
                },
            }
            self._amqtt = Broker(config)
            await self._amqtt.start()  # listening once this returns
        log.info("broker.started", kind=self.kind, url=self.url)

    def config(self) -> str:
        """The mosquitto.conf of this broker."""
        # Started by root, mosquitto would become the user "mosquitto", who cannot read the
        # node's private files: it stays who started it.
        common = f"persistence false\nuser {getpass.getuser()}\n{TUNING}"
        if self.files is None:
            return f"{common}listener {self.port} {self.host}\nallow_anonymous true\n"
        return common + listeners(self.files, self.host, self.port, self.tls)

    def reload(self) -> None:
        """Make mosquitto read its password and ACL files again (connections stay)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGHUP)

    async def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(self._proc.wait, 5)
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc = None
        if self._amqtt is not None:
            await self._amqtt.shutdown()
            self._amqtt = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
