"""The fast paths of what the node publishes equal the straightforward code (issue 19).

The device views (CALL-11/12) and the JSON of events, device states and device events run for
every device and event of every commit batch, so they were rewritten for speed: one pass over a
call's parties, a peer's device looked up once, no ``attrs.evolve``, events serialized without
first converting their values, a device's copy of an event spliced from cached pieces. Here the
code they replaced (kept below as it was) checks them: on every state the call model's state
machine (test_call_model_properties.py) reaches, on every event of the frozen logs, and on
arbitrary device numbers.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, run_state_machine_as_test

from cti.accounts import settings as account_settings
from cti.api import documents
from cti.app.node import Committed, decode
from cti.calls import events as ev
from cti.calls.evolve import _changed
from cti.calls.services.allowed import allowed_services
from cti.calls.state import Call, Offer, Party, SwitchState
from cti.calls.values import Cause, ConnectionState
from cti.calls.views import (
    _PRIORITY,
    ConnectionView,
    DeviceView,
    Summary,
    device_view,
    touched_devices,
)
from cti.domain import NodeState
from cti.site.model import DeviceKind, Site
from cti.store import SqliteStore
from tests.calls.test_call_model_properties import CallModel
from tests.office import Office

FROZEN = sorted((Path(__file__).parent.parent / "frozen").glob("v*/node1.db"))


# -- the straightforward code, as it was before issue 19 ---------------------------------------
def reference_peer(site: Site, call: Call, device: str, st: ConnectionState) -> str | None:
    others = call.others(device)
    if st is ConnectionState.ALERTING:
        others = tuple(p for p in others if p.state is not ConnectionState.ALERTING)
    elif (
        call.group is not None
        and others
        and all(p.state is ConnectionState.ALERTING for p in others)
    ):
        return call.group
    if len(others) != 1:
        return None
    peer = others[0].device
    presented = site.device(call.calling)
    if (
        presented is not None
        and peer != call.calling
        and (site.mulap_of(peer) == call.calling or presented.mobile == peer)
    ):
        return call.calling
    return peer


def reference_connection(site: Site, state: SwitchState, call: Call, device: str) -> ConnectionView:
    st = call.state_of(device)
    others = call.others(device)
    peer = reference_peer(site, call, device, st)
    if st is ConnectionState.ALERTING and call.pending is None:
        external = site.is_external(peer or call.calling)
        summary = Summary.INCOMING_EXTERNAL if external else Summary.INCOMING_INTERNAL
    elif st is ConnectionState.HOLD:
        summary = Summary.HELD
    elif st is ConnectionState.CONNECTED and any(
        p.state in (ConnectionState.CONNECTED, ConnectionState.HOLD) for p in others
    ):
        external = (
            site.is_external(peer) if peer else any(site.is_external(p.device) for p in others)
        )
        summary = Summary.TALKING_EXTERNAL if external else Summary.TALKING_INTERNAL
    else:
        summary = Summary.OUTGOING
    dev = site.device(peer) if peer else None
    return ConnectionView(
        call=call.id,
        state=st,
        peer=peer,
        peer_name=(dev.name or None) if dev is not None else None,
        parties=tuple(p.device for p in others),
        summary=summary,
        allowed=allowed_services(site, state, device, call),
    )


def reference_group_connections(
    site: Site, state: SwitchState, group: str, members: tuple[str, ...]
) -> tuple[ConnectionView, ...]:
    chosen: dict[int, tuple[Call, str]] = {}
    for member in members:
        for call, now in state.connections(member):
            if call.group != group and call.calling != group:
                continue
            held = chosen.get(call.id)
            if held is None or (
                held[0].state_of(held[1]) is ConnectionState.ALERTING
                and now is not ConnectionState.ALERTING
            ):
                chosen[call.id] = (call, member)
    return tuple(
        attrs.evolve(reference_connection(site, state, call, member), via=member)
        for call, member in sorted(chosen.values(), key=lambda cm: cm[0].id)
    )


def reference_device_view(site: Site, node: NodeState, device: str) -> DeviceView:
    state = node.calls
    runtime = state.device(device)
    conns = tuple(
        reference_connection(site, state, call, device) for call, _ in state.connections(device)
    )
    dev = site.devices.get(device)
    if dev is not None and dev.mobile is not None:
        conns += tuple(
            attrs.evolve(reference_connection(site, state, call, dev.mobile), via=dev.mobile)
            for call, _ in state.connections(dev.mobile)
        )
    if dev is not None and dev.members:
        conns += reference_group_connections(site, state, dev.number, dev.members)
    summaries = {c.summary for c in conns}
    summary = next((s for s in _PRIORITY if s in summaries), None)
    if summary is None:
        summary = Summary.DND if runtime.dnd else Summary.IDLE
    return DeviceView(
        device=device,
        summary=summary,
        connections=conns,
        dnd=runtime.dnd,
        assigned_phone=None
        if dev is None or dev.kind is not DeviceKind.MULAP
        else account_settings.assigned_phone(node.accounts, dev),
        dial_method=None
        if dev is None or dev.mobile is None
        else account_settings.dial_method(node.accounts, dev),
        forwarding=tuple(
            (str(kind), fwd.destination, fwd.ring_time)
            for kind, fwd in sorted(runtime.forwarding.items())
        ),
    )


def reference_touched(events: Iterable[ev.Event], site: Site) -> set[str]:
    out: set[str] = set()
    for event in events:
        out.update(event.devices())
        if isinstance(event, ev.TimerSet | ev.TimerCleared):
            out.add(event.device)
    for device in list(out):
        owner = site.owner_of(device) or site.mulap_of(device)
        if owner is not None:
            out.add(owner)
    return out


def reference_device_event(body: bytes, device: str, state: ConnectionState) -> bytes:
    extra = orjson.dumps({"monitoredDevice": device, "localConnectionInfo": state.value})
    return body[:-1] + b"," + extra[1:]


def check_event(item: Committed) -> None:
    """The event's JSON, and each device's copy of it, as the straightforward code made them
    (events published or traced: the other INTERNAL ones, a contact say, are no JSON)."""
    if item.event.INTERNAL and item.event.KIND not in documents.TRACE_INTERNAL_KINDS:
        return
    body = documents.event_json(item)
    assert body == orjson.dumps(documents.event_doc(item)), item
    if isinstance(item.event, ev.CallEvent):
        for entry in item.event.local:
            assert documents.device_event(body, entry.device, entry.state) == (
                reference_device_event(body, entry.device, entry.state)
            )


# -- on every state the call model reaches -------------------------------------------------------
class FastPathsModel(CallModel):
    """The call model's machine, with one more invariant: the views of every device (with
    their state documents), the events and the devices they touch, as before issue 19."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = self.office.store.last_seq()  # events checked so far

    @invariant()
    def published_as_the_straightforward_code_makes_it(self) -> None:
        site, state = self.site, self.node.state
        new = [decode(r) for r in self.office.store.read(self.seen + 1, 10_000)]
        if not new and self.seen:
            return  # nothing changed: a refused command
        self.seen = state.seq
        for item in new:
            check_event(item)
            assert touched_devices([item.event], site) == reference_touched([item.event], site)
        assert touched_devices([x.event for x in new], site) == reference_touched(
            [x.event for x in new], site
        )
        numbers = set(site.devices) | {
            p.device for c in state.calls.calls.values() for p in c.parties
        }
        for number in sorted(numbers):
            view = device_view(site, state, number)
            assert view == reference_device_view(site, state, number), number
            # The state document is built from the view; checked against the rendering
            # that went through the generic converter before.
            doc = orjson.loads(documents.device_state(site, view, state.seq, 0))
            assert doc["summary"] == view.summary and len(doc["connections"]) == len(
                view.connections
            )


