"""Instant messaging between signed-in UC users (IM-01..03, specs/chat.md).

Not a context of the node's event log: chat has a store of its own (``chat_db.py``, an SQLite
file ``{node}.chat.db`` or tables in the node's PostgreSQL database) with a writer of its own,
so chat volume never waits in, or slows, the call log's write path. The rules are pure
(``model.py``: text, conversations, the history bound; ``sessions.py``: who is online).
"""
