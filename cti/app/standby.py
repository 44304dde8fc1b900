"""Hot standby and the writer's lease (specs/store.md, "Hot standby"; issue 19 item 2).

A node started with ``--standby`` whose PostgreSQL log is held by another writer does not
exit: it replays the log, follows it (``Node.catch_up``) and tries the lock every ``POLL``
seconds. The lock is free once the active writer's session ends (its process died, or the
server cut it); then this process takes it under the next term, applies what is left of the
log and starts like any node. The active node, for its part, checks its lease every
``LEASE_CHECK`` seconds (and before every MQTT connect): once another writer has a newer
term, or its own session lost the lock, it is *fenced* and stops without publishing. While
the database does not answer, the lease is unknown (/healthz: the store is down); unknown for
so long that a standby could soon take it over (``LEASE_TIMEOUT`` after the last answer, the
earliest), the writer stops first.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import structlog

from cti.app.clock import Clock
from cti.app.follower import supervised
from cti.app.node import Node
from cti.store import StoreError

if TYPE_CHECKING:  # psycopg loads only for a PostgreSQL log (cti/store/location.py)
    from cti.store.postgres import PostgresStore

log = structlog.get_logger(__name__)
POLL = 0.2  # seconds between tries of the lock, each with a catch-up of the log
RETRY = 1.0  # seconds before trying again after the database did not answer
LEASE_CHECK = 0.5  # seconds between the active writer's checks of its lease
# Seconds a caller waits for a lease check's answer before it counts as unknown (the check
# itself may wait LEASE_LOCK_TIMEOUT for a lock, a reconnect CONNECT_TIMEOUT).
CHECK_WAIT = 3.0
MARGIN = 1.0  # seconds the writer stops before the earliest takeover, at least


class Standby:
    """What a standing-by node does and shows (/healthz): whom it waits for, how far it is."""

    def __init__(self, node: Node, store: PostgresStore) -> None:
        self.node, self.store = node, store
        self.holder, self.term = store.holder()
        self.error: str | None = None  # the last database error, while it lasts
        self.since = time.monotonic()

    def doc(self) -> dict[str, Any]:
        """The /healthz document of a standby (cti/ops/health.py)."""
        doc: dict[str, Any] = {
            "status": "standby",
            "node": self.node.site.node,
            "seq": self.node.state.seq,
            "active": {"writer": self.holder, "term": self.term},
        }
        if self.error is not None:
            doc["error"] = self.error
        return doc

    async def wait(self) -> float:
        """Follow the log until this process holds it; the seconds it stood by."""
        while True:
            try:
                taken = await asyncio.to_thread(self._step)
            except StoreError as exc:
                if not self.store.standing_by:
                    raise  # the writer's own connection failed: restart and replay
                # The database away for a moment: keep standing by.
                if self.error is None:
                    log.warning("standby.store_error", error=str(exc))
                self.error = str(exc)
                await asyncio.sleep(RETRY)
                continue
            self.error = None
            if taken:
                waited = time.monotonic() - self.since
                log.info("standby.took_over", seq=self.node.state.seq, term=self.store.term)
                return waited
            await asyncio.sleep(POLL)

    def _step(self) -> bool:
        # The lock first: once it is ours (and the term with it), the old writer can append
        # nothing more, so the catch-up after it reads the log to its end.
        taken = self.store.take_over()
        self.node.catch_up()
        if not taken:
            self.holder, self.term = self.store.holder()
        return taken


class LeaseWatch:
    """A Face of the active writer: ``fenced`` resolves (with one line) once its lease is
    lost, ``lost`` once it could not be confirmed for longer than ``timeout`` (the database
    out of reach: a standby may hold it by now); ``holds()`` asks now (the MQTT face, before
    it connects as the node). ``error`` says why the lease is unknown, while it is (/healthz
    shows the store down)."""

    name = "lease"

    def __init__(self, store: PostgresStore, clock: Clock) -> None:
        from cti.store.postgres import LEASE_TIMEOUT  # psycopg: only for a PostgreSQL log

        self.store = store  # a sibling's connection of the writer: the writer's may be busy
        # The writer stops before a standby can take over: LEASE_TIMEOUT after the last
        # answered check at the earliest. It learns of a silence up to a check's wait and
        # the pause between checks late, and a confirmation counts from when it was asked.
        self.takeover = LEASE_TIMEOUT
        self.clock, self.timeout = clock, LEASE_TIMEOUT - CHECK_WAIT - LEASE_CHECK - MARGIN
        loop = asyncio.get_running_loop()
        self.fenced: asyncio.Future[str] = loop.create_future()
        self.lost: asyncio.Future[str] = loop.create_future()
        self.error: str | None = None
        self._confirmed_ms = clock.now_ms()  # the node's clock: tests move it by hand
        self._asked_ms = self._confirmed_ms  # when the check in flight was asked
        # The check in flight, shared by every caller: one question at a time on the
        # connection, and one that hangs (a dead network) is waited for, not asked again.
        self._check: asyncio.Future[str | None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Supervised like the followers: a failure is logged and the watch goes on.
        self._task = asyncio.create_task(supervised(self.name, self._watch), name="lease")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    @property
    def ended(self) -> bool:
        return self.fenced.done() or self.lost.done()

    async def holds(self) -> bool:
        """Whether this writer still holds the log. Unknown (the database does not answer):
        yes for ``timeout`` seconds after the last confirmation, as long as no standby can
        have taken it (fencing is decided by the database, never by a guess); no after."""
        if self.ended:
            return False
        if self._check is None or self._check.done():
            self._asked_ms = self.clock.now_ms()
            self._check = asyncio.ensure_future(asyncio.to_thread(self.store.lease_lost))
            # Its failure may come after every caller stopped waiting (answered "unknown").
            self._check.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            async with asyncio.timeout(CHECK_WAIT):
                why = await asyncio.shield(self._check)
        except TimeoutError:
            return self._unknown(
                f"the lease check on {self.store.where} got no answer within {CHECK_WAIT:g} s"
            )
        except StoreError as exc:
            return self._unknown(str(exc))
        if self.ended:  # decided by another caller meanwhile
            return False
        if why is not None:
            log.error("lease.lost", reason=why)
            self.fenced.set_result(why)
            return False
        if self.error is not None:
            log.info("lease.confirmed")
        self.error = None
        self._confirmed_ms = self._asked_ms  # it held then; later is not known
        return True

    def _unknown(self, error: str) -> bool:
        if self.error is None:  # once per outage, not at every check
            log.warning("lease.unknown", error=error)
        self.error = error
        silent = (self.clock.now_ms() - self._confirmed_ms) / 1000
        if silent <= self.timeout:
            return True
        why = (
            f"its lease could not be confirmed for {silent:.1f} s; a standby may take it over "
            f"{self.takeover:g} s after the last confirmation ({error})"
        )
        log.error("lease.timed_out", reason=why)
        self.lost.set_result(why)
        return False

    async def _watch(self) -> None:
        while await self.holds():
            await asyncio.sleep(LEASE_CHECK)
