"""cti.client's journal helpers (JOUR-01..05, specs/journal.md) against a real node: the
counts of the folders arrive as :class:`JournalCounts` when they change, a page of entries,
notes, done, call back, delete; another user's journal is refused."""

from __future__ import annotations

import pytest

from cti.app.bootstrap import Running
from cti.client import JournalCounts, Refused
from tests.client.conftest import client, collecting


def folders(u: JournalCounts) -> tuple[int, int, int, int, int]:
    d = u.doc
    return d["open"], d["missed"], d["answered"], d["all"], d["overdue"]


async def test_the_journal_of_a_user_through_the_client(node: Running) -> None:
    async with (
        client(node, "331") as bernd,
        client(node, "332") as clara,
        collecting(bernd) as seen,
    ):
        await bernd.watch_journal()
        first = await seen.wait_for(lambda u: isinstance(u, JournalCounts))
        assert isinstance(first, JournalCounts) and folders(first) == (0, 0, 0, 0, 0)
        made = await clara.make_call("332", "331")  # Bernd misses it
        await clara.clear_connection(made["call"], "332")
        missed = await seen.wait_for(lambda u: isinstance(u, JournalCounts) and u.doc["all"] == 1)
        assert isinstance(missed, JournalCounts) and folders(missed) == (1, 1, 0, 1, 0)
        page = await bernd.get_journal("missed")
        [entry] = page["entries"]
        assert (entry["entry"], entry["number"], entry["name"]) == (
            made["call"],
            "332",
            "Clara Wolf",
        )
        assert page["nextBefore"] is None and page["counts"]["missed"] == 1
        await bernd.set_journal_note(made["call"], "zurückrufen", remind_in=3600)
        assert (await bernd.get_journal())["entries"][0]["remindAt"] is not None
        back = await bernd.call_back(made["call"])
        assert back["device"] == "331"
        await bernd.clear_connection(back["call"], "331")  # not reached: stays open
        assert (await bernd.journal_counts())["open"] == 2
        await bernd.mark_journal_entry_done(made["call"])
        await bernd.delete_journal_entry(back["call"])
        counts = await bernd.journal_counts()
        assert (counts["open"], counts["all"]) == (0, 1)
        with pytest.raises(Refused) as refused:
            await clara.request("getJournal", user="331")
        assert refused.value.code == "notPermitted"
        # JOUR-05: the party goes to Bernd's personal directory, which now names the number
        # first (DIR-06).
        saved = await bernd.save_journal_contact(made["call"], name="Clara privat")
        assert isinstance(saved["id"], int)
        assert await bernd.identify_caller("332") == "Clara privat"
        mark = len(seen.updates)
        await bernd.delete_journal_entries_older_than(0)
        await bernd.clear_journal()
        emptied = await seen.wait_for(
            lambda u: isinstance(u, JournalCounts) and u.doc["all"] == 0,
            start=mark,
        )
        assert isinstance(emptied, JournalCounts)
        assert (await bernd.journal_counts())["all"] == 0
