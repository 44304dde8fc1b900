"""`cti archive`: retention of a stopped node's log (specs/store.md, "Retention").

Keeps the newest ``--keep`` events in the log and moves the older ones into a verified archive:
it takes a snapshot at the end of the log (what a restart starts from), never drops what a
follower has not yet taken (the MQTT outbox's acknowledged position, the call records'
position), writes the archive, reads it back against its hash, and only then deletes those
events from the log. ``--verify`` checks every archive of the log and that archives and log
together run gap-free from seq 1.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from cti.app.clock import SystemClock
from cti.app.config import load_site
from cti.app.keys import with_conference_key
from cti.app.node import Node
from cti.calls.records_db import CallRecordsDb
from cti.mqtt.face.outbox import POSITION_KEY
from cti.site import Site
from cti.store import EventStore, StoredEvent, StoreError, archive, location


def run_archive(
    site_path: Path | None,
    data_dir: Path,
    *,
    keep: int,
    to: Path | None,
    verify: bool,
    where: str = location.SQLITE,
) -> int:
    console = Console(stderr=True, highlight=False, soft_wrap=True)  # one line per message
    site = load_site(site_path)
    directory = to or data_dir / "archive"
    if not location.exists(where, data_dir, site.node):  # else the writer would make one
        console.print(
            f"cti archive: no event log at {location.describe(where, data_dir, site.node)}"
        )
        return 1
    try:
        # The writer's lock: the node must be stopped.
        with contextlib.closing(location.open_writer(where, data_dir, site.node)) as store:
            if verify:
                found = archive.manifests(directory, store.epoch)
                for manifest in found:
                    archive.verify(directory, manifest)
                archive.chain(found, store.first_seq())
                console.print(
                    f"{len(found)} archives verified: with the log they hold every event "
                    f"from seq 1 to {store.last_seq()}"
                )
                return 0
            upto = cutoff(store, site, data_dir, keep)
            first = store.first_seq()
            if upto < first:
                console.print(f"nothing to archive: the log holds {first}..{store.last_seq()}")
                return 0
            manifest = archive.write(directory, site.node, store.epoch, until(store, first, upto))
            archive.verify(directory, manifest)  # read back before anything is dropped
            dropped = store.drop_before(upto + 1)
    except StoreError as exc:  # a running node (the lock), a damaged archive, a full disk
        console.print(f"cti archive: {exc}")
        return 1
    console.print(
        f"archived {manifest.count:,} events ({manifest.first}..{manifest.last}) to "
        f"{manifest.path(directory)}; dropped {dropped:,} from the log"
    )
    return 0


def until(store: EventStore, first: int, upto: int) -> Iterator[StoredEvent]:
    for event in store.iter_from(first):
        if event.seq > upto:
            return
        yield event


def cutoff(store: EventStore, site: Site, data_dir: Path, keep: int) -> int:
    """The last seq that may go: before the newest ``keep`` events and the last one, taken
    by every follower, and covered by a snapshot (one is taken now, at the end of the log)."""
    # A restart starts here, after what is dropped; decided with the node's own PIN key, as
    # `cti serve` would (a snapshot holds no key, but replay must not warn of a random one).
    data_dir.mkdir(parents=True, exist_ok=True)  # the key's place, as `cti serve` makes it
    Node(with_conference_key(site, data_dir), store, SystemClock()).snapshot()
    last = store.last_seq()
    limits = [last - keep, last - 1]  # the last event stays: the sequence goes on from it
    published = store.get_meta(POSITION_KEY)
    limits.append(int(published) if published is not None else 0)
    records = data_dir / f"{site.node}.calls.db"
    if records.exists():
        db = CallRecordsDb.open_readonly(records)
        try:
            limits.append(db.position())
        finally:
            db.close()
    return min(limits)
