"""Wiring: build what ``cti serve`` runs from its options, start it in order, stop it in order.

The store (the one writer of the node's log), the node and its engine, the embedded broker if
asked for, and the faces behind the :class:`Face` protocol: the MQTT face, the CSTA link and the
read models that follow the log. The command line only parses and prints (cti/tools/serve.py);
everything a user can get wrong here is a :class:`StartupError` with one line to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import shlex
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, cast

import attrs
import structlog

from cti.accounts.commands import SeedAccounts
from cti.api.chat import ChatService
from cti.api.directory import INDEX as DIRECTORY_INDEX
from cti.api.documents import iso
from cti.api.journal import JournalService
from cti.api.voicemail import AUDIO as VOICEMAIL_AUDIO
from cti.app import heap
from cti.app.clock import Clock, SystemClock
from cti.app.config import EXAMPLE_SITE, Config, UserSpec, load_config
from cti.app.engine import Engine
from cti.app.feed import LogReader
from cti.app.follower import FollowerHealth, ReadModel, follow
from cti.app.keys import with_conference_key
from cti.app.node import Node
from cti.app.standby import LeaseWatch, Standby
from cti.calls.records_db import CallRecordsDb
from cti.calls.services.devices import unconfigured_devices
from cti.chat.chat_db import ChatDb
from cti.csta.link.server import CstaServer, UnsafeSettings
from cti.directory.callerid import resolve_caller
from cti.directory.commands import AddContact
from cti.directory.index_db import DirectoryIndex
from cti.journal.journal_db import JournalDb
from cti.mqtt import certs
from cti.mqtt.access import node_user
from cti.mqtt.broker import BrokerUnavailable, EmbeddedBroker, TlsListener
from cti.mqtt.broker_files import BrokerAccess, BrokerFiles, ask_reload, node_secret
from cti.mqtt.certs import CertFiles
from cti.mqtt.client import parse_urls
from cti.mqtt.face.service import MqttFace
from cti.mqtt.passwords import mosquitto_verify
from cti.ops.disk import DiskWatch
from cti.ops.health import Probe, StandbyProbe
from cti.ops.http import HttpFace
from cti.ops.metrics import NodeMetrics
from cti.ops.threshold import DiskThreshold
from cti.site import SiteError
from cti.store import EventStore, StoreError, location
from cti.voicemail.audio_db import AudioStore
from cti.voicemail.audio_sweep import AudioSweeper
from cti.voicemail.mail_outbox import MailOutbox
from cti.web.face import Upstream, WebFace, is_loopback
from cti.web.forwarded import LOOPBACK, Network

if TYPE_CHECKING:  # psycopg loads only for a PostgreSQL log (cti/store/location.py)
    from cti.store.postgres import PostgresStore

log = structlog.get_logger(__name__)
CONNECT_WAIT = 10.0  # seconds start() waits for the broker before it reports "not yet"


def unconfigured_hint(options: ServeOptions) -> str:
    """Which of the two it is only the operator knows: forgetting another site's devices
    would lose that site's settings (specs/operations.md, "Devices removed from the site").
    The command names this node's own site and log: on a stopped node `cti devices` decides
    by the --site it is given."""
    # Absolute: the operator runs it from another directory (systemd's WorkingDirectory).
    site = options.site.resolve() if options.site else resources.files("cti.sites") / EXAMPLE_SITE
    data_dir = options.data_dir.resolve()
    where = f"--site {shlex.quote(str(site))} --data-dir {shlex.quote(str(data_dir))}"
    return (
        "if this is another site's log, give each site its own --data-dir (or node name); if "
        "these phones were removed from the site, forget their settings: "
        f"cti devices {where}{location.store_flag(options.store)} forget --unconfigured"
    )


class StartupError(Exception):
    """The node cannot start as asked; the message is one line for the operator.
    ``configuration``: the site file or the options are wrong, so starting again cannot help
    (`cti serve` exits 2, which a supervisor does not retry; else 1)."""

    def __init__(self, message: str, *, configuration: bool = False) -> None:
        super().__init__(message)
        self.configuration = configuration


def _warn_if_open(data_dir: Path) -> None:
    """An existing data directory other users may enter (made by an older version, or by
    hand) holds password hashes in its logs: say so, with the fix; not changed behind the
    operator's back."""
    try:
        mode = data_dir.stat().st_mode
    except OSError:
        return
    if mode & 0o007:
        log.warning(
            "data_dir.open_to_all_users",
            path=str(data_dir),
            mode=oct(mode & 0o777),
            action=f"chmod o-rwx {data_dir.resolve()}",
        )


