"""Where recordings are kept: content-addressed WAV files in the data directory,
``<data>/<node>.voicemail/<sha256[:2]>/<sha256>.wav``, outside the event log (VM-01).

A file is written to a temporary name, fsynced, renamed and its directory fsynced before
:meth:`AudioStore.put` returns, so the event that references it is only committed once the
bytes are durable: after kill -9 a committed ``messageRecorded`` always finds its file. A file
already there (the same bytes: the same hash) is not written again. Reading checks the hash,
so what is played is exactly what was stored.

Files no message references any more are removed by :meth:`AudioStore.sweep` (run by
cti.voicemail.audio_sweep after a deletion is committed, and at start). A file being stored
for a message not yet committed is *pending* from before it is written until the caller
:meth:`releases <AudioStore.release>` it after the command was decided; a sweep keeps every
file referenced by the committed state it was given, every pending one, and every one released
since that state was read (:meth:`begin_sweep`), so it never removes a file a committed or
committing message names. A crash may leave a file behind (removed by the next sweep), never
take one away.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter
from collections.abc import Set
from pathlib import Path


class AudioMissing(Exception):
    """No intact file for a hash."""


class AudioStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        # Taken by put (to mark its file pending), release, and by sweep around each
        # decision to remove a file: a file is never removed while a put of it is under way.
        self._lock = threading.Lock()
        self._pending: Counter[str] = Counter()
        self._released: set[str] = set()

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise AudioMissing(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}.wav"

    def put(self, data: bytes) -> str:
        """Store ``data`` durably; its SHA-256 (hex). Runs in a worker thread. The file is
        pending (no sweep removes it) until :meth:`release` is called with the hash."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(sha)
        with self._lock:
            self._pending[sha] += 1
        try:
            self._write(path, sha, data)
        except BaseException:
            self.release(sha)
            raise
        return sha

    def _write(self, path: Path, sha: str, data: bytes) -> None:
        if path.exists() and self._intact(path, sha):
            return
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        for folder in (path.parent, self.root):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def release(self, sha256: str) -> None:
        """The command naming ``sha256`` was decided (committed or refused): from the next
        :meth:`begin_sweep` on, only a message in the committed state keeps the file."""
        with self._lock:
            self._pending[sha256] -= 1
            if self._pending[sha256] <= 0:
                del self._pending[sha256]
            self._released.add(sha256)

    def begin_sweep(self) -> frozenset[str]:
        """Call on the event loop right where the committed state's references are read (no
        await in between): the hashes pending or released since the last call, which the
        state may not show yet. Pass them to :meth:`sweep` with the references."""
        with self._lock:
            kept = frozenset(self._pending) | frozenset(self._released)
            self._released.clear()
        return kept

    def sweep(self, referenced: Set[str], kept: Set[str]) -> list[str]:
        """Remove every file (and temporary file of a put that died) whose hash is neither
        ``referenced`` (by a message of the committed state) nor ``kept`` (begin_sweep) nor
        pending or released now (a put that began after begin_sweep); the hashes removed.
        Runs in a worker thread; one sweep at a time."""
        removed: list[str] = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for path in sorted(folder.iterdir()):
                sha = path.name.split(".", 1)[0]
                with self._lock:
                    # _released now: put and committed after begin_sweep read the state.
                    if sha in referenced or sha in kept or sha in self._pending:
                        continue
                    if sha in self._released:
                        continue
                    path.unlink(missing_ok=True)
                removed.append(sha)
        return removed

    def files(self) -> list[str]:
        """The hashes of the files stored (tests, the operator)."""
        return sorted(p.stem for p in self.root.glob("*/*.wav"))

    def get(self, sha256: str) -> bytes:
        """The stored bytes of ``sha256``; raises AudioMissing if absent or damaged."""
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise AudioMissing(f"no recording {sha256}") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise AudioMissing(f"recording {sha256} is damaged")
        return data

    @staticmethod
    def _intact(path: Path, sha: str) -> bool:
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha
