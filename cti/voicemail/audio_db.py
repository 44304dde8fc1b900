"""Where recordings are kept: content-addressed WAV files in the data directory,
``<data>/<node>.voicemail/<sha256[:2]>/<sha256>.wav``, outside the event log (VM-01).

A file is written to a temporary name, fsynced, renamed and its directory fsynced before
:meth:`AudioStore.put` returns, so the event that references it is only committed once the
bytes are durable: after kill -9 a committed ``messageRecorded`` always finds its file. A file
already there (the same bytes: the same hash) is not written again. Reading checks the hash,
so what is played is exactly what was stored.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class AudioMissing(Exception):
    """No intact file for a hash."""


class AudioStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise AudioMissing(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}.wav"

    def put(self, data: bytes) -> str:
        """Store ``data`` durably; its SHA-256 (hex). Runs in a worker thread."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(sha)
        if path.exists() and self._intact(path, sha):
            return sha
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
        return sha

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
