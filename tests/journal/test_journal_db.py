"""The journal read model (JOUR-01..04): folders and counts, the open folder's rules (a
callback that connects closes the entry, done), notes with reminders fired from the node's
clock, deletions; resuming after any batch equals a rebuild from the log."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.app.committed import decode
from cti.calls import commands as c
from cti.journal import commands as j
from cti.journal.journal_db import Counts, JournalDb
from cti.journal.model import Folder
from cti.journal.services import DAY_MS
from tests.journal.helpers import feed, folder, item, open_db
from tests.office import Office

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def office() -> Office:
    return Office()


def missed(office: Office, caller: str, called: str) -> int:
    call = office.call_of(c.MakeCall(calling=caller, called=called))
    office.do(c.ClearConnection(call=call, device=caller))
    return call


def talk(office: Office, caller: str, called: str) -> int:
    call = office.talking(caller, called)
    office.do(c.ClearCall(call=call))
    return call


def test_folders_and_counts(office: Office, tmp_path: Path) -> None:  # JOUR-02
    db = open_db(tmp_path, office)
    missed(office, "331", "330")  # 1: 330 missed, 331 not answered
    talk(office, "332", "330")  # 2: answered both
    missed(office, "330", "333")  # 3: 330 not answered
    feed(db, office)
    assert folder(db, "330", Folder.ALL) == [
        "330 3 outgoing 333 notAnswered",
        "330 2 incoming 332 answered",
        "330 1 incoming 331 missed",
    ]
    assert folder(db, "330", Folder.MISSED) == ["330 1 incoming 331 missed"]
    assert folder(db, "330", Folder.ANSWERED) == ["330 2 incoming 332 answered"]
    assert folder(db, "330", Folder.OPEN) == [
        "330 3 outgoing 333 notAnswered",
        "330 1 incoming 331 missed",
    ]
    assert folder(db, "330", Folder.OVERDUE) == []
    assert db.counts("330") == Counts(open=2, missed=1, answered=1, all=3, overdue=0)
    assert db.counts("331") == Counts(open=1, missed=0, answered=0, all=1, overdue=0)
    assert db.counts("339") == Counts()
    assert [i.entry.call for i in db.items("330", limit=2)] == [3, 2]
    assert [i.entry.call for i in db.items("330", limit=2, before=2)] == [1]


def test_a_callback_that_connects_closes_the_open_entry(office: Office, tmp_path: Path) -> None:
    """JOUR-02 (UC-LESSONS: "a callback that connects closes the open entry"), both ways: the
    missed call's user calling back, and the caller calling again."""
    db = open_db(tmp_path, office)
    missed(office, "331", "330")  # 1
    missed(office, "331", "330")  # 2: a second try
    missed(office, "330", "331")  # 3: a callback nobody answers closes nothing
    feed(db, office)
    assert [i.entry.call for i in db.items("330", Folder.OPEN)] == [3, 2, 1]
    talk(office, "330", "331")  # 4: this one connects
    feed(db, office)
    assert folder(db, "330", Folder.OPEN) == []
    assert [(i.entry.call, i.closed_by) for i in db.items("330")] == [
        (4, None),
        (3, 4),
        (2, 4),
        (1, 4),
    ]
    assert folder(db, "330", Folder.MISSED) == [  # missed stays missed
        "330 2 incoming 331 missed",
        "330 1 incoming 331 missed",
    ]
    assert [i.entry.call for i in db.items("331", Folder.OPEN)] == []  # 331's too
    missed(office, "332", "330")  # 5: another party's call stays open
    talk(office, "333", "330")  # 6
    feed(db, office)
    assert [i.entry.call for i in db.items("330", Folder.OPEN)] == [5]


def test_a_group_member_sees_answered_elsewhere_not_missed(
    office: Office, tmp_path: Path
) -> None:  # CALL-14, JOUR-02
    db = open_db(tmp_path, office)
    call = office.call_of(c.MakeCall(calling="331", called="340"))
    office.do(c.AnswerCall(call=call, device="338"))
    office.do(c.ClearCall(call=call))
    feed(db, office)
    assert db.counts("337") == Counts(open=0, missed=0, answered=0, all=1, overdue=0)
    assert db.counts("340") == Counts(open=0, missed=0, answered=1, all=1, overdue=0)


