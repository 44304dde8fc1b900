"""The journal's requests (cti.api.journal) on a node whose journal follows the log: an answer
waits for the follower to reach what was committed before the request (read your own
writes); names are resolved when read, by the resolver the node is given, for the reading
user (DIR-06's precedence comes from the directory; here a stand-in); save as contact sends
the directory's command made by ``save_contact``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.accounts.commands import SeedAccounts
from cti.api import execute
from cti.api.journal import JournalService
from cti.api.requests import parse_action
from cti.app.clock import ManualClock
from cti.app.config import load_config, load_site
from cti.app.engine import Engine
from cti.app.feed import LogReader
from cti.app.follower import follow
from cti.app.node import Node
from cti.calls import commands as c
from cti.favourites.commands import AddFavourite
from cti.journal.journal_db import JournalDb
from cti.kernel.messages import Command
from cti.store import SqliteStore


class Setup:
    def __init__(self, engine: Engine, journal: JournalService, saved: list[Any]) -> None:
        self.engine, self.journal, self.saved = engine, journal, saved

    async def ask(self, principal: str, service: str, **fields: Any) -> dict[str, Any]:
        action = parse_action(service, fields)
        return await execute.execute(self.engine, action, principal, journal=self.journal)

    async def do(self, command: Command) -> dict[str, Any]:
        outcome = await self.engine.execute(command)
        return dict(outcome.result)  # type: ignore[union-attr]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    log = SqliteStore(tmp_path / "node1.db")
    node = Node(load_site(), log, ManualClock())
    users = {u.name: u for u in load_config().users}
    node.execute(SeedAccounts(accounts=tuple(users[n].seed() for n in ("330", "331", "332"))))
    engine = Engine(node)
    await engine.start()
    db = JournalDb(tmp_path / "node1.journal.db", log.epoch, node.site)
    follower = asyncio.create_task(follow(db, LogReader(node.feed, log.sibling(readonly=True))))
    saved: list[Any] = []

    def personal(user: str, number: str) -> str | None:
        # 330 keeps Bernd as "Bernd (Einkauf)"; nobody else sees that name.
        return "Bernd (Einkauf)" if (user, number) == ("330", "331") else None

    def save_contact(user: str, number: str, name: str | None) -> Command:
        saved.append((user, number, name))
        return AddFavourite(user=user, group_name="Kontakte", contact_name=name, number=number)

    journal = JournalService(engine, db, resolver=personal, save_contact=save_contact)
    yield Setup(engine, journal, saved)
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    await engine.stop()
    db.close()
    log.close()


async def test_an_answer_waits_for_what_was_committed_before(setup: Setup) -> None:
    made = await setup.do(c.MakeCall(calling="331", called="330"))
    await setup.do(c.ClearConnection(call=made["call"], device="331"))
    # No waiting here: the request itself waits for the follower.
    reply = await setup.ask("330", "getJournalCounts", user="330")
    assert reply["ok"] and reply["result"]["all"] == 1 and reply["result"]["open"] == 1
    note = await setup.ask("330", "setJournalNote", user="330", entry=made["call"], note="x")
    page = await setup.ask("330", "getJournal", user="330")
    assert page["result"]["entries"][0]["note"] == "x"
    assert page["seq"] >= note["seq"]


async def test_names_come_from_the_resolver_for_the_reading_user(setup: Setup) -> None:
    made = await setup.do(c.MakeCall(calling="331", called="330"))
    await setup.do(c.ClearCall(call=made["call"]))
    mine = await setup.ask("330", "getJournal", user="330")
    theirs = await setup.ask("331", "getJournal", user="331")
    assert mine["result"]["entries"][0]["name"] == "Bernd (Einkauf)"
    assert theirs["result"]["entries"][0]["name"] is None  # 331's resolver knows no 330


async def test_save_as_contact_sends_the_directorys_command(setup: Setup) -> None:
    made = await setup.do(c.MakeCall(calling="331", called="330"))
    await setup.do(c.ClearCall(call=made["call"]))
    reply = await setup.ask("330", "saveJournalContact", user="330", entry=made["call"])
    assert reply["ok"], reply
    assert setup.saved == [("330", "331", "Bernd (Einkauf)")]
    named = await setup.ask("330", "saveJournalContact", user="330", entry=made["call"], name="B")
    # The reply is the directory's (the stand-in refuses the number under a second name).
    assert named["error"]["code"] == "alreadyAFavourite", named
    assert setup.saved[-1] == ("330", "331", "B")
    refused = await setup.ask("331", "saveJournalContact", user="330", entry=made["call"])
    assert refused["error"]["code"] == "notPermitted" and len(setup.saved) == 2


async def test_a_face_without_the_journal_refuses_its_changes_too(setup: Setup) -> None:
    # Only the journal's read model knows whose entry a call is: without it, a change would
    # go to the context unchecked (a note on a call 330 was never in).
    made = await setup.do(c.MakeCall(calling="331", called="332"))
    for service, fields in [
        ("setJournalNote", {"user": "330", "entry": made["call"], "note": "x"}),
        ("deleteJournalEntry", {"user": "330", "entry": made["call"]}),
        ("clearJournal", {"user": "330"}),
    ]:
        seq = setup.engine.node.state.seq
        reply = await execute.execute(setup.engine, parse_action(service, fields), "330")
        assert reply["error"]["code"] == "serviceNotSupported", (service, reply)
        assert setup.engine.node.state.seq == seq
