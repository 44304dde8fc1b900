"""`cti demo`: a scripted office day through the real engine, printing the event stream.

Every step is a command a UI or phone would send; every line printed is a committed event
with its global sequence number, as a monitor of the devices would receive it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import attrs
from rich.console import Console

from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.keys import with_conference_key
from cti.app.node import Accepted, Committed, Node
from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.values import ForwardingType
from cti.store import EventStore, MemoryStore, SqliteStore, StoreError

console = Console(highlight=False, soft_wrap=True)  # an event a line, also in a pipe (grep)


def _describe(committed: Committed) -> str:
    e = committed.event
    fields = {
        f.name: getattr(e, f.name)
        for f in attrs.fields(type(e))
        if f.name not in ("local", "cause") and getattr(e, f.name) is not None
    }
    extra = " ".join(f"{k}={v}" for k, v in fields.items() if v not in ((), ""))
    line = f"[dim]{committed.seq:>5}[/] [bold]{e.KIND:<17}[/] {extra}"
    if isinstance(e, ev.CallEvent):
        local = ", ".join(f"{x.device}:{x.state}" for x in e.local)
        line += f" [cyan]cause={e.cause}[/] [dim]local=({local})[/]"
    return line


#: Meta key of a log the demo made: it goes on only with such a log (or a new one).
DEMO_KEY = "demo.log"


def demo_log(path: Path) -> SqliteStore:
    """The demo's log at ``path``: a new one, or one an earlier demo made. A node's log (a
    --data-dir of `cti serve`'s given by mistake) is refused with StoreError, untouched:
    the scripted day would otherwise be appended to it as if it had happened there."""
    if path.exists():
        # Looked at read-only first: opened for writing, an older node's log would be
        # migrated (and put in WAL mode) before the refusal.
        with contextlib.closing(SqliteStore.open_readonly(path)) as seen:
            if seen.last_seq() > 0 and seen.get_meta(DEMO_KEY) is None:
                raise StoreError(
                    f"{path} is a node's event log, not one the demo made: give the demo a "
                    "--data-dir of its own (default ./data/demo)"
                )
    store = SqliteStore(path)
    store.set_meta(DEMO_KEY, "1")
    return store


def run_demo(site_path: Path | None, data_dir: Path | None) -> int:
    site = load_site(site_path)
    store: EventStore
    if data_dir is None:
        store = MemoryStore()
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        store = demo_log(data_dir / f"{site.node}.db")
        site = with_conference_key(site, data_dir)  # a kept log's PINs, as `cti serve`'s
    clock = ManualClock()
    node = Node(site, store, clock)

    printed = node.state.seq

    def show_new() -> None:
        """Print what was committed since the last call (the node's commit feed)."""
        nonlocal printed
        for item in node.feed.read(printed + 1, node.feed.capacity) or []:
            console.print(_describe(item))
            printed = item.seq

    console.print(
        f"[bold]cti demo[/] node={site.node} log={data_dir or 'memory'} "
        f"starting at seq {node.state.seq}\n"
    )

    def step(title: str, command: c.Command) -> int | None:
        console.print(f"\n[yellow]» {title}[/]  [dim]{command!r}[/]")
        outcome = node.execute(command)
        show_new()
        if isinstance(outcome, Accepted):
            call = outcome.result.get("call")
            return call if isinstance(call, int) else None
        console.print(f"  [red]refused[/] {outcome.error.name}: {outcome.error.message}")
        return None

    first = step("Anna (330) calls Bernd (331) by CTI", c.MakeCall(calling="330", called="331"))
    assert first is not None
    step("Bernd answers", c.AnswerCall(call=first, device="331"))
    consult = step(
        "Anna consults Clara (332)", c.ConsultationCall(call=first, device="330", consulted="332")
    )
    assert consult is not None
    step("Clara answers", c.AnswerCall(call=consult, device="332"))
    step("Anna transfers Bernd to Clara", c.TransferCall(device="330"))
    step("Clara hangs up", c.ClearConnection(call=first, device="332"))
    sip = step("Dieter (333, SIP phone) calls Anna", c.MakeCall(calling="333", called="330"))
    if sip is not None:
        step("Anna answers", c.AnswerCall(call=sip, device="330"))
        step(
            "Dieter tries a consultation: SIP phones cannot (CALL-13)",
            c.ConsultationCall(call=sip, device="333", consulted="332"),
        )
        step("Dieter hangs up", c.OnHook(device="333"))
    ext = step(
        "A customer (+49 30 1234567) calls the sales MULAP 340",
        c.Dial(device="+49301234567", digits="+49 89 7007 340"),
    )
    assert ext is not None
    step("Sales phone 338 answers; 337 stops ringing", c.AnswerCall(call=ext, device="338"))
    step(
        "Sales forwards the customer to voicemail (single step)",
        c.SingleStepTransferCall(call=ext, device="338", to="351"),
    )
    step("Voicemail is done", c.ClearCall(call=ext))
    step(
        "Eva (335, callback preferred) calls +44 20 7946 0958",
        c.MakeCall(calling="335", called="+44 20 7946 0958"),
    )
    mobile = node.state.calls.device("+491701234567").calls
    if mobile:
        step(
            "Eva answers on her mobile; now the destination rings",
            c.AnswerCall(call=mobile[0], device="+491701234567"),
        )
        step("The destination answers", c.AnswerCall(call=mobile[0], device="+442079460958"))
        step("Eva hangs up", c.ClearConnection(call=mobile[0], device="+491701234567"))
    step(
        "Bernd forwards on no answer after 10 s to Clara",
        c.SetForwarding(
            device="331",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="332",
            ring_time=10,
        ),
    )
    ring = step("Anna calls Bernd", c.MakeCall(calling="330", called="331"))
    console.print("\n[yellow]» 10 seconds pass[/]")
    clock.advance(10)
    node.fire_due_timers()
    show_new()
    if ring is not None:
        step("Clara picks up the forwarded call", c.AnswerCall(call=ring, device="332"))
        step("Anna hangs up", c.ClearConnection(call=ring, device="330"))
    step(
        "Bernd switches forwarding off",
        c.SetForwarding(device="331", forwarding_type=ForwardingType.NO_ANSWER, on=False),
    )
    console.print(
        f"\n[bold]done[/]: log at seq {node.state.seq}, "
        f"{len(node.state.calls.calls)} calls left open"
    )
    store.close()
    return 0
