"""Old logs replay forever (specs/versioning.md).

``tests/frozen/v1/node1.db`` is a log written by the release that introduced event versions
(made by tests/frozen/make_log.py, never regenerated). It holds every event kind of that
release and leaves a rich state behind; ``expected.json`` is that state in a plain rendering.
Each future version must read it to the same state: renaming or dropping a field without
raising the event's VERSION and registering an upcaster fails here. When an event kind or
version is added, freeze a new log beside this one (v2/, ...) that contains it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import attrs
import pytest

from cti.accounts.model import Profile, Visibility
from cti.app.node import replay
from cti.domain import CODEC, EVENT_TYPES, NodeState
from cti.store import SqliteStore
from cti.voicemail import codec as voicemail_codec

HERE = Path(__file__).parent
FROZEN = sorted(p for p in HERE.glob("v*/node1.db"))


def render(state: NodeState) -> dict[str, Any]:
    """The state in plain data, from public attributes only (so it outlives refactorings)."""
    calls = state.calls
    return {
        "seq": state.seq,
        "next_call_id": calls.next_call_id,
        "calls": {
            str(call.id): {
                "parties": [[p.device, p.state.value] for p in call.parties],
                "calling": call.calling,
                "called": call.called,
                "pending": call.pending,
                "group": call.group,
                "answered_by": call.answered_by,
                "offers": {
                    dev: [o.calling, o.called, o.cause.value, o.redirecting]
                    for dev, o in call.offers
                },
            }
            for call in sorted(calls.calls.values(), key=lambda c: c.id)
        },
        "devices": {
            number: {
                "calls": list(rt.calls),
                "dnd": rt.dnd,
                "forwarding": {
                    kind.value: [f.destination, f.ring_time]
                    for kind, f in sorted(rt.forwarding.items())
                },
                "redial": list(rt.redial),
            }
            for number, rt in sorted(calls.devices.items())
        },
        "timers": sorted([c, d, p.value, due] for (c, d, p), due in calls.timers.items()),
        "accounts": {
            user: {
                "assigned_phone": s.assigned_phone,
                "dial_method": None if s.dial_method is None else s.dial_method.value,
            }
            for user, s in sorted(state.accounts.settings.items())
        },
        "users": {
            name: {
                "display_name": a.display_name,
                "role": a.role.value,
                "devices": list(a.devices),
                "licences": sorted(a.licences),
                "password": a.password,
                "broker_password": a.broker_password,
                "must_change": a.must_change,
                **({} if a.profile == Profile() else {"profile": render_profile(a.profile)}),
            }
            for name, a in sorted(state.accounts.accounts.items())
        },
        # Favourites (DIR-05; logs before v4-favourites have none, so their renderings lack it).
        **({"favourites": render_favourites(state)} if state.favourites.users else {}),
        # Logs before v4-presence have no presence, so their renderings do not show it.
        **({"presence": render_presence(state)} if state.presence.users else {}),
        # Logs before v4-directory have no personal directories (DIR-01).
        **({"directory": render_directory(state)} if state.directory.users else {}),
        # Logs before v5-journal have no pending journal reminders (JOUR-03).
        **({"journal": render_journal(state)} if state.journal.reminders else {}),
        # Logs before v6-conferences have no conferences (CONF-01..06).
        **({"conferences": render_conferences(state)} if state.conferences.conferences else {}),
        # Logs before v6-voicemail have no mailboxes (VM-01..VM-07).
        **(
            {"voicemail": voicemail_codec.encode(state.voicemail)}
            if state.voicemail.mailboxes
            else {}
        ),
    }


def render_conferences(state: NodeState) -> dict[str, Any]:
    rooms = state.conferences
    return {
        "next_id": rooms.next_id,
        "next_join": rooms.next_join,
        "dial_ins": [[x.call, x.caller, x.failed] for _, x in sorted(rooms.dial_ins.items())],
        "strikes": [[caller, s.count, s.last_ms] for caller, s in sorted(rooms.strikes.items())],
        "conferences": [
            [
                c.id,
                c.name,
                c.owner,
                c.guest_round,
                c.ends_at,
                c.next_participant,
                [[*attrs.astuple(p)] for p in c.participants],
            ]
            for _, c in sorted(rooms.conferences.items())
        ],
    }


def render_directory(state: NodeState) -> dict[str, Any]:
    return {
        user: {
            "next_id": d.next_id,
            "contacts": [
                [
                    c.id,
                    c.name,
                    c.company,
                    [[n.label.value, n.number] for n in c.numbers],
                    c.email,
                    c.manual,
                ]
                for _, c in sorted(d.contacts.items())
            ],
        }
        for user, d in sorted(state.directory.users.items())
    }


def render_voicemail(state: NodeState) -> Any:
    return voicemail_codec.encode(state.voicemail)


def render_journal(state: NodeState) -> dict[str, Any]:
    return {
        user: [[entry, due] for entry, due in sorted(mine.items())]
        for user, mine in sorted(state.journal.reminders.items())
    }


def render_favourites(state: NodeState) -> dict[str, Any]:
    return {
        user: {
            "next_id": f.next_id,
            "groups": [[g.id, g.name, [[*attrs.astuple(e)] for e in g.entries]] for g in f.groups],
        }
        for user, f in sorted(state.favourites.users.items())
    }


def render_presence(state: NodeState) -> dict[str, Any]:
    return {
        user: {
            "status": e.status.value,
            "return_at": e.return_at,
            "info": e.info,
            "forwarding": {s.value: [t.kind.value, t.number] for s, t in e.forwarding.items()},
        }
        for user, e in sorted(state.presence.users.items())
    }


def render_profile(p: Profile) -> dict[str, Any]:
    """A profile (USER-03; logs before v3 have none, so their renderings do not show it)."""
    return {
        "mobile": p.mobile,
        "external": p.external,
        "email": p.email,
        "photo": None if p.photo is None else [p.photo.content_type.value, p.photo.sha256],
        # Renderings before v4-presence showed a flag: visible or not (PRES-04 has levels).
        "presence_visible": p.presence_visibility.internal,
        **(
            {"presence_visibility": p.presence_visibility.value}
            if p.presence_visibility is Visibility.INTERNAL_ONLY
            else {}
        ),
        "voicemail_to_email": p.voicemail_to_email,
    }


@pytest.fixture(params=FROZEN, ids=[p.parent.name for p in FROZEN])
def frozen(request: pytest.FixtureRequest, tmp_path: Path) -> SqliteStore:
    copy = tmp_path / "node1.db"
    shutil.copy(request.param, copy)  # the committed file is never opened in place
    store = SqliteStore.open_readonly(copy)
    store.expected = request.param.parent / "expected.json"  # type: ignore[attr-defined]
    return store


def test_there_is_a_frozen_log() -> None:
    assert FROZEN, f"no frozen logs under {HERE}"


def test_a_frozen_log_replays_to_the_state_it_was_frozen_with(frozen: SqliteStore) -> None:
    expected = json.loads(frozen.expected.read_text())  # type: ignore[attr-defined]
    assert render(replay(frozen, use_snapshot=False)) == expected


def test_every_event_of_a_frozen_log_decodes_and_current_ones_encode_back(
    frozen: SqliteStore,
) -> None:
    """An event stored at its class's current version encodes back to the very bytes stored:
    a field added, renamed or dropped without a new version shows up here."""
    for record in frozen.iter_from(1):
        event = CODEC.decode(record.kind, record.version, record.data)
        if record.version == type(event).VERSION:
            assert json.loads(CODEC.encode(event)) == json.loads(record.data), record.kind


def test_the_frozen_logs_hold_every_event_kind_and_version(tmp_path: Path) -> None:
    """A new event kind or version needs a frozen log that contains it."""
    seen: set[tuple[str, int]] = set()
    for i, path in enumerate(FROZEN):
        copy = tmp_path / f"{i}.db"
        shutil.copy(path, copy)
        with SqliteStore.open_readonly(copy) as store:
            seen |= {(r.kind, r.version) for r in store.iter_from(1)}
    current = {(kind, cls.VERSION) for kind, cls in EVENT_TYPES.items()}
    assert current <= seen, f"freeze a log with {sorted(current - seen)}"
