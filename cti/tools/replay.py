"""`cti replay`: rebuild a node's state from its event log, with a progress display."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cti.app.config import load_site
from cti.domain import CODEC, NodeState, evolve
from cti.store import SqliteStore


def replay_with_progress(store: SqliteStore, console: Console) -> NodeState:
    state = NodeState()
    total = store.last_seq()
    columns = (TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("replay", total=total)
        for rec in store.iter_from(1):
            state = evolve(state, CODEC.decode(rec.kind, rec.version, rec.data))
            if rec.seq % 10_000 == 0:
                progress.update(task, completed=rec.seq)
        progress.update(task, completed=total)
    return state


def run_replay(site_path: Path | None, data_dir: Path) -> int:
    console = Console(stderr=True)
    site = load_site(site_path)
    path = data_dir / f"{site.node}.db"
    if not path.exists():
        console.print(f"[red]no event log at {path}[/]")
        return 1
    store = SqliteStore.open_readonly(path)
    started = time.perf_counter()
    state = replay_with_progress(store, console).calls
    took = time.perf_counter() - started
    console.print(
        f"replayed {store.last_seq()} events of epoch {store.epoch} in {took:.2f} s: "
        f"{len(state.calls)} open calls, {len(state.devices)} devices with state, "
        f"{len(state.timers)} timers"
    )
    store.close()
    return 0
