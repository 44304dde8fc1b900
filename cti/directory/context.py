"""Directories as a context of the node (DIR-01..04, DIR-06)."""

from __future__ import annotations

from cti.directory import codec, evolve, queries, services
from cti.directory.state import DirectoryState
from cti.kernel.context import Context
from cti.kernel.decision import Decision

CONTEXT: Context[DirectoryState] = Context(
    name="directory",
    initial=DirectoryState,
    decision=Decision,
    commands=services.SERVICES,
    events=evolve.HANDLERS,
    snapshot=codec.SNAPSHOT,
    refusals=services.REFUSALS | {"unknownEntry"},
    queries=queries.QUERIES,
)
