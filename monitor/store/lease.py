"""Which monitor processes are alive: a per-process lease that a dead process cannot hold.

Each process takes an exclusive `flock` on a file of its own for as long as it runs; the kernel
drops the lock when the process dies, however it dies (SIGKILL, power cut). A session row names
the instance that writes it, so start-up recovery closes `crashed` only the sessions whose
instance's lock can be taken, never those of a second `painmon` running beside this one.

Every process that uses a database sees its leases, whatever its OS user or state folder: for a
SQLite record they lie beside its file (`painmon.db.leases/`); in PostgreSQL they are session
advisory locks, held by a connection of the process (the server drops them when it dies or its
connection breaks); other databases fall back to this user's state folder.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from monitor import paths
from monitor.errors import MonitorError

log = logging.getLogger(__name__)

LEASES_SUFFIX = ".leases"
MEMORY_DATABASES = (None, "", ":memory:")


def _advisory_key(instance_id: str) -> int:
    """The instance's PostgreSQL advisory lock: 60 bits of its id (a positive bigint)."""
    return int(instance_id[:15], 16)


def _advisory(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "postgresql"


def lease_dir(database: str | None = None) -> Path:
    """Where the leases of the processes using `database` (a URL) lie: beside a SQLite file,
    else (a server, in memory, not given) in this user's state folder."""
    if database is not None:
        url = make_url(database)
        if url.get_backend_name() == "sqlite" and url.database not in MEMORY_DATABASES:
            file = Path(url.database)
            return file.with_name(file.name + LEASES_SUFFIX)
    return paths.state_dir() / "instances"


class InstanceLease:
    """This process's instance: held in every lease folder it was asked to `hold` (one per
    database it writes) until `release()` or the end of the process."""

    def __init__(self) -> None:
        self.instance_id = uuid.uuid4().hex
        self._held: dict[Path, int] = {}
        self._connections: dict[str, Connection] = {}  # database URL -> the lock's connection

    def hold_for(self, engine: Engine) -> None:
        """Take this instance's lease where every process using `engine`'s database looks."""
        if not _advisory(engine):
            self.hold(lease_dir(str(engine.url)))
            return
        url = str(engine.url)
        if url in self._connections:
            return
        conn = engine.connect()
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _advisory_key(self.instance_id)})
        conn.commit()  # the lock is the session's: it outlives the transaction
        self._connections[url] = conn

    def hold(self, folder: Path) -> None:
        """Take this instance's lock in `folder` too (once per folder)."""
        if folder in self._held:
            return
        path = folder / f"{self.instance_id}.lock"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as exc:
            raise MonitorError(f"cannot keep this process's lease in {folder}: "
                               f"{exc.strerror or exc}; the database's folder must be writable"
                               ) from None
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._held[folder] = fd

    def release(self) -> None:
        connections, self._connections = self._connections, {}
        key = {"key": _advisory_key(self.instance_id)}
        for conn in connections.values():
            try:  # at once (a closed connection's lock goes only when the server's backend ends)
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                conn.commit()
            except SQLAlchemyError as exc:
                log.warning("could not give back the lease in the database: %s", exc)
            conn.invalidate()  # really closed, never pooled with a lock it might still hold
            conn.close()
        held, self._held = self._held, {}
        for folder, fd in held.items():
            (folder / f"{self.instance_id}.lock").unlink(missing_ok=True)
            os.close(fd)  # closing the descriptor drops the lock


def is_alive_for(instance_id: str, engine: Engine) -> bool:
    """Whether the process that wrote with `instance_id` into `engine`'s database still runs."""
    if not _advisory(engine):
        return is_alive(instance_id, lease_dir(str(engine.url)))
    key = {"key": _advisory_key(instance_id)}
    with engine.connect() as conn:
        free = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar()
        if free:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        conn.commit()
    return not free


def is_alive(instance_id: str, folder: Path | None = None) -> bool:
    """True while the process that took `instance_id`'s lease runs (this one included); a lease
    this process may not open counts as alive (a session is never closed on a guess)."""
    path = (folder or lease_dir()) / f"{instance_id}.lock"
    try:
        fd = os.open(path, os.O_RDONLY)  # enough for flock
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("cannot read the lease %s (%s): its session is taken as running", path, exc)
        return True
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
    folder = folder or lease_dir(database)
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
    for path in sorted((folder or lease_dir(database)).glob(f"*{CLOSE_NOTE_SUFFIX}")):
        try:
            note = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if note.get("database") == database:
            note["ended_at"] = datetime.fromisoformat(note["ended_at"])
            found.append((path, note))
    return found
