"""What a hung asyncio test is waiting for (tests/conftest.py arms it before pytest-timeout).

pytest-timeout's own dump shows threads; for an asyncio test it shows the main thread idle in
``select`` and nothing of what the test awaits. This prints every task of every running event
loop with the whole chain of coroutines it is suspended in (``Task.print_stack`` shows only a
suspended task's outermost frame), down to the future at the bottom.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any, TextIO


def running_loops() -> list[asyncio.AbstractEventLoop]:
    """The event loops running in any thread (the test's is not reachable by name from the
    timer's thread)."""
    return [o for o in gc.get_objects() if isinstance(o, asyncio.BaseEventLoop) and o.is_running()]


def awaiting(coro: Any) -> list[str]:
    """Where ``coro`` is suspended: one line per coroutine of the chain, outermost first, and
    what the innermost one awaits."""
    lines: list[str] = []
    while coro is not None:
        frame = _first(coro, "cr_frame", "gi_frame", "ag_frame")
        if frame is None:
            lines.append(f"  awaiting {coro!r}"[:300])
            break
        code = frame.f_code
        lines.append(f'  File "{code.co_filename}", line {frame.f_lineno}, in {code.co_name}')
        coro = _first(coro, "cr_await", "gi_yieldfrom", "ag_await")
    return lines


def _first(obj: Any, *names: str) -> Any:
    """The first of ``obj``'s attributes ``names`` that is set (coroutine, generator or async
    generator spell them differently)."""
    return next((v for v in (getattr(obj, n, None) for n in names) if v is not None), None)


def dump_tasks(out: TextIO = sys.__stderr__ or sys.stderr) -> None:
    """Print every task of every running loop and where it waits (safe enough from another
    thread while the loop is idle, which is when a hung test is looked at)."""
    for loop in running_loops():
        tasks = list(asyncio.all_tasks(loop))
        print(f"\n---- {len(tasks)} asyncio tasks of {loop!r} ----", file=out)
        for task in sorted(tasks, key=lambda t: t.get_name()):
            print(f"{task!r}"[:400], file=out)
            for line in awaiting(task.get_coro()):
                print(line, file=out)
        print("---- end of asyncio tasks ----", file=out, flush=True)
