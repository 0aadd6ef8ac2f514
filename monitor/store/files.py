"""Files private to the user: the database, and every export of it, holds health data about a
patient."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

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


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """Open `path` for writing as 0600 (an export of the record): a new file is created private,
    an existing one is made private before anything is written into it; new folders are 0700."""
    make_private_dirs(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise
