"""Event documents are built field by field for speed; they must equal the generic
converter's rendering (the store's JSON, camelCased) for every kind of event."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson

from cti.accounts.commands import (
    AccountSeed,
    SeedAccounts,
    SetAssignedPhone,
    SetDialMethod,
    SetProfileChecked,
)
from cti.accounts.model import Role, Visibility
from cti.api.documents import camel, event_doc, iso
from cti.app.node import Committed, decode
from cti.calls import commands as c
from cti.calls.values import ForwardingType
from cti.domain import CODEC, EVENT_TYPES, INTERNAL_KINDS
from cti.presence.commands import SetPresence, SetPresenceForwarding
from cti.presence.model import Status, TargetKind
from cti.site import DialMethod
from cti.store import SqliteStore
from tests.office import Office

BERND = AccountSeed(
    name="331",
    display_name="Bernd Vogel",
    role=Role.USER,
    devices=("331",),
    licences=frozenset(),
    password=None,
    broker_password=None,
    must_change=False,
)


def reference(item: Committed) -> dict[str, Any]:
    raw = CODEC.unstructure(item.event)
    doc: dict[str, Any] = {"seq": item.seq, "ts": iso(item.ts_ms), "event": item.event.KIND}
    local = raw.pop("local", None)
    doc.update({camel(k): v for k, v in raw.items()})
    if local is not None:
        doc["connections"] = [{"device": d, "state": s} for d, s in local]
    return doc


def frozen_logs(tmp_path: Path) -> list[list[Committed]]:
    logs = []
    for path in sorted((Path(__file__).parent.parent / "frozen").glob("v*/node1.db")):
        copy = tmp_path / path.parent.name / "node1.db"
        copy.parent.mkdir()
        shutil.copy(path, copy)  # the committed file is never opened in place
        store = SqliteStore.open_readonly(copy)
        logs.append([decode(r) for r in store.read(1)])
        store.close()
    return logs


def test_event_docs_equal_the_generic_rendering_for_every_event_kind(tmp_path: Path) -> None:
    office = Office()
    held = office.talking("330", "331")
    office.do(c.HoldCall(call=held, device="331"))
    office.do(c.RetrieveCall(call=held, device="331"))
    consult = office.call_of(c.ConsultationCall(call=held, device="330", consulted="332"))
    office.do(c.AnswerCall(call=consult, device="332"))
    office.do(c.ConferenceCall(device="330"))
    office.do(c.ClearConnection(call=held, device="332"))
    office.do(c.ClearCall(call=held))
    office.do(
        c.SetForwarding(
            device="331", forwarding_type=ForwardingType.NO_ANSWER, on=True, destination="332"
        )
    )
    office.do(c.SetDoNotDisturb(device="333", on=True))
    ringing = office.call_of(c.MakeCall(calling="330", called="331"))
    office.do(c.DeflectCall(call=ringing, device="331", to="+4930123456"))
    office.do(c.ClearCall(call=ringing))
    office.call_of(c.MakeCall(calling="330", called="333"))  # DND: failed
    a = office.talking("336", "337")
    b = office.call_of(c.ConsultationCall(call=a, device="336", consulted="338"))
    office.do(c.AnswerCall(call=b, device="338"))
    office.do(c.TransferCall(device="336"))
    office.do(SetAssignedPhone(user="340", phone="338"))
    office.do(SetDialMethod(user="335", dial_method=DialMethod.CTI_ASSOCIATED))
    office.do(SeedAccounts(accounts=(BERND,)))
    office.do(
        SetProfileChecked(
            name="331", email="b@example.com", presence_visibility=Visibility.NOT_VISIBLE
        )
    )
    office.do(
        SetPresence(user="331", status=Status.MEETING, return_at=office.clock.now_ms() + 1000)
    )
    office.do(
        SetPresenceForwarding(
            user="331", status=Status.MEETING, target=TargetKind.NUMBER, number="332"
        )
    )
    office.clock.advance(1)
    office.node.fire_due_timers()  # returnTimePassed (PRES-02)
    # The later contexts' events (voicemail, conferences, DTMF, ...) from the frozen logs, which
    # hold every kind of their version (tests/frozen).
    published = [
        x for log in frozen_logs(tmp_path) for x in log if x.event.KIND not in INTERNAL_KINDS
    ]
    seen = office.committed() + published
    kinds = {x.event.KIND for x in seen}
    assert set(EVENT_TYPES) - INTERNAL_KINDS <= kinds, set(EVENT_TYPES) - INTERNAL_KINDS - kinds
    for item in seen:
        doc = event_doc(item)
        assert doc == reference(item), item.event
        assert orjson.loads(orjson.dumps(doc)) == reference(item)


def test_late_acknowledgements_of_an_abandoned_connection_are_ignored() -> None:
    """After a reconnect the outbox tracks the new connection's batches only: an
    acknowledgement still arriving on the old one must not move the saved position."""
    from cti.mqtt.face.outbox import Outbox
    from cti.mqtt.topics import Topics
    from cti.store import MemoryStore

    office = Office()
    outbox = Outbox(office.node, MemoryStore(), Topics("node1"))
    outbox._run = 2  # the second connection
    outbox._tracking.append(7)
    outbox._ack(1)  # from the first connection
    assert outbox.acked == 0 and list(outbox._tracking) == [7]
    outbox._ack(2)
    assert outbox.acked == 7 and not outbox._tracking