class Face(Protocol):
    """Something the node serves or feeds while it runs."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ReadModelFace:
    """A read model following the log on a task of its own (cti.app.follower)."""

    def __init__(self, model: ReadModel, reader: LogReader) -> None:
        self.model, self.reader = model, reader
        self.name = model.name
        self.health = FollowerHealth()  # shown on /healthz (cti/ops/health.py)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(
            follow(self.model, self.reader, self.health), name=self.name
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.model.close()


@attrs.frozen
class ServeOptions:
    site: Path | None = None  # the site file; None: the example office
    data_dir: Path = Path("data")
    # The event log: "sqlite" (<data_dir>/<node>.db) or a postgresql:// connection string.
    store: str = location.SQLITE
    broker: Literal["embedded", "external"] = "external"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    broker_port: int = 1883
    tls_port: int = 8883  # the embedded broker's TLS listener; 0: none
    tls: CertFiles | None = None  # the operator's certificate; None: made in the data dir
    broker_files: Path | None = None  # an operator's broker: where its password/ACL files go
    shared_broker: bool = False  # several nodes share that broker and directory (many sites)
    csta_port: int | None = None  # None: the site's [csta] port; 0: no CSTA link
    # The operators' /healthz and /metrics (cti/ops/http.py); 0: none (`cti serve`: 9180).
    http_host: str = "127.0.0.1"
    http_port: int = 0
    # The web client (cti/web, specs/web.md); 0: none (`cti serve`: 8180).
    web_host: str = "127.0.0.1"
    web_port: int = 0
    web_max_per_address: int = 20  # WebSockets at once from one client address; 0: no limit
    web_sign_in_timeout: float = 10.0  # seconds a WebSocket has to sign in to the broker
    # Reverse proxies whose X-Forwarded-For names the client (cti/web/forwarded.py).
    web_trusted_proxies: tuple[Network, ...] = LOOPBACK
    disk_low: DiskThreshold = attrs.field(factory=DiskThreshold)  # warn below this free space
    # PostgreSQL: if another process writes the node's log, follow it and take over when
    # its lock is free (hot standby, specs/store.md), instead of refusing to start.
    standby: bool = False


def records_path(data_dir: Path, node: str) -> Path:
    return data_dir / f"{node}.calls.db"


def journal_path(data_dir: Path, node: str) -> Path:
    return data_dir / f"{node}.journal.db"


def chat_path(data_dir: Path, node: str) -> Path:
    return data_dir / f"{node}.chat.db"


def open_chat(options: ServeOptions, node: str, term: int | None = None) -> ChatDb:
    """The chat's own store (specs/chat.md "Storage"): beside the log, never in it. On
    PostgreSQL fenced by ``term``, the term of the node's log writer (specs/store.md)."""
    try:
        if location.is_postgres(options.store):
            if term is None:
                raise ValueError("a chat in PostgreSQL needs the term of its log's writer")
            return ChatDb.postgresql(options.store, node, term=term)
        return ChatDb.sqlite(chat_path(options.data_dir, node), node)
    except Exception as exc:  # sqlite3.Error, psycopg.Error: a one-line start-up error
        where = location.describe(options.store, options.data_dir, node)
        if not location.is_postgres(options.store):
            where = str(chat_path(options.data_dir, node))
        raise StartupError(f"chat store {where}: {exc}") from None


@attrs.frozen
class DemoUser:
    name: str
    password: str = attrs.field(repr=False)
    role: str


