"""The pure rules of chat (cti.chat.model, specs/chat.md): plain text only, client ids, the
conversation key; who is online from sessions and a timeout (cti.chat.sessions, rule 2)."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from cti.app.config import ChatSettings, config_from_dict
from cti.chat.model import MAX_TEXT, check_client_id, check_text, conversation, partner_of
from cti.chat.sessions import MAX_SESSIONS, TIMEOUT_MS, Sessions
from cti.kernel.refusal import Refusal
from cti.site import SiteError


@pytest.mark.parametrize(
    "text",
    [
        "Hallo",
        "Grüße aus Köln 👋",
        "👩\u200d💻",
        "line 1\nline 2\twith a tab",
        "x" * MAX_TEXT,
        "<b>as text</b>",
    ],
)
def test_plain_text_is_accepted_as_sent(text: str) -> None:
    assert check_text(text) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\u200d", "empty"),  # the emoji joiner alone: an invisible message
        (" \u200d\u200d\n", "empty"),
        ("x" * (MAX_TEXT + 1), "tooLong"),
        ("bell\x07", "controlCharacter"),
        ("\x1b[31mred", "controlCharacter"),  # a terminal escape sequence
        ("nul\x00", "controlCharacter"),
        ("del\x7f", "controlCharacter"),
        ("c1\x85", "controlCharacter"),
        ("abc\u202edcba", "controlCharacter"),  # a right-to-left override
        ("zero\u200bwidth", "controlCharacter"),
        ("cr\r\n", "controlCharacter"),  # line breaks are \n alone
        ("lone \ud800 surrogate", "controlCharacter"),
    ],
)
def test_anything_but_plain_text_is_refused(text: str, reason: str) -> None:
    with pytest.raises(Refusal) as caught:
        check_text(text)
    assert caught.value.name == "invalidParameterValue"
    assert caught.value.details == {"field": "text", "reason": reason}


@pytest.mark.parametrize("cid", ["", "a b", "x" * 65, "ümlaut", "tab\t"])
def test_client_ids_are_printable_ascii(cid: str) -> None:
    with pytest.raises(Refusal) as caught:
        check_client_id(cid)
    assert caught.value.details["field"] == "clientId"
    assert check_client_id("m-1f2e") == "m-1f2e"


def test_a_conversation_is_the_same_from_both_sides() -> None:
    assert conversation("331", "330") == conversation("330", "331")
    assert partner_of(conversation("330", "331"), "331") == "330"
    with pytest.raises(Refusal):
        conversation("330", "330")
    with pytest.raises(ValueError):
        partner_of(conversation("330", "331"), "332")


def test_online_from_sessions_and_a_timeout() -> None:
    s = Sessions()
    s.seen("330", "tab-1", 0)
    s.seen("330", "phone", 1000)
    assert s.changes(1000) == {"330": True}
    s.gone("330", "tab-1")  # one client closed: still online on the other
    assert s.online("330", 2000) and s.changes(2000) == {}
    # The other stops refreshing (its Will was lost with a broker): offline after the timeout.
    assert s.online("330", 1000 + TIMEOUT_MS - 1)
    assert not s.online("330", 1000 + TIMEOUT_MS)
    assert s.expire(1000 + TIMEOUT_MS) == [("330", "phone")]
    assert s.changes(1000 + TIMEOUT_MS) == {"330": False}
    assert s.users() == []


def test_a_reconnect_drops_the_sessions_the_broker_no_longer_holds() -> None:
    s = Sessions()
    s.seen("330", "a", 0)
    s.seen("331", "b", 0)
    s.changes(0)
    s.resync()  # the node's connection to the broker is new
    s.seen("331", "b", 10)  # 331's retained marker is there again; 330's was cleared
    s.settle()
    assert s.changes(10) == {"330": False}
    assert s.clients("331") == ["b"]


def test_a_user_holds_at_most_max_sessions() -> None:
    """Ever new client ids (a script announcing without end) do not grow the node's memory
    or the broker's retained markers: the least recently seen session goes."""
    s = Sessions()
    for i in range(MAX_SESSIONS):
        assert s.seen("330", f"c{i}", i) == []
    s.seen("330", "c0", 100)  # refreshed: now the newest
    assert s.seen("330", "new", 101) == ["c1"]
    assert s.seen("330", "newer", 102) == ["c2"]
    assert len(s.clients("330")) == MAX_SESSIONS and "c0" in s.clients("330")
    assert s.seen("331", "a", 0) == []  # per user


