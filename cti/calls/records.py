"""Call records: one row per call, folded from the call's events (a read model).

What an operator or a journal needs to find a call again: when it started, was answered and
ended, who called whom, who answered, which devices took part, how it ended, and the range of
the log (``first_seq``..``last_seq``) that holds its events. A call merged into another by a
transfer or conference ends there (``merged_into``). Pure: the same events always give the same
rows, so the stored read model can be checked against a rebuild from the log.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

import attrs

from cti.calls import events as ev
from cti.calls.values import ConnectionState
from cti.kernel.messages import Event


@attrs.frozen
class CallRecord:
    call: int
    first_seq: int
    last_seq: int
    started_ms: int
    origin: str = ""  # the device the call started at
    calling: str = ""  # the number presented as caller
    called: str = ""
    answered_by: str | None = None
    answered_ms: int | None = None
    group: str | None = None  # MULAP number the call was offered to (CALL-14)
    parties: tuple[str, ...] = ()  # every device that took part, in order of joining
    ended_ms: int | None = None
    end_cause: str | None = None  # the cause of callCleared, or "merged"
    merged_into: int | None = None  # the call a transfer or conference merged this one into


_FIELDS = tuple(f.name for f in attrs.fields(CallRecord))


def _evolve(rec: CallRecord, change: dict[str, Any]) -> CallRecord:
    """``attrs.evolve`` without its per-call introspection (every event of the log comes
    through here when the journal is rebuilt)."""
    return CallRecord(*[change[n] if n in change else getattr(rec, n) for n in _FIELDS])


def _joined(parties: tuple[str, ...], devices: Iterable[str]) -> tuple[str, ...]:
    new = [d for d in dict.fromkeys(devices) if d not in parties]
    return (*parties, *new) if new else parties


def apply(
    records: MutableMapping[int, CallRecord], seq: int, ts_ms: int, event: Event
) -> list[int]:
    """Fold one committed event into ``records`` (open calls by id, loaded by the caller);
    returns the ids of the records it changed."""
    if not isinstance(event, ev.CallEvent):
        return []
    changed = [event.call]
    rec = records.get(event.call) or CallRecord(event.call, seq, seq, ts_ms)
    joined = (e.device for e in event.local if e.state is not ConnectionState.NULL)
    # One evolve per event (the journal folds every event of the log through here).
    change: dict[str, Any] = {"last_seq": seq}
    parties = _joined(rec.parties, joined)
    if parties is not rec.parties:
        change["parties"] = parties
    if isinstance(event, ev.ServiceInitiated):
        change.update(origin=event.device, calling=event.calling, called=event.called)
    elif isinstance(event, ev.Originated):
        change["called"] = event.called
    elif isinstance(event, ev.Delivered):
        if not rec.calling:  # a call from outside the site starts with its first offer
            change.update(calling=event.calling, called=event.called)
        if event.group is not None and rec.group is None:
            change["group"] = event.group
    elif isinstance(event, ev.Established) and rec.answered_by is None:
        if event.answering != rec.origin:  # not a mobility callback reaching its own mobile
            change.update(answered_by=event.answering, answered_ms=ts_ms)
    elif isinstance(event, ev.CallCleared):
        change.update(ended_ms=ts_ms, end_cause=str(event.cause))
    elif isinstance(event, ev.Transferred | ev.Conferenced) and event.secondary_call is not None:
        merged = records.get(event.secondary_call)
        if merged is not None:
            records[merged.call] = attrs.evolve(
                merged, last_seq=seq, ended_ms=ts_ms, end_cause="merged", merged_into=event.call
            )
            changed.append(merged.call)
    rec = _evolve(rec, change)
    records[event.call] = rec
    return changed


def fold(items: Iterable[tuple[int, int, Event]]) -> dict[int, CallRecord]:
    """Every call record of a log, rebuilt from ``(seq, ts_ms, event)`` in order."""
    records: dict[int, CallRecord] = {}
    for seq, ts_ms, event in items:
        apply(records, seq, ts_ms, event)
    return records
