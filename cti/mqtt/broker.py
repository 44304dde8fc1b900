"""The embedded broker of `cti serve --broker embedded`: a managed ``mosquitto`` child process.

Mosquitto is required (README, ``make deps``): accounts, ACLs, TLS and MQTT 5 are what the
node and its clients rely on, so there is no weaker fallback broker."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import attrs
import structlog

from cti.app.follower import supervised
from cti.mqtt.broker_files import BrokerFiles
from cti.mqtt.certs import CertFiles
from cti.mqtt.limits import MAX_PACKET

log = structlog.get_logger(__name__)


TUNING = (
    f"max_packet_size {MAX_PACKET}\n"  # a bigger request is dropped by the broker (limits.py)
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
    """The embedded broker's TLS listener (USER-02: password changes need it); port 0: any
    free port (the broker's ``tls`` names the one it took once started)."""

    port: int
    files: CertFiles
    host: str = "127.0.0.1"


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens there, else a free loopback port."""
    if preferred is not None and port_available("127.0.0.1", preferred):
        return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_available(host: str, port: int) -> bool:
    """Whether a listener could bind ``host:port`` now. With SO_REUSEADDR, as mosquitto binds:
    connections of a stopped broker still in TIME_WAIT do not make its port busy."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def claim_port(host: str, port: int | None, what: str, zero: str = "any free port") -> int:
    """The port to listen on: any free one for None or 0, else exactly ``port``; a busy port
    is an error, never a silent move (clients are configured for the documented port).
    ``zero``: what the option's 0 means, for the hint (the TLS port's 0 is no listener)."""
    if not port:
        return free_port()
    if not port_available(host, port):
        raise BrokerUnavailable(
            f"{what} port {port} on {host} is in use (another broker or node?); "
            f"stop it or choose another port (0: {zero})"
        )
    return port


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
    """Start with :meth:`start`; ``version`` is the MQTT protocol level our clients use with it.

    The mosquitto child lives no longer than we do: it gets SIGTERM when our process dies
    (``PR_SET_PDEATHSIG``), and one that outlived a killed node is found through the pid file in
    its run directory (the directory of the broker files, else a temporary one) and stopped
    before a new one starts, so a restart gets the same port. A child that dies while we run
    is logged and started again."""

    def __init__(
        self,
        port: int | None = None,
        *,
        files: BrokerFiles | None = None,
        tls: TlsListener | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        binary = mosquitto_binary()
        if binary is None:
            raise BrokerUnavailable(
                "the embedded broker is mosquitto, which is not installed: "
                "apt-get install -y mosquitto (make deps)"
            )
        self.binary, self.kind = binary, "mosquitto"
        # Accounts and ACLs (specs/security.md); None: anyone may do anything (tests only).
        self.files, self.tls = files, tls
        self._requested = port
        self.port = port or 0  # the port it listens on once started
        self.version = 5
        self._proc: asyncio.subprocess.Process | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The mosquitto child's process id (None when it is not running)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def run_dir(self) -> Path:
        """Where the child's configuration, pid file and log are."""
        if self.files is not None:
            return self.files.directory
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="cti-mosquitto-")
        return Path(self._dir.name)

    async def start(self) -> None:
        self._stopping = False
        await reap_stale(self.run_dir)
        # Ports are claimed once stale brokers are gone: ours held them.
        self.port = claim_port(self.host, self._requested, "broker")
        if self.tls is not None:
            tls_port = claim_port(self.tls.host, self.tls.port, "TLS", "no TLS listener")
            self.tls = attrs.evolve(self.tls, port=tls_port)
        (self.run_dir / "mosquitto.conf").write_text(self.config())
        await self._spawn()
        self._watcher = asyncio.create_task(supervised("broker", self._watch), name="broker-watch")
        log.info("broker.started", kind=self.kind, url=self.url)

    async def _spawn(self) -> None:
        """Start the mosquitto child and wait until it listens; one line if it cannot."""
        run = self.run_dir
        with (run / "mosquitto.log").open("wb") as errors:
            self._proc = await asyncio.create_subprocess_exec(
                str(self.binary),
                "-c",
                str(run / "mosquitto.conf"),
                stdout=subprocess.DEVNULL,
                stderr=errors,
                preexec_fn=_die_with_parent(os.getpid()),
                start_new_session=True,  # Ctrl-C in a terminal is ours to handle, not its
            )
        (run / PID_FILE).write_text(f"{self._proc.pid}\n")
        listening = [(self.host, self.port)]
        if self.tls is not None:
            listening.append((self.tls.host, self.tls.port))
        for host, port in listening:
            waiting = asyncio.ensure_future(wait_listening(host, port))
            exited = asyncio.ensure_future(self._proc.wait())
            await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
            exited.cancel()
            if not waiting.done():
                waiting.cancel()
                raise BrokerUnavailable(f"mosquitto exited at start: {self.last_error()}")
            waiting.result()  # nothing listening in time raises TimeoutError

    def last_error(self) -> str:
        """mosquitto's last log line (its reason for exiting)."""
        try:
            lines = (self.run_dir / "mosquitto.log").read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        return lines[-1].split(": ", 1)[-1] if lines else "no log"

    async def _watch(self) -> None:
        """A child that exits while we run is started again (supervised: with back-off)."""
        while not self._stopping:
            assert self._proc is not None
            code = await self._proc.wait()
            if self._stopping:
                return
            log.error("broker.exited", code=code, error=self.last_error(), restarting=True)
            await self._spawn()

    def config(self) -> str:
        """The mosquitto.conf of this broker."""
        # Started by root, mosquitto would become the user "mosquitto", who cannot read the
        # node's private files: it stays who started it. Only errors are logged: the log says
        # why the child exited, not who connected.
        common = f"persistence false\nuser {getpass.getuser()}\nlog_type error\n{TUNING}"
        if self.files is None:
            return f"{common}listener {self.port} {self.host}\nallow_anonymous true\n"
        return common + listeners(self.files, self.host, self.port, self.tls)

    def reload(self) -> None:
        """Make mosquitto read its password and ACL files again; connections whose sign-in no
        longer holds are closed (specs/security.md)."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGHUP)

    async def stop(self) -> None:
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        if self._proc is not None:
            if self._proc.returncode is None:
                self._proc.terminate()
                try:
                    await asyncio.wait_for(self._proc.wait(), 5)
                except TimeoutError:
                    self._proc.kill()
                    await self._proc.wait()
            self._proc = None
            with contextlib.suppress(OSError):
                (self.run_dir / PID_FILE).unlink()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


PID_FILE = "mosquitto.pid"
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    """What the child runs before mosquitto: ask the kernel for SIGTERM when we die (Linux)."""
    libc = _LIBC
    if libc is None:
        return None

    def arm() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # we died before it was armed
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


async def reap_stale(run: Path) -> None:
    """Stop a mosquitto that a killed node left running on this run directory's config (its
    pid file names it; the command line must name our config, so a reused pid is left alone)."""
    try:
        pid = int((run / PID_FILE).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return
    if str(run / "mosquitto.conf").encode() not in cmdline:
        return
    log.warning("broker.stale_stopped", pid=pid, run_dir=str(run))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        for _ in range(100):  # up to 5 s: not our child, so poll instead of waitpid
            if not Path(f"/proc/{pid}").exists() or _zombie(pid):
                return
            await asyncio.sleep(0.05)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True