USERS = st.sampled_from(["330", "331"])
CLIENTS = st.sampled_from(["a", "b", "c"])


class SessionMachine(RuleBasedStateMachine):
    """Against a model: a user is online iff a session of theirs was seen within the
    timeout and not cleared since; ``changes`` reports exactly the flips; after a broker
    reconnect (``resync``) the sessions whose marker did not come again are dropped by
    ``settle``."""

    def __init__(self) -> None:
        super().__init__()
        self.s = Sessions()
        self.now = 0
        self.model: dict[tuple[str, str], int] = {}
        self.shown: dict[str, bool] = {}
        self.unconfirmed: set[tuple[str, str]] = set()

    @rule(user=USERS, client=CLIENTS)
    def seen(self, user: str, client: str) -> None:
        self.s.seen(user, client, self.now)
        self.model[(user, client)] = self.now
        if (user, client) in self.unconfirmed:
            event("a session confirmed after a reconnect")
        self.unconfirmed.discard((user, client))

    @rule(user=USERS, client=CLIENTS)
    def gone(self, user: str, client: str) -> None:
        self.s.gone(user, client)
        self.model.pop((user, client), None)
        self.unconfirmed.discard((user, client))

    @rule()
    def resync(self) -> None:  # a new broker connection
        self.s.resync()
        self.unconfirmed = set(self.model)

    @rule()
    def settle(self) -> None:  # its retained markers are in
        self.s.settle()
        if self.unconfirmed:
            event("settle dropped a session")
        for key in self.unconfirmed:
            del self.model[key]
        self.unconfirmed = set()

    @rule(ms=st.integers(0, 2 * TIMEOUT_MS))
    def time_passes(self, ms: int) -> None:
        self.now += ms

    @rule()
    def expire(self) -> None:
        expired = self.s.expire(self.now)
        assert sorted(expired) == sorted(
            k for k, at in self.model.items() if self.now - at >= TIMEOUT_MS
        )
        if expired:
            event("a session expired")
        for key in expired:
            del self.model[key]
            self.unconfirmed.discard(key)

    def expected(self, user: str) -> bool:
        return any(u == user and self.now - at < TIMEOUT_MS for (u, _), at in self.model.items())

    @invariant()
    def online(self) -> None:
        for user in ("330", "331"):
            assert self.s.online(user, self.now) == self.expected(user)

    def check_flips(self, flips: dict[str, bool], users: tuple[str, ...]) -> None:
        assert set(flips) <= set(users)
        for user in users:
            now = self.expected(user)
            if self.shown.get(user, False) != now:
                event(f"online flipped to {now}")
                assert flips.get(user) == now
                self.shown[user] = now
            else:
                assert user not in flips

    @rule()
    def changes(self) -> None:
        self.check_flips(self.s.changes(self.now), ("330", "331"))

    @rule(user=USERS)
    def changes_of_one(self, user: str) -> None:  # what a marker of ``user`` asks
        self.check_flips(self.s.changes(self.now, (user,)), (user,))


TestSessions = SessionMachine.TestCase


def test_the_site_file_s_chat_section() -> None:
    """IM-02: store-and-forward is off unless the site file turns it on; a bad value is a
    one-line configuration error naming the section."""
    raw = tomllib.loads(resources.files("cti.sites").joinpath("example.toml").read_text())
    assert config_from_dict(raw).chat == ChatSettings(store_and_forward=False)
    on = config_from_dict({**raw, "chat": {"store_and_forward": True}})
    assert on.chat.store_and_forward is True
    with pytest.raises(SiteError, match=r"\[chat\]: store_and_forward must be true or false"):
        config_from_dict({**raw, "chat": {"store_and_forward": "yes"}})
    with pytest.raises(SiteError, match=r"\[chat\]"):
        config_from_dict({**raw, "chat": {"history": 500}})
