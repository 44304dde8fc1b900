"""`cti replay`: rebuild a node's state from its event log, with a progress display."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cti.app.config import load_site
from cti.domain import CODEC, NodeState, evolve
from cti.store import EventStore, StoreError, archive, location


def replay_with_progress(
    store: EventStore, console: Console, archives: Path | None = None
) -> NodeState:
    """The state from seq 1: the archived events of ``archives`` (checked against their
    manifests and for gaps up to the log's first event), then the log."""
    state = NodeState()
    total = store.last_seq()
    found: list[archive.Manifest] = []
    if archives is not None:
        found = archive.manifests(archives, store.epoch)
        archive.chain(found, store.first_seq())
    elif store.first_seq() > 1:
        raise StoreError(
            f"the log starts at seq {store.first_seq()}: give the archive (--archive DIR)"
        )
    columns = (TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    # No bar where nobody watches one (a pipe, a journal): it would leave an empty line.
    quiet = not console.is_terminal
    with Progress(*columns, console=console, transient=True, disable=quiet) as progress:
        task = progress.add_task("replay", total=total)
        for manifest in found:
            archive.verify(archives or Path(), manifest)
        records = itertools.chain(
            archive.events(archives or Path(), found), store.iter_from(store.first_seq())
        )
        for rec in records:
            state = evolve(state, CODEC.decode(rec.kind, rec.version, rec.data))
            if rec.seq % 10_000 == 0:
                progress.update(task, completed=rec.seq)
        progress.update(task, completed=total)
    return state


def run_replay(
    site_path: Path | None,
    data_dir: Path,
    archives: Path | None = None,
    where: str = location.SQLITE,
) -> int:
    console = Console(stderr=True, soft_wrap=True)
    site = load_site(site_path)
    path = data_dir / f"{site.node}.db"
    if not location.is_postgres(where) and not path.exists():
        console.print(f"[red]cti replay: no event log at {path}[/]")
        return 1
    if archives is not None and not archives.is_dir():  # else replayed as if it had none
        console.print(f"[red]cti replay: no archive directory {archives}[/]")
        return 1
    store = location.open_reader(where, data_dir, site.node)
    started = time.perf_counter()
    try:
        state = replay_with_progress(store, console, archives).calls
    except StoreError as exc:
        console.print(f"cti replay: {exc}")
        store.close()
        return 1
    took = time.perf_counter() - started
    console.print(
        f"replayed {store.last_seq()} events of epoch {store.epoch} in {took:.2f} s: "
        f"{len(state.calls)} open calls, {len(state.devices)} devices with state, "
        f"{len(state.timers)} timers"
    )
    store.close()
    return 0
