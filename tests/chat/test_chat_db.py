"""The chat's own store (cti.chat.chat_db) on SQLite and on PostgreSQL, the same tests:
idempotent send by client id, seq per conversation assigned by the store, the history bound
of 100 messages per user (IM-03), the read watermark, and the writer's group commit with a
savepoint per request (a refused request in a batch changes nothing, the others commit)."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cti.chat.chat_db import ChatDb, ChatWriter, Sent
from cti.chat.model import HISTORY
from cti.kernel.refusal import Refusal
from tests.postgres import private_schema

Opener = Callable[[], ChatDb]
TIMEOUT = 10  # s: a bound for the test, never waited for when it works


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the node's chat store (again: a restart sees what was committed)."""
    if request.param == "sqlite":
        yield lambda: ChatDb.sqlite(tmp_path / "node1.chat.db", "node1")
    else:
        with private_schema() as dsn:
            yield lambda: ChatDb.postgresql(dsn, "node1", term=None)


@pytest.fixture
def db(opener: Opener) -> Iterator[ChatDb]:
    store = opener()
    yield store
    store.close()


def send(db: ChatDb, a: str, b: str, cid: str, text: str = "hi", at: int = 1) -> Sent:
    sent = db.send(a, b, cid, text, at)
    db.commit()
    return sent


def test_seq_per_conversation_and_idempotent_send(db: ChatDb, opener: Opener) -> None:
    first = send(db, "330", "331", "c1", "Hallo")
    assert (first.message.seq, first.duplicate) == (1, False)
    assert send(db, "331", "330", "c1", "Hi Anna").message.seq == 2  # same id, other sender
    assert send(db, "330", "332", "c2").message.seq == 1  # another conversation
    again = send(db, "330", "331", "c1", "Hallo")  # a retry: the stored message
    assert again == Sent(first.message, duplicate=True)
    with pytest.raises(Refusal) as caught:  # the same id for another message
        db.send("330", "331", "c1", "something else", 2)
    assert caught.value.details == {"field": "clientId", "reason": "reused"}
    db.rollback()
    assert [(m.seq, m.sender, m.text) for m in db.messages("331", "330", 0, 100)] == [
        (1, "330", "Hallo"),
        (2, "331", "Hi Anna"),
    ]
    assert db.messages("330", "331", 1, 100)[0].seq == 2  # since seq
    db.close()
    reopened = opener()  # a restart: numbering goes on, nothing reused
    assert send(reopened, "330", "331", "c3").message.seq == 3
    assert send(reopened, "330", "331", "c1", "Hallo").duplicate
    reopened.close()


def test_each_user_keeps_the_last_100_messages(db: ChatDb) -> None:
    """IM-03: 330 writes 120 messages to 331 and 331 gets 30 from 332. 330 keeps its newest
    100 (seq 21..120); 331 keeps the newest 100 of all 150 it took part in; a message neither
    keeps is gone from the store; seq numbers are never reused."""
    for i in range(120):
        db.send("330", "331", f"a{i}", f"m{i}", i)
    db.commit()
    assert db.kept("330") == db.kept("331") == HISTORY
    assert [m.seq for m in db.messages("330", "331", 0, 100)] == list(range(21, 121))
    for i in range(30):
        db.send("332", "331", f"b{i}", f"n{i}", 200 + i)
    db.commit()
    assert db.kept("331") == HISTORY and db.kept("332") == 30
    # 331 now keeps only 70 of the conversation with 330, while 330 still keeps 100.
    assert [m.seq for m in db.messages("331", "330", 0, 100)] == list(range(51, 121))
    assert [m.seq for m in db.messages("330", "331", 0, 100)] == list(range(21, 121))
    assert db.stored() == 100 + 30  # seq 1..20 were kept by no one: deleted
    [conv331_330, conv331_332] = sorted(db.conversations("331"), key=lambda c: c.partner)
    assert (conv331_330.partner, conv331_330.last_seq, conv331_330.kept) == ("330", 120, 70)
    assert (conv331_332.partner, conv331_332.kept, conv331_332.unread) == ("332", 30, 30)
    assert db.send("330", "331", "a-next", "x", 999).message.seq == 121


def test_read_watermark_only_moves_up(db: ChatDb) -> None:
    for i in range(5):
        send(db, "330", "331", f"c{i}")
    send(db, "331", "330", "r1")
    assert db.mark_read("331", "330", 3) == 3
    assert db.mark_read("331", "330", 2) == 3  # never down
    db.commit()
    [conv] = db.conversations("331")
    assert (conv.last_seq, conv.read_seq, conv.unread) == (6, 3, 2)  # 4, 5 from 330; 6 is own
    assert db.read_seq("330", "331") == 0  # each user has their own
    with pytest.raises(Refusal) as caught:
        db.mark_read("331", "330", 7)
    assert caught.value.details["reason"] == "beyondLast"


def test_forgetting_a_removed_account(db: ChatDb) -> None:
    send(db, "330", "331", "m1")
    send(db, "331", "332", "m2")
    db.mark_read("331", "330", 1)
    db.commit()
    assert db.forget_all_but({"330", "332"}) == ["331"]
    db.commit()
    assert db.owners() == {"330", "332"}
    assert db.kept("331") == 0 and db.read_seq("331", "330") == 0
    assert db.stored() == 2  # 330 and 332 keep theirs
    db.forget("330")
    db.commit()
    assert [m.client_id for m in db.messages("332", "331", 0, 100)] == ["m2"]
    assert db.stored() == 1  # m1: no one keeps it now


