"""Archives of the events retention drops from the log (specs/store.md, "Retention").

An archive is a gzip file of JSON lines, one stored event per line exactly as the log held it
(``seq``, ``ts_ms``, ``kind``, ``version``, ``data`` as the JSON text), and beside it a
manifest (``<name>.json``) with the node, the log's epoch, the first and last seq, the count
and the SHA-256 of the gzip file. Archives are written to a temporary name, flushed to disk
and renamed, so a crash leaves either a whole archive or none; :func:`verify` checks the hash
and that the seqs run gap-free from first to last. :func:`events` reads them back for a
replay.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from cti.store.base import EventStore, StoredEvent, StoreError


class ArchiveError(StoreError):
    """An archive is missing, damaged or does not fit the log (one line for the operator)."""


@attrs.frozen
class Manifest:
    node: str
    epoch: str
    first: int
    last: int
    count: int
    sha256: str
    file: str  # the gzip file's name, in the manifest's directory

    def path(self, directory: Path) -> Path:
        return directory / self.file


def name_of(node: str, epoch: str, first: int, last: int) -> str:
    return f"{node}-{epoch[:12]}-{first:012d}-{last:012d}.jsonl.gz"


def write(directory: Path, node: str, epoch: str, events: Iterable[StoredEvent]) -> Manifest:
    """Write ``events`` (gap-free, in order, at least one) as an archive in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{node}.partial.gz"
    digest = hashlib.sha256()
    first = last = count = 0
    with partial.open("wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            for event in events:
                if count and event.seq != last + 1:
                    raise ArchiveError(f"events to archive jump from {last} to {event.seq}")
                first = first or event.seq
                last = event.seq
                count += 1
                line = {
                    "seq": event.seq,
                    "ts_ms": event.ts_ms,
                    "kind": event.kind,
                    "version": event.version,
                    "data": event.data.decode(),
                }
                out.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        raw.flush()
        os.fsync(raw.fileno())
    if not count:
        partial.unlink()
        raise ArchiveError("nothing to archive")
    digest.update(partial.read_bytes())
    manifest = Manifest(node, epoch, first, last, count, digest.hexdigest(), "")
    manifest = attrs.evolve(manifest, file=name_of(node, epoch, first, last))
    partial.rename(manifest.path(directory))
    meta = directory / f"{manifest.file}.json"
    meta.write_text(json.dumps(attrs.asdict(manifest), indent=1) + "\n")
    with meta.open("rb") as f:
        os.fsync(f.fileno())
    _sync_dir(directory)
    return manifest


def manifests(directory: Path, epoch: str | None = None) -> list[Manifest]:
    """The archives in ``directory`` (of one log's ``epoch``), by first seq."""
    found = []
    for meta in sorted(directory.glob("*.jsonl.gz.json")):
        try:
            manifest = Manifest(**json.loads(meta.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise ArchiveError(f"unreadable archive manifest {meta}: {exc}") from None
        if epoch is None or manifest.epoch == epoch:
            found.append(manifest)
    return sorted(found, key=lambda m: m.first)


def verify(directory: Path, manifest: Manifest) -> None:
    """The archive's file has its manifest's hash and holds first..last without a gap."""
    path = manifest.path(directory)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArchiveError(f"archive {path}: {exc}") from None
    if hashlib.sha256(data).hexdigest() != manifest.sha256:
        raise ArchiveError(f"archive {path} is damaged: its SHA-256 is not the manifest's")
    count = 0
    for event in events(directory, [manifest]):
        count += 1
        if event.seq != manifest.first + count - 1:
            raise ArchiveError(f"archive {path} skips from {event.seq - 1} to {event.seq}")
    if count != manifest.count or manifest.first + count - 1 != manifest.last:
        raise ArchiveError(f"archive {path} holds {count} events, its manifest says otherwise")


def events(directory: Path, archives: Iterable[Manifest]) -> Iterator[StoredEvent]:
    """The events of ``archives`` in order (check contiguity with :func:`chain`)."""
    for manifest in archives:
        path = manifest.path(directory)
        try:
            with gzip.open(path, "rb") as lines:
                for line in lines:
                    row = json.loads(line)
                    yield StoredEvent(
                        row["seq"], row["ts_ms"], row["kind"], row["data"].encode(), row["version"]
                    )
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise ArchiveError(f"archive {path}: {exc}") from None


def chain(archives: list[Manifest], log_first: int) -> None:
    """The archives run gap-free from seq 1 to just before the log's first event."""
    expected = 1
    for manifest in archives:
        if manifest.first != expected:
            raise ArchiveError(
                f"archives jump from {expected - 1} to {manifest.first} ({manifest.file})"
            )
        expected = manifest.last + 1
    if log_first and expected != log_first:
        raise ArchiveError(f"the archives end at {expected - 1}, the log starts at {log_first}")


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def span(
    log: EventStore, first: int, last: int, directory: Path | None = None
) -> Iterator[StoredEvent]:
    """The stored events ``first``..``last`` of ``log``, those archived before its first event
    read from the archives in ``directory`` (of the log's epoch, checked for a gap); without
    ``directory``, archived events are an ArchiveError that says to give it (`cti calls show`,
    `cti trace` of an old call)."""
    start = log.first_seq()
    if first < start:
        if directory is None:
            raise ArchiveError(
                f"events {first}..{min(last, start - 1)} are archived (the log starts at seq "
                f"{start}): give the archive directory (--archive DIR)"
            )
        held = [m for m in manifests(directory, log.epoch) if m.last < start]
        if not held:  # a wrong directory, or another node's or log's archives
            raise ArchiveError(f"no archive of this log in {directory}")
        chain(held, start)  # every archived event there, from seq 1, none missing
        wanted = [m for m in held if m.last >= first and m.first <= last]
        for event in events(directory, wanted):
            if first <= event.seq <= last:
                yield event
        first = start
    for event in log.iter_from(first, batch=1000):
        if event.seq > last:
            break
        yield event
