"""Keys the node keeps beside its log, never in it (HELPERS: no secret in a log)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import attrs

from cti.site import Site


def private_key(path: Path) -> bytes:
    """The key in ``path``: made at the first start, kept mode 0600 (never logged)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        key = path.read_text().strip()
        if key:
            return key.encode()
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    key = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key.encode()


def with_conference_key(site: Site, data_dir: Path) -> Site:
    """The site with the key its conference PINs are derived from (cti.conferences.pins):
    ``{node}.conference-key`` in the data directory. A standby node on another machine needs
    the same file (specs/conferences.md)."""
    if site.conferences is None:
        return site
    key = private_key(data_dir / f"{site.node}.conference-key")
    return attrs.evolve(site, conferences=attrs.evolve(site.conferences, pin_key=key))
