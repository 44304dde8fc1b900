"""The journal part of a snapshot: the pending reminders."""

from __future__ import annotations

from typing import Any

import immutables

from cti.journal.state import JournalState
from cti.kernel.context import SnapshotPart


def encode(state: JournalState) -> dict[str, Any]:
    return {user: [[e, due] for e, due in sorted(m.items())] for user, m in state.reminders.items()}


def decode(doc: Any) -> JournalState:
    return JournalState(
        immutables.Map(
            {user: immutables.Map({e: due for e, due in pairs}) for user, pairs in doc.items()}
        )
    )


SNAPSHOT = SnapshotPart(format=1, encode=encode, decode=decode)
