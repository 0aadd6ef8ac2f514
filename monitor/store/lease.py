"""Which monitor processes are alive: a per-process lease that a dead process cannot hold.

Each process takes an exclusive `flock` on a file of its own for as long as it runs; the kernel
drops the lock when the process dies, however it dies (SIGKILL, power cut). A session row names
the instance that writes it, so start-up recovery closes `crashed` only the sessions whose
instance's lock can be taken, never those of a second `painmon` running beside this one.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor import paths


def lease_dir() -> Path:
    return paths.state_dir() / "instances"


class InstanceLease:
    """Held from construction until `release()` or the end of the process."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or lease_dir()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.instance_id = uuid.uuid4().hex
        self.path = self.folder / f"{self.instance_id}.lock"
        self._fd: int | None = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        self.path.unlink(missing_ok=True)
        os.close(fd)  # closing the descriptor drops the lock


def is_alive(instance_id: str, folder: Path | None = None) -> bool:
    """True while the process that took `instance_id`'s lease runs (this one included)."""
    path = (folder or lease_dir()) / f"{instance_id}.lock"
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the lock just taken from a dead process
    path.unlink(missing_ok=True)  # the dead process's file: nothing will take it again
    return False


# A clean end that a slow or locked database did not take before the process had to exit: kept
# beside the leases, applied by the next start's recovery instead of closing the session `crashed`.
CLOSE_NOTE_SUFFIX = ".close.json"


def note_unwritten_close(database: str, session_id: int, fields: dict[str, Any],
                         folder: Path | None = None) -> Path:
    folder = folder or lease_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{uuid.uuid4().hex}{CLOSE_NOTE_SUFFIX}"
    note = {"database": database, "session_id": session_id,
            **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}}
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(note, fh)
    return path


def close_notes(database: str, folder: Path | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """The unwritten clean ends noted for `database`, with their files (to delete once applied)."""
    found = []
    for path in sorted((folder or lease_dir()).glob(f"*{CLOSE_NOTE_SUFFIX}")):
        try:
            note = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if note.get("database") == database:
            note["ended_at"] = datetime.fromisoformat(note["ended_at"])
            found.append((path, note))
    return found
