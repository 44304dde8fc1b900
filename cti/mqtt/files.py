"""Replacing a file a broker reads: atomically, with an exact mode, keeping its owner and group.

An operator's Mosquitto runs as its own user and reads the node's files through their group
(``chgrp -R mosquitto DIR``, specs/security.md "Your own broker"). A file replaced by a new
one (temporary file, then rename) would get the writer's user and group, and the broker would
fail to read it at its next reload: so the new file takes the group of the one it replaces,
and its owner too where the node may give it (as root); a new file gets the directory's group
if the directory is setgid (the kernel's rule). The mode is always the one asked for, whatever
the umask and whatever the old file had: the documented one (specs/security.md).
"""

from __future__ import annotations

import contextlib
import grp
import os
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


def replace_file(path: Path, data: str | bytes, mode: int) -> None:
    """Replace ``path`` atomically (a broker reloading meanwhile reads the old or the new)."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        old: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        old = None
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # a crash's leftover: its owner and mode are not to be inherited
    # 0600 until its owner, group and mode are set: nobody reads it in between.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            if old is not None:
                _keep_owner(fd, path, old)
            os.fchmod(fd, mode)  # after the chown, which may clear mode bits
            out.write(raw)
            out.flush()
            os.fsync(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _keep_owner(fd: int, path: Path, old: os.stat_result) -> None:
    new = os.fstat(fd)
    if (new.st_uid, new.st_gid) == (old.st_uid, old.st_gid):
        return
    with contextlib.suppress(PermissionError):  # only root may give a file to another user
        os.fchown(fd, old.st_uid, old.st_gid)
        return
    # The broker reads through the group (the documented way): that one must stay.
    with contextlib.suppress(PermissionError):  # a member of the group may keep it
        os.fchown(fd, -1, old.st_gid)
        return
    group = _group(old.st_gid)
    log.warning(
        "broker.file_group_changed",
        file=str(path),
        was=group,
        now=_group(new.st_gid),
        action=(
            f"the node's user is not in group {group}, so the new file is not in it: if your "
            f"broker reads it through that group, it cannot after its next reload. "
            f"chgrp -R {group} {path.parent}, and make the node's user a member of {group} "
            f"(usermod -aG {group} USER) or run the node as the files' owner"
        ),
    )


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
