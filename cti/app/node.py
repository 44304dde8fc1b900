"""The single writer of a node: decide -> append (durable) -> apply -> hand to the followers.

A batch of commands is decided one after another against the evolving state, its events are
appended to the store in one transaction (group commit), and only then does the new state
become current, the batch goes to the commit feed the log followers read (cti.app.feed) and
the commands get their answers. If the append fails, every command of the batch is refused and
the state stays as it was: nothing half-applied, nothing acknowledged lost. Nothing but this
runs in the writer: whatever reacts to events is a follower on a task of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs
import structlog

from cti.app.clock import Clock
from cti.app.committed import Committed as Committed  # re-exported: the followers' unit
from cti.app.committed import decode as decode
from cti.app.feed import CommitFeed
from cti.calls.commands import FireTimer
from cti.calls.views import touched_devices
from cti.domain import CODEC, NodeState, answer, decide, evolve, snapshot
from cti.domain.model import timers
from cti.kernel.decision import Result
from cti.kernel.messages import Command, Event, Query
from cti.kernel.refusal import Refusal
from cti.site import Site
from cti.site.model import PROCESS_PIN_KEY
from cti.store import EventStore, Snapshot, StoredEvent, StoreError

log = structlog.get_logger(__name__)


@attrs.frozen
class Accepted:
    result: Result
    events: tuple[Committed, ...]

    ok = True


@attrs.frozen
class Refused:
    error: Refusal

    ok = False


Outcome = Accepted | Refused


@attrs.define
class Batch:
    """Commands decided together and committed in one append."""

    state: NodeState = attrs.field(factory=NodeState)
    staged: list[Committed] = attrs.field(factory=list)
    slots: list[tuple[int, int, Result]] = attrs.field(factory=list)  # per command: event range
    refusals: dict[int, Refused] = attrs.field(factory=dict)


@attrs.define
class DeviceChanges:
    """Per device, the seq of the last event that touched it (its MULAP group and mobility
    user too): the ``seq`` of its state document (specs/mqtt.md). Devices not touched since
    the node loaded have ``base``, the seq of the snapshot it started from (0 without one):
    never below the events their state reflects, and the same for every unchanged device."""

    site: Site
    base: int = 0
    seqs: dict[str, int] = attrs.field(factory=dict)

    def note(self, seq: int, events: Iterable[Event]) -> None:
        for device in touched_devices(events, self.site):
            self.seqs[device] = seq

    def of(self, device: str) -> int:
        return self.seqs.get(device, self.base)


def replay(
    store: EventStore, *, use_snapshot: bool = True, changes: DeviceChanges | None = None
) -> NodeState:
    """State from the latest snapshot plus the events after it (or the whole log); with
    ``changes``, which devices the replayed events touched."""
    state = NodeState()
    snap = store.latest_snapshot() if use_snapshot else None
    if snap is not None:
        try:
            state = snapshot.decode(snap.data)
        except snapshot.StaleSnapshot as exc:  # written by an older version: replay it all
            log.info("node.snapshot_ignored", reason=str(exc))
    if changes is not None:
        changes.base = state.seq
    expected = state.seq + 1
    for rec in store.iter_from(expected):
        if rec.seq != expected:  # only after retention (cti archive): the start is archived
            raise StoreError(
                f"the log holds events from seq {rec.seq}, the state needs them from "
                f"{expected}: restore the archive first (specs/store.md, retention)"
            )
        event = CODEC.decode(rec.kind, rec.version, rec.data)
        state = evolve(state, event)
        if changes is not None:
            changes.note(rec.seq, (event,))
        expected += 1
    last = store.last_seq()
    return attrs.evolve(state, seq=last) if state.seq != last else state


class Node:
    def __init__(
        self,
        site: Site,
        store: EventStore,
        clock: Clock,
        *,
        snapshot_every: int = 100_000,
    ) -> None:
        self.site = site
        self.store = store
        self.clock = clock
        self.snapshot_every = snapshot_every
        self.changes = DeviceChanges(site)
        self.state = replay(store, changes=self.changes)
        self._last_snapshot = self.state.seq
        self.feed = CommitFeed(self.state.seq)
        # Read models that answer requests, by name (the directory's search index): set by
        # whoever runs them (cti.app.bootstrap), asked by the API (cti.api.directory).
        self.read_models: dict[str, object] = {}
        log.info(
            "node.loaded", node=site.node, seq=self.state.seq, calls=len(self.state.calls.calls)
        )
        if site.conferences is not None and site.conferences.pin_key is PROCESS_PIN_KEY:
            # Not started by ``cti serve`` (tests, embedding): PINs change with every restart.
            log.warning("node.conference_key_ephemeral", node=site.node)

    def catch_up(self) -> int:
        """Apply what another writer appended since (a hot standby following the log, before
        it writes itself: nothing may follow this node's feed yet); the events applied."""
        state, seq = self.state, self.state.seq
        for rec in self.store.iter_from(seq + 1):
            if rec.seq != seq + 1:
                raise StoreError(f"the log jumped from seq {seq} to {rec.seq}")
            event = CODEC.decode(rec.kind, rec.version, rec.data)
            state, seq = evolve(state, event), rec.seq
            self.changes.note(seq, (event,))
        applied = seq - self.state.seq
        if applied:
            self.state = attrs.evolve(state, seq=seq)
            self._last_snapshot = self.state.seq  # the active writer snapshots, not a standby
            self.feed = CommitFeed(self.state.seq)
        return applied

    # -- the write path ---------------------------------------------------------------------
    def prepare(
        self, commands: Iterable[Command], principals: Sequence[str | None] | None = None
    ) -> Batch:
        """Decide a batch against the current state without touching it; ``principals`` name
        the account that sent each command (None: the node itself)."""
        state = self.state
        now = self.clock.now_ms()
        batch = Batch()
        for i, command in enumerate(commands):
            principal = None if principals is None else principals[i]
            try:
                decision = decide(self.site, state, command, now, principal)
            except Refusal as err:
                batch.refusals[len(batch.slots)] = Refused(err)
                batch.slots.append((0, 0, {}))
                continue
            except Exception:  # a bug must cost one command, never the node
                log.exception("decide.crashed", command=repr(command))
                batch.refusals[len(batch.slots)] = Refused(
                    Refusal("generic", "internal error; see the server log")
                )
                batch.slots.append((0, 0, {}))
                continue
            first = len(batch.staged)
            for event in decision.events:
                batch.staged.append(Committed(self.state.seq + len(batch.staged) + 1, now, event))
            batch.slots.append((first, len(batch.staged), decision.result))
            state = decision.state
        batch.state = (
            attrs.evolve(state, seq=self.state.seq + len(batch.staged)) if batch.staged else state
        )
        return batch

    def append(self, batch: Batch) -> None:
        """Make the batch durable (may run in a worker thread)."""
        if batch.staged:
            self.store.append(
                [
                    StoredEvent(
                        c.seq, c.ts_ms, c.event.KIND, CODEC.encode(c.event), c.event.VERSION
                    )
                    for c in batch.staged
                ]
            )

    def commit(self, batch: Batch, failure: StoreError | None = None) -> list[Outcome]:
        """Answer the batch; on success its state becomes current and listeners hear of it."""
        if failure is not None:
            log.error("store.append_failed", error=str(failure))
            err = Refused(Refusal("resourceOutOfService", f"event store write failed: {failure}"))
            return [batch.refusals.get(i, err) for i in range(len(batch.slots))]
        self.state = batch.state
        for item in batch.staged:
            self.changes.note(item.seq, (item.event,))
        outcomes: list[Outcome] = []
        for i, (first, end, result) in enumerate(batch.slots):
            refusal = batch.refusals.get(i)
            outcomes.append(refusal or Accepted(result, tuple(batch.staged[first:end])))
        if batch.staged:
            self.feed.extend(batch.staged)
            if self.state.seq - self._last_snapshot >= self.snapshot_every:
                try:
                    self.snapshot()
                except StoreError as exc:  # a snapshot only saves replay time: try later
                    log.error("node.snapshot_failed", seq=self.state.seq, error=str(exc))
                    self._last_snapshot = self.state.seq
        return outcomes

    def execute_batch(
        self, commands: Sequence[Command], principals: Sequence[str | None] | None = None
    ) -> list[Outcome]:
        batch = self.prepare(commands, principals)
        try:
            self.append(batch)
        except StoreError as exc:
            return self.commit(batch, exc)
        return self.commit(batch)

    def execute(self, command: Command, principal: str | None = None) -> Outcome:
        return self.execute_batch([command], [principal])[0]

    def device_seq(self, device: str) -> int:
        """The seq of the last event that changed ``device`` (see :class:`DeviceChanges`)."""
        return self.changes.of(device)

    # -- queries: read the committed state, record nothing ---------------------------------
    def query(self, query: Query, principal: str | None = None) -> object:
        """The answer to ``query`` from the committed state; raises Refusal."""
        return answer(self.site, self.state, query, principal)

    # -- time and snapshots -----------------------------------------------------------------
    def due_timers(self) -> list[Command]:
        """The commands of every due timer, the earliest first: the switch's (no-answer
        forwarding) and the other contexts' (a presence return time, PRES-02)."""
        now = self.clock.now_ms()
        due: list[tuple[int, Command]] = [
            (at, FireTimer(call=c, device=d, purpose=p))
            for (c, d, p), at in self.state.calls.timers.items()
        ]
        due += timers(self.state)
        return [command for at, command in sorted(due, key=lambda t: t[0]) if at <= now]

    def next_timer_ms(self) -> int | None:
        return min(
            [*self.state.calls.timers.values(), *(at for at, _ in timers(self.state))],
            default=None,
        )

    def fire_due_timers(self) -> list[Outcome]:
        return self.execute_batch(self.due_timers())

    def snapshot(self) -> None:
        self.store.save_snapshot(Snapshot(self.state.seq, snapshot.encode(self.state)))
        self._last_snapshot = self.state.seq
        log.info("node.snapshot", seq=self.state.seq)