def test_mark_done_and_delete(office: Office, tmp_path: Path) -> None:  # JOUR-04
    db = open_db(tmp_path, office)
    for _ in range(3):
        missed(office, "331", "330")
    office.do(j.MarkJournalEntryDone(user="330", entry=1))
    office.do(j.DeleteJournalEntry(user="330", entry=2))
    feed(db, office)
    assert [i.entry.call for i in db.items("330")] == [3, 1]
    assert [i.entry.call for i in db.items("330", Folder.OPEN)] == [3]
    assert item(db, "330", 1).done
    assert [i.entry.call for i in db.items("331")] == [3, 2, 1]  # only 330's changed
    office.do(j.ClearJournal(user="330"))
    feed(db, office)
    assert db.counts("330") == Counts()
    assert db.counts("331").all == 3


def test_delete_older_than_a_period(office: Office, tmp_path: Path) -> None:  # JOUR-04
    db = open_db(tmp_path, office)
    missed(office, "331", "330")  # 1: day 0
    office.clock.advance(2 * DAY_MS / 1000)
    missed(office, "331", "330")  # 2: day 2
    office.clock.advance(2 * DAY_MS / 1000)
    missed(office, "331", "330")  # 3: day 4
    office.do(j.DeleteJournalEntriesOlderThan(user="330", days=3))
    feed(db, office)
    assert [i.entry.call for i in db.items("330")] == [3, 2]
    office.clock.advance(1)
    office.do(j.DeleteJournalEntriesOlderThan(user="330", days=0))  # everything until now
    feed(db, office)
    assert db.items("330") == []


def test_a_reminder_fires_from_the_clock_into_overdue(office: Office, tmp_path: Path) -> None:
    """JOUR-03: the node's timer (ManualClock), recorded as journalReminderDue."""
    db = open_db(tmp_path, office)
    missed(office, "331", "330")
    talk(office, "332", "330")
    office.do(j.SetJournalNote(user="330", entry=1, note="call back re offer", remind_in=600))
    office.do(j.SetJournalNote(user="330", entry=2, note="just a note"))
    assert office.node.next_timer_ms() == office.clock.now_ms() + 600_000
    office.clock.advance(599)
    assert office.node.fire_due_timers() == []
    feed(db, office)
    assert folder(db, "330", Folder.OVERDUE) == []
    assert item(db, "330", 1).note == "call back re offer"
    office.clock.advance(1)
    [fired] = office.node.fire_due_timers()
    assert fired.ok and [type(x.event).__name__ for x in fired.events] == ["JournalReminderDue"]
    assert office.node.next_timer_ms() is None
    feed(db, office)
    assert [i.entry.call for i in db.items("330", Folder.OVERDUE)] == [1]
    assert db.counts("330").overdue == 1
    assert item(db, "330", 2).note == "just a note" and not item(db, "330", 2).overdue
    # A new note without a reminder takes it out of overdue; so does done.
    office.do(j.SetJournalNote(user="330", entry=1, note="tried once", remind_in=60))
    feed(db, office)
    assert db.counts("330").overdue == 0
    office.clock.advance(60)
    office.node.fire_due_timers()
    feed(db, office)
    assert db.counts("330").overdue == 1
    office.do(j.MarkJournalEntryDone(user="330", entry=1))
    feed(db, office)
    assert db.counts("330") == Counts(open=0, missed=1, answered=1, all=2, overdue=0)


def test_a_changed_reminder_fires_once_at_its_new_time(office: Office, tmp_path: Path) -> None:
    db = open_db(tmp_path, office)
    missed(office, "331", "330")
    office.do(j.SetJournalNote(user="330", entry=1, remind_in=60))
    office.do(j.SetJournalNote(user="330", entry=1, remind_in=120))
    office.clock.advance(60)
    assert office.node.fire_due_timers() == []
    office.do(j.SetJournalNote(user="330", entry=1))  # cleared
    office.clock.advance(600)
    assert office.node.fire_due_timers() == []
    feed(db, office)
    assert item(db, "330", 1).note is None and item(db, "330", 1).remind_at is None


def test_reminders_survive_a_restart_of_the_node(office: Office) -> None:
    missed(office, "331", "330")
    office.do(j.SetJournalNote(user="330", entry=1, remind_in=60))
    office.assert_replays()
    from cti.app.node import Node

    again = Node(office.site, office.store, office.clock)
    assert again.next_timer_ms() == office.node.next_timer_ms()


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (j.SetJournalNote(user="999", entry=1, note="x"), "unknownUser"),
        (j.SetJournalNote(user="351", entry=1, note="x"), "unknownUser"),  # voicemail
        (j.SetJournalNote(user="330", entry=0, note="x"), "unknownJournalEntry"),
        (j.SetJournalNote(user="330", entry=99, note="x"), "unknownJournalEntry"),
        (j.SetJournalNote(user="330", entry=1, remind_in=0), "reminderNotInFuture"),
        (j.SetJournalNote(user="330", entry=1, remind_at=1), "reminderNotInFuture"),
        (j.SetJournalNote(user="330", entry=1, remind_at=1, remind_in=5), "invalidParameterValue"),
        (j.SetJournalNote(user="330", entry=1, note="a\x00b"), "invalidParameterValue"),
        (j.SetJournalNote(user="330", entry=1, note="x" * 501), "invalidParameterValue"),
        (j.MarkJournalEntryDone(user="330", entry=5), "unknownJournalEntry"),
        (j.DeleteJournalEntry(user="330", entry=-1), "unknownJournalEntry"),
        (j.DeleteJournalEntriesOlderThan(user="330", days=-1), "invalidParameterValue"),
        (j.ClearJournal(user="+4930111111"), "unknownUser"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    office: Office, command: j.SetJournalNote, name: str
) -> None:
    missed(office, "331", "330")
    assert office.refuse(command).name == name


def test_too_many_reminders(office: Office) -> None:
    from cti.journal.services import MAX_REMINDERS

    for _ in range(MAX_REMINDERS + 1):
        missed(office, "331", "330")
    for entry in range(1, MAX_REMINDERS + 1):
        office.do(j.SetJournalNote(user="330", entry=entry, remind_in=60))
    assert (
        office.refuse(j.SetJournalNote(user="330", entry=MAX_REMINDERS + 1, remind_in=60)).name
        == "tooManyReminders"
    )
    office.do(j.SetJournalNote(user="330", entry=1, remind_in=90))  # changing one is fine


def day_of_the_office(office: Office) -> None:
    """Calls of every kind, journal actions, one call left going on."""
    missed(office, "331", "330")
    talk(office, "332", "330")
    a = office.talking("331", "330")
    b = office.call_of(c.ConsultationCall(call=a, device="330", consulted="332"))
    office.do(c.AnswerCall(call=b, device="332"))
    office.do(c.TransferCall(device="330"))
    office.do(c.ClearCall(call=a))
    g = office.call_of(c.Dial(device="+4930111111", digits="340"))
    office.do(c.AnswerCall(call=g, device="337"))
    office.do(c.ClearCall(call=g))
    office.do(j.SetJournalNote(user="330", entry=1, note="n", remind_in=5))
    office.clock.advance(5)
    office.node.fire_due_timers()
    missed(office, "330", "331")
    talk(office, "330", "331")
    office.do(j.DeleteJournalEntry(user="331", entry=2))
    office.talking("333", "332")  # still going on: a track, no entry


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 9), min_size=1, max_size=30))
def test_any_batching_and_restarts_equal_a_rebuild(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int]
) -> None:
    """Resuming after any batch (a new JournalDb on the file: the restart) gives exactly what
    one rebuild from the log gives."""
    office = Office()
    day_of_the_office(office)
    tmp = tmp_path_factory.mktemp("j")
    rebuilt = open_db(tmp, office, "rebuilt.db")
    feed(rebuilt, office, size=1000)
    todo = office.committed()
    path = tmp / "followed.db"
    i = 0
    for size in sizes:
        db = JournalDb(path, office.store.epoch, office.site)
        batch = todo[i : i + size]
        if batch:
            db.apply(batch)
        i += size
        db.close()
    db = JournalDb(path, office.store.epoch, office.site)
    feed(db, office)
    assert db.dump() == rebuilt.dump()
    assert db.position() == rebuilt.position() == todo[-1].seq
    assert db.dump()[1]  # the call going on is a track