def demo_users(node: Node, users: Sequence[UserSpec]) -> list[DemoUser]:
    """The site's demo accounts whose site-file password still signs them in (one changed
    since is not shown): what `make run` prints so a newcomer can try it. A demo account has
    the password the example office gives that account, public in the repository (the load
    site's phone-sim has it too); a password of the operator's own is never shown."""
    try:
        public = {(spec.name, spec.password) for spec in load_config().users}
    except SiteError:  # the packaged example unreadable: no password is known to be public
        return []
    out = []
    for spec in users:
        account = node.state.accounts.account(spec.name)
        if spec.password is None or account is None or account.broker_password is None:
            continue
        if (spec.name, spec.password) not in public:
            continue
        if mosquitto_verify(spec.password, account.broker_password):
            out.append(DemoUser(spec.name, spec.password, str(account.role)))
    return out


@attrs.define
class Running:
    """A started node: what ``cti serve`` reports on and stops."""

    config: Config
    log_path: Path
    store: EventStore
    node: Node
    engine: Engine
    broker: EmbeddedBroker | None
    mqtt: MqttFace
    broker_files: BrokerFiles | None
    csta: CstaServer | None
    metrics: NodeMetrics
    disk: DiskWatch
    http: HttpFace | None = None
    web: WebFace | None = None
    faces: list[Face] = attrs.field(factory=list)  # in start order
    notes: list[str] = attrs.field(factory=list)  # what the operator should know (banner)
    demo_users: list[DemoUser] = attrs.field(factory=list)  # the demo accounts' sign-ins
    log_name: str = ""  # the log for the banner: the file, or the database and node
    # PostgreSQL: resolves its ``fenced`` when taken over, ``lost`` when out of reach too long
    lease: LeaseWatch | None = None
    chat: ChatService | None = None  # instant messaging (IM-01..03), its own store

    async def stop(self) -> None:
        """Stop the faces (last started first), then the writer, the log and the broker.

        Each part is stopped whatever the others do: one that fails is logged, and the log
        (with its writer's lock) and the broker child are released in any case."""
        try:
            for face in reversed(self.faces):
                await _stopping(face.name, face.stop())
            await _stopping("engine", self.engine.stop())
        finally:
            with contextlib.suppress(StoreError):
                self.store.close()  # and the followers' connections with it
            if self.broker is not None:
                await _stopping("broker", self.broker.stop())
            heap.release()  # what start() froze: the stopped node's cycles can be freed


async def _stopping(what: str, stop: Awaitable[None]) -> None:
    try:
        await stop
    except Exception:
        log.exception("node.stop_failed", part=what)


