"""Kill what a hung test left running once pytest-timeout has ended the run (Linux, /proc).

pytest-timeout's "thread" method ends a hung test's run with ``os._exit(1)``: the brokers,
servers and clients the test started outlive it, holding ports and CPU for the rest of a CI
run. ``tests/conftest.py`` starts this script shortly before the timeout, as
``python -I -S tests/reaper.py PID`` (standard library only). While the pytest process PID lives
it only notes PID's descendants, killing nothing a still-running test could notice (a hung test
cannot pass by it, and pytest-timeout's stack dump shows where it hung); once PID is gone it
SIGKILLs the noted processes that still run, and their descendants. It notes rather than looks
afterwards because an orphan's parent becomes init: its link to pytest is lost. Only pytest's
own tree, never the make that runs pytest; a process is known by its pid and its start time
(a pid can be reused). conftest kills this process when the test ends in time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

POLL = 0.1  # seconds; a child started in the last poll before pytest's exit is missed

Proc = tuple[int, int]  # pid, start time (clock ticks since boot)


def stat(pid: int) -> tuple[int, str, int] | None:
    """``pid``'s parent, state and start time; None when it has gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields follow its last ')'.
    fields = data[data.rindex(b")") + 2 :].split()
    return int(fields[1]), fields[0].decode(), int(fields[19])


def processes() -> dict[int, tuple[int, str, int]]:
    """Every process: its parent, state and start time."""
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (found := stat(int(name))) is not None:
            table[int(name)] = found
    return table


def descendants(roots: set[int], table: dict[int, tuple[int, str, int]]) -> set[Proc]:
    """The processes below ``roots`` (not the roots themselves)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[Proc] = set()
    todo = list(roots)
    while todo:
        for pid in children.get(todo.pop(), []):
            if (pid, table[pid][2]) not in found:
                found.add((pid, table[pid][2]))
                todo.append(pid)
    return found


def running(proc: Proc, table: dict[int, tuple[int, str, int]]) -> bool:
    """Whether ``proc`` still runs (a zombie has ended; a reused pid is another process)."""
    pid, start = proc
    return pid in table and table[pid][2] == start and table[pid][1] != "Z"


def main(pytest_pid: int) -> int:
    me = os.getpid()
    table = processes()
    if os.getppid() != pytest_pid or pytest_pid not in table:
        return 0  # pytest ended before this could note anything
    pytest = (pytest_pid, table[pytest_pid][2])
    noted: set[Proc] = set()
    while running(pytest, table):
        # Kept after they leave pytest's tree: a daemon that forks away is still the test's.
        noted |= {p for p in descendants({pytest_pid}, table) if p[0] != me}
        time.sleep(POLL)
        table = processes()
    left = {p for p in noted if running(p, table)}
    left |= descendants({pid for pid, _ in left}, table)
    for pid, _ in sorted(left):
        with contextlib.suppress(ProcessLookupError):  # ended by itself meanwhile
            os.kill(pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
