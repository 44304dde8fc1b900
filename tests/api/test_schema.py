"""The JSON Schema contract (specs/api.schema.json) is generated from the types, and the specs
and the node keep to it: every JSON example in specs/ validates, and so does what a running
node answers and publishes."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from cti.api import documents, execute
from cti.api.chat import ChatService
from cti.api.directory import INDEX
from cti.api.journal import JournalService
from cti.api.requests import SERVICES, parse_action
from cti.api.schema import contract, dumps
from cti.api.voicemail import AUDIO
from cti.app.clock import ManualClock
from cti.app.committed import decode
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.feed import LogReader
from cti.app.follower import follow
from cti.app.node import Node
from cti.calls.views import device_view
from cti.chat.chat_db import ChatDb
from cti.conferences.views import view as conferences_view
from cti.directory.index_db import DirectoryIndex
from cti.favourites.commands import AddFavourite
from cti.favourites.views import view as favourites_view
from cti.journal.journal_db import JournalDb
from cti.kernel.messages import Command
from cti.store import MemoryStore
from cti.voicemail.audio_db import AudioStore
from cti.voicemail.wav import make_wav

SPECS = Path(__file__).resolve().parents[2] / "specs"
SCHEMA = json.loads((SPECS / "api.schema.json").read_text())
BLOCK = re.compile(r"^```json(?P<info>[^\n]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
ROW = re.compile(
    r"^\| (?P<service>[a-zA-Z]+) \| `(?P<payload>\{.*?\})` \| (?P<result>.*?) \|$", re.M
)


def _png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


def validator(name: str) -> Draft202012Validator:
    assert name in SCHEMA["$defs"], f"no schema {name!r} in specs/api.schema.json"
    return Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{name}"})


def check(name: str, doc: Any) -> None:
    errors = sorted(validator(name).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, f"{name}: {errors[0].message} at {list(errors[0].path)} in {doc}"


def documents_in(text: str) -> list[Any]:
    """The JSON documents of a block, one after another (one per line or spread over lines)."""
    decoder, out, pos = json.JSONDecoder(), [], 0
    text = text.strip()
    while pos < len(text):
        doc, end = decoder.raw_decode(text, pos)
        out.append(doc)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def examples() -> list[Any]:
    found = []
    for path in sorted(SPECS.glob("*.md")):
        for m in BLOCK.finditer(path.read_text("utf-8")):
            found.append(pytest.param(m["info"].strip(), m["body"], id=f"{path.name}:{m.start()}"))
    return found


def test_the_checked_in_contract_is_what_the_types_give() -> None:
    assert (SPECS / "api.schema.json").read_text() == dumps(), "run: make schema"
    Draft202012Validator.check_schema(contract())


def test_every_service_has_a_request_and_a_reply_schema() -> None:
    names = set(SCHEMA["$defs"])
    for service in (*SERVICES, "replay"):
        assert {f"request.{service}", f"reply.{service}"} <= names, service


@pytest.mark.parametrize(("name", "body"), examples())
def test_every_json_example_in_the_specs_follows_the_contract(name: str, body: str) -> None:
    assert name, "name the schema of each ```json block in specs/, e.g. ```json reply.makeCall"
    docs = documents_in(body)
    assert docs
    for doc in docs:
        check(name, doc)


def table_rows() -> list[Any]:
    rows = []
    for path in sorted(SPECS.glob("*.md")):
        for m in ROW.finditer(path.read_text("utf-8")):
            if m["service"] in SERVICES:
                rows.append(pytest.param(m["service"], m["payload"], m["result"], id=m["service"]))
    return rows


@pytest.mark.parametrize(("service", "payload", "result"), table_rows())
def test_request_tables_in_the_specs_follow_the_contract(
    service: str, payload: str, result: str
) -> None:
    check(f"request.{service}", json.loads(payload))
    parse_action(service, json.loads(payload))  # and the node accepts it as a request
    shown = re.match(r"`(\{.*?\}|\[.*?\])`", result.strip())
    if shown is None:
        return  # prose, e.g. "external call (CALL-01)"
    check(f"reply.{service}", {"ok": True, "result": json.loads(shown[1]), "seq": 1})


def test_the_request_tables_cover_every_service() -> None:
    covered = {p.values[0] for p in table_rows()}
    assert set(SERVICES) <= covered, sorted(set(SERVICES) - covered)


VM_CALL = 10  # the call the voicemail requests below leave a message on


def _wav() -> str:
    return base64.b64encode(make_wav(b"\x01\x00" * 16000)).decode()


async def test_what_a_node_answers_and_publishes_follows_the_contract(tmp_path: Path) -> None:
    """Requests of every service through the API, refusals included: each reply validates
    against reply.<service>, every committed event against event, every device's state
    document and lamp against document.deviceState and document.lamp."""
    clock = ManualClock()
    node = Node(load_site(), MemoryStore(), clock)
    engine = Engine(node)
    await engine.start()
    index = DirectoryIndex(tmp_path / "directory.db", "epoch", node.site)
    node.read_models[INDEX] = index
    following = asyncio.create_task(follow(index, LogReader(node.feed, node.store)))
    csv_file = "Name;Firma;Mobiltelefon\nJörg Müller;ACME;0171 1234567\nNiemand;;\n"
    requests: list[tuple[str, dict[str, Any]]] = [
        ("makeCall", {"calling": "330", "called": "331"}),
        ("snapshotDevice", {"device": "331"}),
        ("answerCall", {"call": 1, "device": "331"}),
        ("generateDigits", {"call": 1, "device": "330", "digits": "12#"}),
        ("holdCall", {"call": 1, "device": "330"}),
        ("retrieveCall", {"call": 1, "device": "330"}),
        ("consultationCall", {"call": 1, "device": "330", "consulted": "332"}),
        ("answerCall", {"call": 2, "device": "332"}),
        ("alternateCall", {"device": "330"}),
        ("alternateCall", {"device": "330"}),
        ("conferenceCall", {"device": "330"}),
        ("snapshotCall", {"call": 1}),
        ("clearConnection", {"call": 1, "device": "332"}),
        ("consultationCall", {"call": 1, "device": "330", "consulted": "+49 30 1234567"}),
        ("reconnectCall", {"device": "330"}),
        ("consultationCall", {"call": 1, "device": "330", "consulted": "336"}),
        ("transferCall", {"device": "330"}),
        ("clearCall", {"call": 1}),
        ("offHook", {"device": "333"}),
        ("dial", {"device": "333", "digits": "334"}),
        ("offHook", {"device": "334"}),  # the analogue phone answers by lifting
        ("singleStepTransferCall", {"call": 5, "device": "333", "to": "351"}),
        ("makeCall", {"calling": "330", "called": "331"}),
        ("deflectCall", {"call": 6, "device": "331", "to": "332"}),
        ("directedPickupCall", {"picked": "332", "device": "331"}),
        ("clearCall", {"call": 6}),
        ("makeCall", {"calling": "336", "called": "330"}),
        ("groupPickupCall", {"device": "332"}),
        ("onHook", {"device": "332"}),
        (
            "setForwarding",
            {
                "device": "331",
                "forwardingType": "forwardNoAns",
                "on": True,
                "destination": "351",
                "ringTime": 10,
            },
        ),
        ("getForwarding", {"device": "331"}),
        ("setDoNotDisturb", {"device": "333", "on": True}),
        ("getDoNotDisturb", {"device": "333"}),
        ("redialList", {"device": "330"}),
        ("setAssignedPhone", {"user": "340", "phone": "338"}),
        ("setDialMethod", {"user": "335", "dialMethod": "cti_associated"}),
        ("makeCall", {"calling": "335", "called": "331"}),
        ("createAccount", {"name": "332", "password": "Start-2026!", "licences": ["voicemail"]}),
        ("setPassword", {"name": "332", "password": "Reset-2026!"}),
        ("updateAccount", {"name": "332", "licences": ["voicemail", "conference"]}),
        ("setProfile", {"name": "332", "mobile": "0171 2345678", "photo": _png()}),
        ("setProfile", {"name": "332", "email": "C.Wolf@Example.COM", "clear": ["mobile"]}),
        ("getProfile", {"name": "332"}),
        ("createAccount", {"name": "bridge", "password": "Bridge-2026!", "role": "monitor"}),
        ("removeAccount", {"name": "bridge"}),
        ("listAccounts", {}),
        ("forgetDevices", {"devices": ["330"]}),  # refused: the site configures 330
        ("forgetDevices", {"unconfigured": True}),  # nothing to forget here
        # favourites (DIR-05): contacts, the account 332 itself as a colleague
        ("addFavourite", {"user": "332", "groupName": "Team", "colleague": "332"}),
        (
            "addFavourite",
            {"user": "332", "group": 1, "contactName": "Dr. Meier", "number": "089 1"},
        ),
        (
            "addFavourite",
            {"user": "332", "groupName": "Taxi", "contactName": "T", "number": 8921610},
        ),
        ("renameFavouriteGroup", {"user": "332", "group": 1, "name": "Team Süd"}),
        ("orderFavouriteGroups", {"user": "332", "groups": [4, 1]}),
        ("orderFavourites", {"user": "332", "group": 1, "entries": [3, 2]}),
        ("removeFavourite", {"user": "332", "entry": 3}),
        ("getFavourites", {"user": "332"}),
        ("deleteFavouriteGroup", {"user": "332", "group": 4}),
        ("addFavourite", {"user": "332", "group": 9, "colleague": "332"}),
        ("orderFavourites", {"user": "332", "group": 1, "entries": [3]}),
        ("setPresence", {"user": "331", "status": "meeting", "returnAt": 2**42, "info": "Board"}),
        ("setPresenceForwarding", {"user": "331", "status": "meeting", "target": "mobile"}),
        ("setPresenceForwarding", {"user": "332", "status": "lunch", "target": "external"}),
        (
            "setPresenceForwarding",
            {"user": "331", "status": "sick", "target": "number", "number": "0171 7654321"},
        ),
        ("getPresence", {"user": "331"}),
        ("getPresenceForwarding", {"user": "331"}),
        ("setPresence", {"user": "333", "status": "doNotDisturb"}),
        ("setProfile", {"name": "332", "presenceVisibility": "notVisible"}),
        # directories (DIR-01..04, DIR-06)
        ("addContact", {"user": "332", "name": "Dr. Meier", "business": "089 123456"}),
        ("changeContact", {"user": "332", "id": 1, "name": "Dr. Meier", "mobile": "0171 1"}),
        (
            "importContacts",
            {
                "user": "332",
                "data": base64.b64encode(csv_file.encode("cp1252")).decode(),
                "encoding": "windows-1252",
            },
        ),
        ("getContacts", {"user": "332"}),
        ("searchDirectory", {"user": "332", "text": "mü"}),
        ("searchDirectory", {"user": "332", "text": "0171"}),
        ("getDirectoryEntry", {"user": "332", "directory": "internal", "id": "332"}),
        ("identifyCaller", {"user": "332", "number": "+49 171 1234567"}),
        ("deleteContact", {"user": "332", "id": 1}),
        ("importContacts", {"user": "332", "data": "bm8gaGVhZGVy"}),
        (
            "uploadContactsPart",
            {"user": "332", "upload": "f", "part": 1, "data": base64.b64encode(b"Name").decode()},
        ),
        ("uploadContactsPart", {"user": "332", "upload": "f", "part": 2, "data": "Cg=="}),
        ("importContacts", {"user": "332", "upload": "f"}),
        ("getDirectoryEntry", {"user": "332", "directory": "personal", "id": "1"}),
        # refusals
        ("answerCall", {"call": 99, "device": "331"}),
        ("setAssignedPhone", {"user": "340", "phone": "330"}),
        ("holdCall", {"call": 7, "device": "333"}),
        ("setProfile", {"name": "332", "photo": "bm90IGFuIGltYWdl"}),
        ("getProfile", {"name": "nobody"}),
        ("setPresence", {"user": "337", "status": "doNotDisturb"}),
        ("setPresence", {"user": "331", "status": "office", "info": "back"}),
        ("setPresenceForwarding", {"user": "331", "status": "office", "target": "voicemail"}),
        # the journal (JOUR-01..05): call 1 was 330's call to 331, call 6 missed at 331
        ("getJournal", {"user": "330"}),
        ("getJournal", {"user": "331", "folder": "open", "limit": 1}),
        ("getJournalCounts", {"user": "331"}),
        ("setJournalNote", {"user": "330", "entry": 1, "note": "Offer", "remindIn": 600}),
        ("markJournalEntryDone", {"user": "330", "entry": 1}),
        ("callBackJournalEntry", {"user": "330", "entry": 1}),
        ("saveJournalContact", {"user": "332", "entry": 2}),  # 332 has an account
        ("deleteJournalEntry", {"user": "330", "entry": 1}),
        ("deleteJournalEntriesOlderThan", {"user": "330", "days": 30}),
        ("clearJournal", {"user": "330"}),
        ("setJournalNote", {"user": "330", "entry": 1, "note": "gone"}),
        ("getJournal", {"user": "330", "limit": 0}),
        # voicemail (VM-01..VM-05): 332 has the licence
        ("clearCall", {"call": 8}),
        ("clearCall", {"call": 9}),
        ("makeCall", {"calling": "330", "called": "332"}),
        ("deflectCall", {"call": VM_CALL, "device": "332", "to": "351"}),
        ("leaveVoicemailMessage", {"call": VM_CALL, "device": "330", "audio": _wav()}),
        ("getMailbox", {"user": "332"}),
        ("listenVoicemailMessage", {"user": "332", "message": 1}),
        ("moveVoicemailMessage", {"user": "332", "message": 1, "folder": "new"}),
        ("setVoicemailRecording", {"user": "332", "recording": False}),
        ("setVoicemailMaximum", {"user": "332", "maxMessages": 10}),
        ("callBackVoicemailMessage", {"user": "332", "message": 1, "device": "332"}),
        ("saveVoicemailContact", {"user": "332", "message": 1}),
        ("clearCall", {"call": VM_CALL}),
        ("clearCall", {"call": VM_CALL + 1}),
        ("makeCall", {"calling": "332", "called": "351"}),
        ("enterVoicemailPin", {"call": VM_CALL + 2, "device": "332", "pin": "000000"}),
        ("enterVoicemailPin", {"call": VM_CALL + 2, "device": "332", "pin": "123456"}),
        ("changeVoicemailPinOnPhone", {"call": VM_CALL + 2, "device": "332", "newPin": "135790"}),
        ("generateDigits", {"call": VM_CALL + 2, "device": "332", "digits": "1"}),
        ("fetchVoicemailAudio", {"call": VM_CALL + 2, "device": "332"}),
        ("generateDigits", {"call": VM_CALL + 2, "device": "332", "digits": "9"}),
        ("clearCall", {"call": VM_CALL + 2}),
        ("changeVoicemailPin", {"user": "332", "oldPin": "135790", "newPin": "246813"}),
        ("playVoicemailMessage", {"user": "332", "message": 1}),
        ("answerCall", {"call": VM_CALL + 3, "device": "332"}),
        ("fetchVoicemailAudio", {"call": VM_CALL + 3, "device": "332"}),
        ("clearCall", {"call": VM_CALL + 3}),
        ("deleteVoicemailMessage", {"user": "332", "message": 1}),
        ("leaveVoicemailMessage", {"call": VM_CALL + 3, "device": "332", "audio": "AAAA"}),
        # application conferences (CONF-01..08): 332 has the conference licence by now
        ("createConference", {"user": "332", "name": "Jour fixe"}),
        ("addConferenceParticipant", {"user": "332", "conference": 1, "member": "332"}),
        (
            "addConferenceParticipant",
            {"user": "332", "conference": 1, "name": "Dr. Meier", "number": "089 123456"},
        ),
        ("addConferenceFavourites", {"user": "332", "conference": 1, "group": 1}),
        (
            "addConferenceDirectoryEntry",
            {"user": "332", "conference": 1, "directory": "system", "id": "1"},
        ),
        ("setConferenceGuestPin", {"user": "332", "conference": 1, "enabled": True}),
        ("renewConferencePin", {"user": "332", "conference": 1, "participant": 2}),
        (
            "setConferenceModerator",
            {"user": "332", "conference": 1, "participant": 1, "moderator": True},
        ),
        (
            "setConferenceModerator",
            {"user": "332", "conference": 1, "participant": 2, "moderator": True},
        ),
        ("conferenceInvitation", {"user": "332", "conference": 1, "language": "en"}),
        ("conferenceInvitation", {"user": "332", "conference": 1, "participant": 2}),
        ("listConferences", {"user": "332"}),
        ("renameConference", {"user": "332", "conference": 1, "name": "Weekly"}),
        ("callOutConferenceParticipants", {"user": "332", "conference": 1, "participant": 2}),
        ("disconnectConferenceParticipant", {"user": "332", "conference": 1, "participant": 2}),
        ("disconnectConferenceParticipant", {"user": "332", "conference": 1, "participant": 2}),
        ("removeConferenceParticipant", {"user": "332", "conference": 1, "participant": 2}),
        ("createConference", {"user": "332", "name": "Gone"}),
        ("deleteConference", {"user": "332", "conference": 2}),
        ("deleteConference", {"user": "332", "conference": 9}),
        # chat (IM-01..03): 332 is online (a session marker), 330 is not
        ("createAccount", {"name": "330", "password": "Start-2026!"}),
        ("sendChatMessage", {"user": "330", "to": "332", "text": "Hallo", "clientId": "m1"}),
        ("sendChatMessage", {"user": "332", "to": "330", "text": "Hi", "clientId": "m1"}),
        ("getChatMessages", {"user": "332", "partner": "330", "sinceSeq": 0}),
        ("markChatRead", {"user": "332", "partner": "330", "seq": 1}),
        ("getChatConversations", {"user": "332"}),
        ("sendChatMessage", {"user": "330", "to": "nobody", "text": "x", "clientId": "m2"}),
        ("sendChatMessage", {"user": "330", "to": "332", "text": "\x1b[2J", "clientId": "m3"}),
    ]
    done: set[str] = set()
    node.read_models[AUDIO] = AudioStore(tmp_path / "audio")
    journal_db = JournalDb(tmp_path / "journal.db", node.store.epoch, node.site)

    def stand_in(user: str, number: str, name: str | None) -> Command:
        # The personal directory's add-contact is another helper's; favourites stand in.
        return AddFavourite(
            user=user, group_name="Journal", contact_name=name or number, number=number
        )

    journal = JournalService(engine, journal_db, save_contact=stand_in, wait=0.01)
    chat = ChatService(node, ChatDb.sqlite(tmp_path / "chat.db", "node1"), clock)
    chat.sessions.seen("332", "test", clock.now_ms())
    await chat.start()
    try:
        for service, fields in requests:
            new = [decode(r) for r in node.store.read(journal_db.position() + 1)]
            if new:
                journal_db.apply(new)
            action = parse_action(service, fields)
            reply = await execute.execute(engine, action, journal=journal, chat=chat)
            check(f"reply.{service}", orjson.loads(orjson.dumps(reply)))
            if reply["ok"]:
                done.add(service)
        change = {"oldPassword": "Reset-2026!", "newPassword": "Mine-2026?"}
        for secure in (False, True):  # refused in clear (USER-02), then done
            action = parse_action("changePassword", change)
            reply = await execute.execute(engine, action, "332", secure=secure)
            check("reply.changePassword", orjson.loads(orjson.dumps(reply)))
            assert reply["ok"] is secure, reply
        done.add("changePassword")
        assert done == set(SERVICES), sorted(set(SERVICES) - done)
        for raw in node.store.read(1):
            item = decode(raw)
            if not item.event.INTERNAL:
                check("event", orjson.loads(orjson.dumps(documents.event_doc(item))))
        for device in node.site.devices:
            view = device_view(node.site, node.state, device)
            doc = documents.device_state(node.site, view, node.state.seq, 0)
            check("document.deviceState", orjson.loads(doc))
            doc = documents.lamp(node.site, view, node.state.seq, 0)
            check("document.lamp", orjson.loads(doc))
        for account in node.state.accounts.accounts.values():
            doc = documents.profile(account, node.state.seq)
            check("document.profile", orjson.loads(doc))
        for name in node.state.accounts.accounts:
            doc = documents.favourites(favourites_view(node.state, name), node.state.seq)
            check("document.favourites", orjson.loads(doc))
        for user in ("331", "332", "333", "340"):
            for own in (True, False):
                doc = documents.presence(node.site, node.state, user, node.state.seq, 0, own=own)
                check("document.presence", orjson.loads(doc))
        doc = documents.conferences("332", conferences_view(node.state, "332"), node.state.seq)
        check("document.conferences", orjson.loads(doc))
        assert orjson.loads(doc)["conferences"]
        check("document.status", orjson.loads(documents.status("node1", "online", seq=3)))
        check("document.status", orjson.loads(documents.status("node1", "offline")))
    finally:
        await chat.stop()
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        index.close()
        await engine.stop()
