"""Removing recordings no message refers to any more (VM-02: a deleted message's WAV file).

A live follower of the log (cti.app.follower): at start, and after every committed batch with
a ``messageDeleted`` or ``mailboxRemoved``, it reads the references of the committed state
(``node.state`` is only ever the durable state: cti.app.node) and removes, in a worker thread,
every file no message names (cti.voicemail.audio_db.AudioStore.sweep; the same bytes may be
another message's, so the file stays while any message refers to it). It runs outside the
writer: a slow disk never holds up call control.

Crash safety: a file is removed only after the event that dropped its last reference is
durable, and never while a put of it is under way (pending). Killed between that commit and
the sweep, the file is left behind, and the sweep at the next start removes it; killed
between a put and its commit, the file is unreferenced and goes the same way. A crash never
removes a referenced file.
"""

from __future__ import annotations

import asyncio

import structlog

from cti.app.feed import CommitFeed
from cti.app.follower import FollowerHealth, supervised
from cti.app.node import Node
from cti.voicemail.audio_db import AudioStore
from cti.voicemail.events import MailboxRemoved, MessageDeleted

log = structlog.get_logger(__name__)
DROPS = (MessageDeleted, MailboxRemoved)


class AudioSweeper:
    """The follower as a face of ``cti serve`` (start, stop, health)."""

    name = "voicemail-audio-sweep"

    def __init__(self, node: Node, audio: AudioStore) -> None:
        self.node = node
        self.audio = audio
        self.health = FollowerHealth()
        self.sweeps = 0  # sweeps done since start
        self.removed = 0  # files removed since start
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Condition()
        self.position = -1  # the last seq looked at (after the start's sweep)

    async def caught_up(self, seq: int) -> None:
        """Return once the events up to ``seq`` were looked at (and swept after); tests."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.position >= seq)

    async def _moved(self, seq: int) -> None:
        async with self._progress:
            self.position = self.health.position = seq
            self._progress.notify_all()

    async def start(self) -> None:
        self._task = asyncio.create_task(
            supervised(self.name, self.run, health=self.health), name=self.name
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def sweep(self) -> list[str]:
        """One sweep against the committed state now; the hashes removed."""
        kept = self.audio.begin_sweep()  # no await between this and reading the state
        referenced = self.node.state.voicemail.audio_in_use()
        removed = await asyncio.to_thread(self.audio.sweep, referenced, kept)
        self.sweeps += 1
        self.removed += len(removed)
        if removed:
            log.info("voicemail.audio_removed", files=len(removed))
        return removed

    async def run(self) -> None:
        feed: CommitFeed = self.node.feed
        seen = feed.last_seq
        await self.sweep()  # what a crash left behind
        await self._moved(seen)
        while True:
            await feed.wait_beyond(seen)
            last = feed.last_seq
            events = feed.read(seen + 1, last - seen)
            seen = last
            # Fallen behind the in-memory tail (None): sweep, something may have been dropped.
            if events is None or any(isinstance(x.event, DROPS) for x in events):
                await self.sweep()
            await self._moved(seen)