def test_another_log_is_rebuilt(office: Office, tmp_path: Path) -> None:
    missed(office, "331", "330")
    db = open_db(tmp_path, office)
    feed(db, office)
    db.close()
    again = JournalDb(tmp_path / "journal.db", "another-epoch", office.site)
    assert again.position() == 0 and again.dump() == ([], {})


def test_sigkill_inside_a_batch_then_restart_equals_a_rebuild(tmp_path: Path) -> None:
    """The journal follower's process is SIGKILLed inside a batch's transaction (after the
    N-th entry written): what it committed is exactly the rebuild up to its position, and the
    next run reaches the rebuild of the whole log."""
    from cti.app.config import load_site
    from cti.app.node import Node
    from cti.store import SqliteStore

    log_path = tmp_path / "node1.db"
    store = SqliteStore(log_path)
    office = Office()
    office.store, office.node = store, Node(office.site, store, office.clock)  # a real log
    for _ in range(4):
        day_of_the_office(office)
        office.do(c.ClearCall(call=office.connections("333")[0][0]))
    epoch = store.epoch
    store.close()
    db_path = tmp_path / "journal.db"
    child = [sys.executable, "-m", "tests.journal.journal_child", str(log_path), str(db_path)]
    positions: list[int] = []
    for die_after in (3, 17, 40):
        killed = subprocess.run(
            [*child, "--die-after", str(die_after)], cwd=REPO, capture_output=True
        )
        assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
        with SqliteStore.open_readonly(log_path) as log:
            db = JournalDb(db_path, epoch, load_site())
            position = db.position()
            positions.append(position)
            fresh = JournalDb(tmp_path / f"upto-{die_after}.db", epoch, load_site())
            if position:
                fresh.apply([decode(r) for r in log.read(1, position)])
            assert db.dump() == fresh.dump()
            db.close()
    assert positions == sorted(positions) and positions[-1] > 0, positions
    done = subprocess.run(child, cwd=REPO, capture_output=True, check=True)
    with SqliteStore.open_readonly(log_path) as log:
        assert int(done.stdout) == log.last_seq()
        fresh = JournalDb(tmp_path / "full.db", epoch, load_site())
        fresh.apply([decode(r) for r in log.read(1, log.last_seq())])
        db = JournalDb(db_path, epoch, load_site())
        assert db.dump() == fresh.dump() and db.dump()[0]


def test_the_users_whose_journal_changed_are_told(office: Office, tmp_path: Path) -> None:
    """What the MQTT face publishes the counts of: each user once, then nothing until the
    next change; everyone after a reset."""
    db = open_db(tmp_path, office)
    told: list[int] = []
    db.on_applied = lambda: told.append(db.position())
    missed(office, "331", "330")
    feed(db, office, size=1000)
    assert db.take_touched() == {"330", "331"} and db.take_touched() == set()
    office.do(j.SetJournalNote(user="330", entry=1, note="n"))
    office.talking("333", "332")  # going on: nobody's journal changed yet
    feed(db, office, size=1000)
    assert db.take_touched() == {"330"}
    assert told == [5, office.state.seq]
    db.reset()
    assert db.take_touched() == {"*"} and db.position() == 0


def test_a_removed_account_takes_its_journal_along(office: Office, tmp_path: Path) -> None:
    """removeAccount: the account's entries leave the read model and its pending reminders
    the node (as its presence, favourites and personal directory do); others keep theirs."""
    from cti.accounts.commands import RemoveAccount, SeedAccounts
    from cti.app.config import load_config

    users = {u.name: u for u in load_config().users}
    office.do(SeedAccounts(accounts=(users["330"].seed(), users["331"].seed())))
    db = open_db(tmp_path, office)
    missed(office, "330", "331")  # 1
    missed(office, "332", "331")  # 2
    office.do(j.SetJournalNote(user="331", entry=1, note="call back", remind_in=600))
    feed(db, office)
    assert db.counts("331").all == 2 and office.node.next_timer_ms() is not None
    removed = office.do(RemoveAccount(name="331"))
    assert any("journalCleared" in line for line in removed), removed
    feed(db, office)
    assert db.counts("331") == Counts()
    assert db.counts("330").all == 1 and db.counts("332").all == 1
    assert not office.node.state.journal.of("331")
    assert office.node.next_timer_ms() is None
