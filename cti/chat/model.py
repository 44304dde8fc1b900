"""The rules of a chat message (IM-01..03), pure: what text is accepted, how a conversation
is named, how much history a user keeps. specs/chat.md."""

from __future__ import annotations

import unicodedata

import attrs

from cti.kernel.refusal import Refusal, invalid_field

HISTORY = 100  # messages each user keeps (IM-03): the newest 100 the user sent or received
MAX_TEXT = 2000  # characters of one message
MAX_CLIENT_ID = 64  # characters of a client message id
ALLOWED_CONTROLS = frozenset("\n\t")  # a line break and a tab are text; other controls are not

# Every refusal name a chat request may answer with (specs/chat.md, "Refusals").
REFUSALS = frozenset(
    {
        "invalidParameterValue",  # text, client id, seq, limit (details name the field)
        "notPermitted",  # another user's conversation; an account that is not a person
        "passwordChangeRequired",  # USER-01: nothing before the first password change
        "unknownChatPartner",  # no such user (or not a person: integrators do not chat)
        "partnerOffline",  # IM-02: the partner is signed in on no client
        "serviceNotSupported",  # a face without chat
        "resourceBusy",  # the chat writer has too many requests in hand
        "resourceOutOfService",  # the chat store could not commit: nothing was stored
    }
)


def check_text(text: str) -> str:
    """Plain text as sent, or a refusal: not empty, not only blanks, at most MAX_TEXT
    characters, no control characters but line break and tab (no escape sequences, no
    NUL, no bidirectional overrides), no unpaired surrogates."""
    # The zero-width joiner is allowed inside emoji; alone it would be an invisible message.
    if not text.replace("\u200d", "").strip():
        raise invalid_field("text", "empty", "text must not be empty")
    if len(text) > MAX_TEXT:
        raise invalid_field("text", "tooLong", f"text must be at most {MAX_TEXT} characters")
    for ch in text:
        if ch in ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(ch)
        # Cc: C0/C1 controls (ESC, NUL, DEL...); Cf: format controls such as the
        # bidirectional overrides that make a text read differently than it is stored
        # (U+202E), and zero-width characters; Cs: lone surrogates (not UTF-8 encodable).
        if category in ("Cc", "Cs") or (category == "Cf" and ch not in "\u200d"):
            raise invalid_field(
                "text",
                "controlCharacter",
                f"text must be plain text: U+{ord(ch):04X} is a control character",
            )
    return text


def check_client_id(client_id: str) -> str:
    """The sender's id of a message (idempotent send): 1..64 printable ASCII characters."""
    if not 1 <= len(client_id) <= MAX_CLIENT_ID or not all(" " < ch < "\x7f" for ch in client_id):
        raise invalid_field(
            "clientId",
            "invalid",
            f"clientId must be 1 to {MAX_CLIENT_ID} printable ASCII characters without spaces",
        )
    return client_id


def conversation(a: str, b: str) -> str:
    """The key of the conversation of two users: the same whichever of them asks."""
    if a == b:
        raise invalid_field("to", "self", "a conversation is between two users")
    low, high = sorted((a, b))
    return f"{low}\x1f{high}"  # a unit separator: no account name holds one


def partner_of(conv: str, user: str) -> str:
    low, high = conv.split("\x1f")
    if user == low:
        return high
    if user == high:
        return low
    raise ValueError(f"{user} is not in the conversation")


@attrs.frozen
class Message:
    """A stored message. ``seq``: its place in the conversation (1, 2, ...: assigned by the
    node, never reused); ``n``: its place among all messages of the node (what the history
    bound orders by); ``at``: the node's time, ms since the epoch."""

    n: int
    conv: str
    seq: int
    sender: str
    recipient: str
    client_id: str
    text: str
    at: int


def not_permitted(what: str) -> Refusal:
    return Refusal("notPermitted", what, {"field": "user"})