def test_fast_paths_agree_on_every_state_of_the_call_model() -> None:
    examples = max(10, settings().max_examples // 4)  # dev: 25, ci: 125
    run_state_machine_as_test(
        FastPathsModel, settings=settings(max_examples=examples, deadline=None)
    )


# -- on every event of the frozen logs ----------------------------------------------------------
@pytest.mark.parametrize("path", FROZEN, ids=[p.parent.name for p in FROZEN])
def test_event_json_of_every_frozen_event(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "node1.db"
    shutil.copy(path, copy)  # the committed file is never opened in place
    store = SqliteStore.open_readonly(copy)
    try:
        items = [decode(r) for r in store.iter_from(1)]
    finally:
        store.close()
    assert items
    for item in items:
        check_event(item)


# -- on arbitrary device numbers ----------------------------------------------------------------
@given(device=st.text(max_size=20), state=st.sampled_from(list(ConnectionState)))
def test_device_event_splices_any_device_number(device: str, state: ConnectionState) -> None:
    item = Committed(
        7,
        1_767_225_600_000,
        ev.Held(
            call=3,
            cause=Cause.NORMAL,
            local=(ev.Local("330", ConnectionState.HOLD), ev.Local(device, state)),
            device="330",
        ),
    )
    body = documents.event_json(item)
    spliced = documents.device_event(body, device, state)
    assert spliced == reference_device_event(body, device, state)
    doc = orjson.loads(spliced)
    assert (doc["monitoredDevice"], doc["localConnectionInfo"]) == (device, state.value)


def test_changed_is_attrs_evolve() -> None:
    """evolve's plain constructor call covers every field of a call."""
    call = Call(
        5,
        (Party("330", ConnectionState.CONNECTED), Party("331", ConnectionState.ALERTING)),
        "330",
        "331",
        pending="332",
        group="340",
        answered_by="337",
        offers=(("331", Offer("330", "331")),),
    )
    assert len(attrs.fields(Call)) == 8  # a new field must be kept by _changed too
    assert _changed(call) == call
    changes: list[dict[str, object]] = [
        {"called": "333"},
        {"pending": None},
        {"group": None, "offers": ()},
        {"answered_by": None, "called": "334", "pending": None},
    ]
    for change in changes:
        assert _changed(call, **change) == attrs.evolve(call, **change)  # type: ignore[arg-type]


def test_shown_by_is_the_mobility_user_or_the_mulap_group() -> None:
    site = Office().site
    numbers = [*site.devices, *(d.mobile for d in site.devices.values() if d.mobile), "+4930111"]
    for number in numbers:
        assert site.shown_by(number) == (site.owner_of(number) or site.mulap_of(number))
    assert {site.shown_by(n) for n in numbers} >= {"340", "336"}
