"""The chat's own store (cti.chat.chat_db) on SQLite and on PostgreSQL, the same tests:
idempotent send by client id, seq per conversation assigned by the store, the history bound
of 100 messages per user (IM-03), the read watermark, and the writer's group commit with a
savepoint per request (a refused request in a batch changes nothing, the others commit)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cti.chat.chat_db import ChatDb, ChatWriter, Sent
from cti.chat.model import HISTORY
from cti.kernel.refusal import Refusal
from tests.postgres import private_schema

Opener = Callable[[], ChatDb]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the node's chat store (again: a restart sees what was committed)."""
    if request.param == "sqlite":
        yield lambda: ChatDb.sqlite(tmp_path / "node1.chat.db", "node1")
    else:
        with private_schema() as dsn:
            yield lambda: ChatDb.postgresql(dsn, "node1")


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