async def start(
    options: ServeOptions,
    clock: Clock | None = None,
    on_standby: Callable[[Standby], None] | None = None,
) -> Running:
    """Start the node; raises StartupError (having stopped whatever it started). With
    ``options.standby`` and a log another process writes, first stand by until its lock is
    free (``on_standby`` is told once, for the operator); cancel to stop standing by."""
    try:
        config = load_config(options.site)
    except SiteError as exc:
        raise StartupError(str(exc), configuration=True) from None
    site = config.site
    try:
        options.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"cannot create the data directory {options.data_dir}: {exc}") from None
    _warn_if_open(options.data_dir)
    try:
        site = with_conference_key(site, options.data_dir)  # PINs are derived with it
    except OSError as exc:
        raise StartupError(f"cannot keep the conference key in {options.data_dir}: {exc}") from None
    log_path = options.data_dir / f"{site.node}.db"
    try:
        store = location.open_writer(
            options.store, options.data_dir, site.node, standby=options.standby
        )
    except (StoreError, ValueError) as exc:
        raise StartupError(str(exc)) from None
    broker: EmbeddedBroker | None = None
    try:
        clock = clock or SystemClock()
        node = Node(site, store, clock)  # replays the log
        heap.settle()  # what the replay built stays: no full collection traverses it again
        strangers = unconfigured_devices(site, node.state.calls)
        if strangers:  # phones removed from the site, or another site's log (both node1?)
            log.warning(
                "node.log_has_unconfigured_devices",
                node=site.node,
                count=len(strangers),
                devices=strangers[:5],
                hint=unconfigured_hint(options),
            )
        took_over = None
        postgres = cast("PostgresStore", store) if location.is_postgres(options.store) else None
        if postgres is not None and postgres.standing_by:
            took_over = await _stand_by(options, node, postgres, on_standby)
        seed_accounts(node, config.users)
        secret = node_secret(options.data_dir, site.node)
        files = None
        if options.broker == "embedded":
            files = BrokerFiles(options.data_dir / "broker", site, secret)
        elif options.broker_files is not None:
            files = BrokerFiles(options.broker_files, site, secret, options.shared_broker)
        if options.shared_broker and (files is None or not files.shared):
            raise StartupError(
                "--shared-broker is for your own broker: give --broker-files (the shared "
                "directory), not --broker embedded",
                configuration=True,
            )
        if files is not None:
            try:
                changed = files.write(node.state.accounts.accounts.values())  # before it reads
            except ValueError as exc:  # shared or not, other than the options say
                raise StartupError(str(exc), configuration=True) from None
            except OSError as exc:  # say which option's directory, not just a bare path
                why = exc.strerror or str(exc)
                raise StartupError(
                    f"cannot write the broker files in {files.directory}: {why}"
                ) from None
            if changed and options.broker != "embedded":  # the embedded one starts after
                ask_reload(files)  # an upgrade's grants, accounts changed while stopped
        version = 5
        more: list[tuple[str, int]] = []  # other members of the broker cluster
        if options.broker == "embedded":
            broker = EmbeddedBroker(
                options.broker_port, files=files, tls=_tls_listener(options, site.node)
            )
            await broker.start()
            host, port, version = broker.host, broker.port, broker.version
        else:
            try:
                (host, port), *more = parse_urls(options.mqtt_url)
            except ValueError as exc:
                raise StartupError(str(exc), configuration=True) from None
        metrics = NodeMetrics()
        engine = Engine(node, observer=metrics)
        # PostgreSQL: a writer can lose its log to a standby while it runs (fencing).
        lease = None if postgres is None else LeaseWatch(postgres.sibling(readonly=True), clock)
        disk = DiskWatch(options.data_dir, options.disk_low)
        # The MQTT face's, read on its loop; its outbox reads pages and saves its position
        # on connections of their own, in worker threads.
        outbox = store.sibling()
        started = iso(clock.now_ms())
        mqtt = MqttFace(
            engine,
            outbox,
            host,
            port,
            version=version,
            started=started,
            username=node_user(site.node),
            password=secret,
            status_fields=disk.status_fields,
            may_connect=None if lease is None else lease.holds,
            more_brokers=more,
        )
    except BaseException as exc:
        store.close()  # with its siblings
        if broker is not None:
            await broker.stop()
        if isinstance(exc, ValueError | StoreError | OSError | BrokerUnavailable):
            raise StartupError(str(exc)) from None  # a log, broker, data directory
        raise
    running = Running(
        config, log_path, store, node, engine, broker, mqtt, files, None, metrics, disk
    )
    running.log_name = location.describe(options.store, options.data_dir, site.node)
    running.lease = lease
    if took_over is not None:
        running.notes.append(took_over)
    running.demo_users = demo_users(node, config.users)
    if options.site is not None and running.demo_users:  # a site of the operator's own
        names = ", ".join(u.name for u in running.demo_users)
        running.notes.append(
            f"the example office's public demo passwords sign in {names}: fine for a test"
            " site, else change them (cti users set-password NAME)"
        )
    try:
        await engine.start()
        if lease is not None:
            await _start_face(running, lease)
        await _start_face(running, disk)  # first: the status document shows it from the start
        if files is not None:
            reload = broker.reload if broker is not None else None
            await _start_face(running, BrokerAccess(node, files, reload))
        records_file = records_path(options.data_dir, site.node)
        try:
            records = CallRecordsDb(records_file, store.epoch)
        except sqlite3.Error as exc:
            raise StartupError(f"call records {records_file}: {exc}") from None
        reader = LogReader(node.feed, store.sibling(readonly=True))
        await _start_face(running, ReadModelFace(records, reader))
        index_file = options.data_dir / f"{site.node}.directory.db"
        try:
            index = DirectoryIndex(index_file, store.epoch, site)
        except sqlite3.Error as exc:
            raise StartupError(f"directory index {index_file}: {exc}") from None
        node.read_models[DIRECTORY_INDEX] = index  # searchDirectory asks it (cti.api.directory)
        await _start_face(
            running, ReadModelFace(index, LogReader(node.feed, store.sibling(readonly=True)))
        )
        journal_file = journal_path(options.data_dir, site.node)
        try:
            journal = JournalDb(journal_file, store.epoch, site)
        except sqlite3.Error as exc:
            raise StartupError(f"journal {journal_file}: {exc}") from None
        journal_reader = LogReader(node.feed, store.sibling(readonly=True))
        await _start_face(running, ReadModelFace(journal, journal_reader))
        # Names as the reading user knows them (DIR-06); "save as contact" adds to the
        # personal directory (JOUR-05).
        mqtt.journal = JournalService(
            engine,
            journal,
            resolver=lambda user, number: resolve_caller(site, node.state, user, number),
            save_contact=lambda user, number, name: AddContact(
                user=user, name=name or number, other=number
            ),
        )
        # Voicemail (VM-01): recordings in the data directory; mailed by a follower (VM-07).
        try:
            audio = AudioStore(options.data_dir / f"{site.node}.voicemail")
        except OSError as exc:
            raise StartupError(f"voicemail audio {options.data_dir}: {exc}") from None
        node.read_models[VOICEMAIL_AUDIO] = audio
        await _start_face(running, AudioSweeper(node, audio))  # deleted messages' files
        if config.smtp is not None:
            mail_reader = LogReader(node.feed, store.sibling(readonly=True))
            mail_file = options.data_dir / f"{site.node}.voicemail-mail.db"
            mailer = MailOutbox(
                engine, mail_reader, audio, config.smtp, mail_file, store.epoch, clock=clock
            )
            await _start_face(running, mailer)
        # Chat (IM-01..03): its own store and writer, out of the call log's write path.
        chat = ChatService(
            node,
            open_chat(options, site.node, None if postgres is None else postgres.term),
            clock,
            store_and_forward=running.config.chat.store_and_forward,
        )
        await _start_face(running, chat)
        running.chat = mqtt.chat = chat
        await _start_face(running, mqtt)
        try:
            # Not wait_for: on Python 3.11 it can lose a cancel (a stop while starting).
            async with asyncio.timeout(CONNECT_WAIT):
                await mqtt.connected.wait()
        except TimeoutError:
            running.notes.append(f"broker {host}:{port} not reachable yet; retrying")
        await _start_csta(running, options)
        if options.http_port != 0:
            await _start_http(running, options)
        if options.web_port != 0:
            await _start_web(running, options, host, port, more)
    except BaseException:
        await running.stop()
        raise
    return running


