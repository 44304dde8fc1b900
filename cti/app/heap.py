"""What the cyclic garbage collector need not look at again: the heap a node starts with.

The site and the state replayed from the log live as long as the process. Every full
collection traversed all of it again (a few hundred thousand objects for a 2,000-device
site), and with the allocation rate of the MQTT path full collections come every few
seconds: in section 2 of the benchmarks they were ~13 % of the node process's CPU time per
call. Frozen, they are skipped; objects made later are collected as before, and frozen ones
are still freed when nothing refers to them (only cycles among them stay).
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what startup left, then freeze the rest: call once the log is replayed."""
    gc.collect()
    gc.freeze()


def release() -> None:
    """Hand the frozen heap back to the collector: call when the node stops, so a process that
    goes on (the tests, a benchmark starting another node) can free its cycles."""
    gc.unfreeze()
