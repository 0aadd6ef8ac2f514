"""Files private to the user: the database, and every export of it, holds health data about a
patient."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from monitor.errors import MonitorError

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077

_umask_lock = threading.RLock()


@contextmanager
def private_umask() -> Iterator[None]:
    """Files created inside (SQLite's -wal, -shm, backups) get no group or other access.

    The umask is process-wide: the lock keeps two of these from restoring each other's value.
    """
    with _umask_lock:
        previous = os.umask(PRIVATE_UMASK)
        try:
            yield
        finally:
            os.umask(previous)


def make_private_dirs(folder: Path) -> None:
    """Create missing folders as 0700; existing ones are left as the user set them."""
    with private_umask():
        folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)


def create_private_file(path: Path, exclusive: bool = False) -> None:
    """Create `path` as 0600 if it is missing (or fail if `exclusive` and it exists)."""
    flags = os.O_CREAT | os.O_WRONLY | (os.O_EXCL if exclusive else 0)
    with private_umask():
        os.close(os.open(path, flags, PRIVATE_FILE_MODE))


@contextmanager
def open_private(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Write `path` as a new 0600 file (an export of the record): written beside it under a
    temporary name and renamed over it when complete, so whatever was there is replaced, never
    changed (its mode, a hard link's bytes) and a failed write leaves it as it was; new folders
    are 0700. A symlink or anything but a regular file at `path` is refused (MonitorError): an
    export must not chmod or write through a link's target or a device such as /dev/null."""
    refuse_all_but_a_regular_file(path)
    make_private_dirs(path.parent)
    with private_umask():
        temporary = Path(tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part",
                                          dir=path.parent)[1])  # O_EXCL, 0600
    try:
        with open(temporary, mode, **kwargs) as fh:
            yield fh
        refuse_all_but_a_regular_file(path)  # nothing swapped in meanwhile
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def refuse_all_but_a_regular_file(path: Path) -> None:
    """MonitorError unless `path` is missing or a regular file (a symlink counts as neither)."""
    try:
        found = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(found):
        raise MonitorError(f"{path} is a symlink: give the path of a new or regular file (an "
                           "export is written as a file of its own, never through a link)")
    if not stat.S_ISREG(found):
        raise MonitorError(f"{path} is not a regular file (a device, pipe or folder): give the "
                           "path of a new or regular file")