async def _stand_by(
    options: ServeOptions,
    node: Node,
    store: PostgresStore,
    on_standby: Callable[[Standby], None] | None,
) -> str:
    """Follow the log until its lock is ours; /healthz meanwhile says so. No broker, MQTT
    client or CSTA listener yet: the active node has them (client id, Last Will, port)."""
    standby = Standby(node, store)
    log.info("standby.waiting", node=node.site.node, writer=standby.holder, term=standby.term)
    http = None
    if options.http_port != 0:
        http = HttpFace(options.http_host, options.http_port, NodeMetrics(), StandbyProbe(standby))
        try:
            await http.start()
        except OSError as exc:
            where = f"{options.http_host}:{options.http_port}"
            raise StartupError(f"HTTP endpoint: cannot listen on {where}: {exc}") from None
    try:
        if on_standby is not None:
            on_standby(standby)
        waited = await standby.wait()
    finally:
        if http is not None:
            await http.stop()  # the active node's endpoint takes the port again below
    return (
        f"hot standby: took over the log at seq {node.state.seq} (term {store.term}, "
        f"previous writer {standby.holder}) after {waited:.1f} s standing by"
    )


async def _start_http(running: Running, options: ServeOptions) -> None:
    settings = running.config.csta
    csta_wanted = options.csta_port != 0 and (options.csta_port is not None or settings.port != 0)
    followers = [
        (face.name, health)
        for face in running.faces
        if isinstance(health := getattr(face, "health", None), FollowerHealth)
    ]
    probe = Probe(
        running.node,
        running.engine,
        running.metrics,
        running.mqtt,
        running.csta,
        csta_wanted,
        followers,
        running.disk,
        running.lease,
    )
    running.metrics.watch(probe)
    http = HttpFace(options.http_host, options.http_port, running.metrics, probe)
    try:
        await http.start()
    except OSError as exc:
        where = f"{options.http_host}:{options.http_port}"
        raise StartupError(f"HTTP endpoint: cannot listen on {where}: {exc}") from None
    running.http = http
    running.faces.append(http)
    if not ipaddress.ip_address(http.address[0]).is_loopback:
        running.notes.append(
            f"/healthz and /metrics listen on {http.address[0]} without sign-in: "
            "keep the port behind a firewall"
        )