async def test_a_batch_commits_once_and_a_refused_request_changes_nothing(db: ChatDb) -> None:
    writer = ChatWriter(db)
    task = asyncio.create_task(writer.run())

    def bad(store: ChatDb) -> None:
        store.send("330", "331", "x1", "half done", 1)  # written, then refused: rolled back
        raise Refusal("partnerOffline", "test")

    try:
        results = await asyncio.gather(
            writer.submit(lambda s: s.send("330", "331", "m1", "one", 1)),
            writer.submit(bad),
            writer.submit(lambda s: s.send("330", "331", "m2", "two", 2)),
            return_exceptions=True,
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert writer.batches == 1  # one transaction, one fsync, for all three
    first, refused, second = results
    assert isinstance(first, Sent) and isinstance(second, Sent)
    assert isinstance(refused, Refusal) and refused.name == "partnerOffline"
    assert (first.message.seq, second.message.seq) == (1, 2)
    assert [m.client_id for m in db.messages("330", "331", 0, 100)] == ["m1", "m2"]


async def test_a_stopped_writer_finishes_its_batch_before_the_store_may_close(
    db: ChatDb,
) -> None:
    """Stopping the node cancels the writer while a batch runs in its worker thread, which
    cannot be stopped: the writer ends only after that batch, answering it with what it did
    (closing the store under the thread crashed the process; and a commit is not "nothing
    stored")."""
    writer = ChatWriter(db)
    task = asyncio.create_task(writer.run())
    inside, release = threading.Event(), threading.Event()

    def slow(store: ChatDb) -> Sent:
        inside.set()
        release.wait(TIMEOUT)
        return store.send("330", "331", "m1", "eins", 1)

    job = asyncio.create_task(writer.submit(slow))
    try:
        assert await asyncio.to_thread(inside.wait, TIMEOUT)
        task.cancel()
        for _ in range(20):  # turns of the loop: the cancellation is delivered at once
            await asyncio.sleep(0)
        assert not task.done()  # still in its batch
        release.set()
        sent = await asyncio.wait_for(job, TIMEOUT)
        assert (sent.message.seq, sent.duplicate) == (1, False)
        with pytest.raises(asyncio.CancelledError):
            await task
        assert db.stored() == 1
    finally:
        release.set()
        task.cancel()
        await asyncio.gather(task, job, return_exceptions=True)


USERS = st.sampled_from(["330", "331", "332"])


class StoreMachine(RuleBasedStateMachine):
    """The store against a model (SQLite, a history of 3 messages per user so the bound is
    reached often): seq per conversation counts every message ever sent in it; each user keeps
    the newest 3 messages they sent or received; a message is stored while one of its users
    keeps it; a retry answers the stored message; the watermark only moves up."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.db = ChatDb.sqlite(Path(self.dir.name) / "c.db", "node1", history=3)
        self.sent: list[tuple[str, str, str, int]] = []  # (sender, recipient, cid, seq)
        self.last: dict[frozenset[str], int] = {}
        self.read: dict[tuple[str, str], int] = {}
        self.n = 0

    def teardown(self) -> None:
        self.db.close()
        self.dir.cleanup()

    def kept(self, user: str) -> list[tuple[str, str, str, int]]:
        return [m for m in self.sent if user in m[:2]][-3:]

    @rule(a=USERS, b=USERS)
    def send(self, a: str, b: str) -> None:
        if a == b:
            return
        self.n += 1
        cid = f"c{self.n}"
        pair = frozenset((a, b))
        seq = self.last.get(pair, 0) + 1
        sent = self.db.send(a, b, cid, f"t{self.n}", self.n)
        self.db.commit()
        assert (sent.message.seq, sent.duplicate) == (seq, False)
        self.last[pair] = seq
        self.sent.append((a, b, cid, seq))
        if len(self.kept(a)) == 3:
            event("a user's history is full (the oldest message trimmed from here)")

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        mine = [m for m in self.sent if any(m in self.kept(u) for u in m[:2])]
        if not mine:
            return
        a, b, cid, seq = data.draw(st.sampled_from(mine))
        again = self.db.send(a, b, cid, f"t{cid[1:]}", 0)
        self.db.commit()
        assert (again.message.seq, again.duplicate) == (seq, True)

    @rule(a=USERS, b=USERS, seq=st.integers(0, 10))
    def mark_read(self, a: str, b: str, seq: int) -> None:
        if a == b:
            return
        last = self.last.get(frozenset((a, b)), 0)
        if seq > last:
            with pytest.raises(Refusal):
                self.db.mark_read(a, b, seq)
            self.db.rollback()
            return
        new = self.db.mark_read(a, b, seq)
        self.db.commit()
        if seq < self.read.get((a, b), 0):
            event("a watermark not moved down")
        self.read[(a, b)] = max(self.read.get((a, b), 0), seq)
        assert new == self.read[(a, b)]

    @invariant()
    def what_each_user_keeps(self) -> None:
        for user in ("330", "331", "332"):
            kept = self.kept(user)
            assert self.db.kept(user) == len(kept)
            for partner in ("330", "331", "332"):
                if partner == user:
                    continue
                want = [m[3] for m in kept if partner in m[:2]]
                got = [m.seq for m in self.db.messages(user, partner, 0, 100)]
                assert got == want
                assert self.db.last_seq(user, partner) == self.last.get(
                    frozenset((user, partner)), 0
                )
        assert self.db.stored() == len({m[2] for u in ("330", "331", "332") for m in self.kept(u)})


TestStore = StoreMachine.TestCase
TestStore.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
