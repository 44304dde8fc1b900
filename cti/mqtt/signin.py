"""Broker sign-in names: an account's name, qualified by its node on a shared broker.

One broker serving several nodes (specs/security.md, "Several nodes on one broker") has one
password file, so two sites' accounts ``331`` must sign in under different names: there an
account signs in as ``{name}@{node}`` (account names cannot contain ``@``). Topics always
carry the bare account name (``cti/{node}/users/{name}/...``): clients sign in with the
qualified name and address their topics with :func:`account_of` it.
"""

from __future__ import annotations

import re

SEPARATOR = "@"
# A node name is a topic level and part of broker user names: no `/`, `+`, `#`, `@`, spaces.
NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")  # fullmatch: "$" takes a "\n"


def qualified(name: str, node: str) -> str:
    """What account ``name`` of ``node`` signs in as on a shared broker."""
    return f"{name}{SEPARATOR}{node}"


def account_of(user: str) -> str:
    """The account name in a sign-in name: ``331@branch`` -> ``331``, ``331`` -> ``331``."""
    return user.partition(SEPARATOR)[0]