async def _start_web(
    running: Running, options: ServeOptions, host: str, port: int, more: list[tuple[str, int]]
) -> None:
    broker = running.broker
    upstreams = [Upstream(h, p) for h, p in [(host, port), *more]]
    # The browser's leg never leaves the machine (or a TLS reverse proxy carries it): then
    # the proxy dials the embedded broker's TLS listener, whose ACL lets a user write the
    # `secure` request topic that changePassword needs (USER-02, specs/web.md).
    secure = (
        broker is not None
        and broker.tls is not None
        and options.tls is None  # our own certificate: it names 127.0.0.1
        and is_loopback(options.web_host)
    )
    if secure and broker is not None and broker.tls is not None:
        tls = broker.tls
        upstreams = [Upstream(tls.host, tls.port, ca=tls.files.ca, server_name=tls.host)]
    web = WebFace(
        options.web_host,
        options.web_port,
        running.config.site.node,
        upstreams,
        secure=secure,
        max_per_address=options.web_max_per_address,
        sign_in_timeout=options.web_sign_in_timeout,
        trusted_proxies=options.web_trusted_proxies,
    )
    try:
        await web.start()
    except OSError as exc:
        where = f"{options.web_host}:{options.web_port}"
        raise StartupError(f"web client: cannot listen on {where}: {exc}") from None
    running.web = web
    running.faces.append(web)
    if not is_loopback(web.address[0]):
        running.notes.append(
            f"the web client listens on {web.address[0]} over plain HTTP: passwords cross "
            "the network in clear; put a TLS reverse proxy in front (specs/web.md)"
        )


def _tls_listener(options: ServeOptions, node: str) -> TlsListener | None:
    if options.tls_port == 0:
        return None
    files = options.tls or certs.ensure(options.data_dir / "tls", node)
    return TlsListener(options.tls_port, files)


def seed_accounts(node: Node, users: Sequence[UserSpec]) -> None:
    """Create the site file's accounts the log does not have yet (the log wins for the ones
    it has, specs/configuration.md); their passwords are hashed now, only theirs."""
    missing = [u for u in users if node.state.accounts.account(u.name) is None]
    if not missing:
        return
    outcome = node.execute(SeedAccounts(accounts=tuple(u.seed() for u in missing)))
    if not outcome.ok:
        raise StartupError(f"the site's [[users]] cannot be created: {outcome}", configuration=True)
    log.info("accounts.seeded", accounts=[u.name for u in missing])


async def _start_face(running: Running, face: Face) -> None:
    await face.start()
    running.faces.append(face)


async def _start_csta(running: Running, options: ServeOptions) -> None:
    settings = running.config.csta
    if options.csta_port == 0 or (options.csta_port is None and settings.port == 0):
        why = "--csta-port 0" if options.csta_port == 0 else "[csta] port = 0"
        running.notes.append(f"CSTA link disabled ({why})")
        return
    if options.csta_port is not None:
        settings = attrs.evolve(settings, port=options.csta_port)
    csta = CstaServer(running.engine, settings, store=running.store.sibling(readonly=True))
    try:
        await csta.start()
    except UnsafeSettings as exc:
        raise StartupError(f"CSTA link refused to start: {exc}", configuration=True) from None
    except OSError as exc:
        if options.csta_port is not None:  # asked for on the command line: a hard error
            raise StartupError(
                f"CSTA link: cannot listen on {settings.host}:{settings.port}: {exc}"
            ) from None
        # The site's default port is taken (say, a second node on this host): MQTT still
        # serves, the banner says why CSTA does not.
        running.notes.append(f"CSTA link NOT started: {exc} (use --csta-port)")
        return
    running.csta = csta
    running.faces.append(csta)
