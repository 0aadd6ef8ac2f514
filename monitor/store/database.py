"""Open the monitor's database: a private SQLite file by default, any SQLAlchemy URL by setting.

Every problem a user can fix (bad URL, missing driver, unwritable folder, a file that is not a
database, a database from a newer version) becomes a one-line MonitorError saying what to do.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from monitor.errors import MonitorError
from monitor.paths import database_file
from monitor.store.files import create_private_file, make_private_dirs, private_umask
from monitor.store.migrate import check_current, upgrade

log = logging.getLogger(__name__)

# Short, so a database locked by another program shows up as failing soon; the writer retries.
BUSY_TIMEOUT_MS = 1000
MEMORY_DATABASES = (None, "", ":memory:")
URL_EXAMPLES = "e.g. sqlite:////home/nurse/painmon.db or postgresql+psycopg://user@host/painmon"

# Lower-case fragments of SQLite's messages -> what the user can do about them.
HINTS = {
    "file is not a database": "it is some other file: move it aside or set store.url to "
    "another path",
    "unable to open database file": "check that the folder exists and is writable",
    "readonly": "fix the permissions of the file and its folder, or set store.url to another path",
    "locked": "another program holds the database: close it or wait",
    "disk is full": "free some disk space",
}


def describe_url(url: str) -> str:
    """The URL for logs and messages, password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(malformed database URL)"


def explain(exc: BaseException) -> str:
    """First line of the database's own message, plus a hint when it is a known one."""
    reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
    hint = next((text for key, text in HINTS.items() if key in reason.lower()), None)
    return f"{reason}; {hint}" if hint else reason


POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full


def is_disk_full(exc: BaseException) -> bool:
    """Whether the database refused a write for want of disk space (it will not pass by itself)."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return True
    if getattr(orig, "sqlstate", None) == POSTGRES_DISK_FULL:
        return True
    return isinstance(orig, OSError) and orig.errno == errno.ENOSPC


def open_database(url: str | None = None, create: bool = True, reading: bool = False) -> Engine:
    """Engine for `url` (default: the private SQLite file), upgraded to the current schema.

    Only the commands that record (run, live, demo) create a database; the reading ones pass
    `create=False`, so a mistyped --db is refused instead of read as an empty record. For the
    commands that only read (`reading`: export, replay, evaluation), a SQLite file this process
    may not write (an archive copy: mode 0444, a read-only folder or disk) is opened read-only
    (`is_read_only`), neither upgraded nor switched to WAL.
    """
    parsed = _parse(url)
    path = _sqlite_file(parsed)
    where = str(path) if path else parsed.render_as_string(hide_password=True)
    if not create:
        _must_exist(parsed, path)
        if reading and path is not None and not path.is_dir() and not _writable(path):
            return _open_read_only(path, where)
    if path is not None and path.is_dir():
        raise MonitorError(f"store.url names the folder {path}: give the path of a database file")
    if path is not None and not path.exists():
        try:
            make_private_dirs(path.parent)
            create_private_file(path)
        except OSError as exc:
            raise MonitorError(
                f"cannot create the database {path}: {exc.strerror or exc}; "
                "choose a writable location (store.url)"
            ) from None
    engine = _create_engine(parsed)
    with _refused(engine, where, "use"), private_umask():
        if path is not None:
            _use_wal(engine)
        upgrade(engine, path)
    log.info("database %s ready", where)
    return engine


def is_read_only(engine: Engine) -> bool:
    """True for a database opened read-only (see open_database)."""
    return engine.url.query.get("mode") == "ro"


def _writable(path: Path) -> bool:
    """Whether this process may change the file, and create its -wal / -shm beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _open_read_only(path: Path, where: str) -> Engine:
    """SQLite's read-only mode; `immutable` too where no -shm exists and none can be made (a
    read-only folder or disk: then no process is writing the file, or it would be there)."""
    immutable = not path.with_name(path.name + "-shm").exists() and not os.access(path.parent,
                                                                                 os.W_OK)
    query = "mode=ro" + ("&immutable=1" if immutable else "") + "&uri=true"
    engine = _create_engine(make_url(f"sqlite:///file:{quote(str(path.resolve()))}?{query}"))
    with _refused(engine, where, "read", " (read-only)"):
        check_current(engine)
    log.info("database %s opened read-only", where)
    return engine


@contextmanager
def _refused(engine: Engine, where: str, verb: str, mode: str = "") -> Iterator[None]:
    """A database that cannot be set up is given back and refused in one line naming it."""
    try:
        yield
    except MonitorError as exc:
        engine.dispose()
        raise MonitorError(f"database {where}{mode}: {exc}") from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise MonitorError(f"cannot {verb} the database {where}: {explain(exc)}") from None


def _must_exist(url: URL, path: Path | None) -> None:
    if url.get_backend_name() == "sqlite" and path is None:
        raise MonitorError("an in-memory database holds no record: check --db or store.url")
    if path is not None and not path.exists():
        raise MonitorError(f"no database at {path}: check --db or store.url")


def _parse(url: str | None) -> URL:
    if url is None:
        return URL.create("sqlite", database=str(database_file()))
    try:
        return make_url(url)
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise MonitorError(f"store.url is not a valid database URL ({URL_EXAMPLES})") from None


def _sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL; None for other databases and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or url.database in MEMORY_DATABASES:
        return None
    return Path(url.database)


def _create_engine(url: URL) -> Engine:
    options: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite" and url.database in MEMORY_DATABASES:
        # One shared connection, or the writer thread would see its own empty database.
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    try:
        engine = create_engine(url, **options)
    except NoSuchModuleError:
        raise MonitorError(
            f"unknown database kind '{url.drivername}' in store.url ({URL_EXAMPLES})"
        ) from None
    except ImportError as exc:
        raise MonitorError(
            f"the database driver for '{url.drivername}' is not installed ({exc}); "
            "install it with pip, or use a sqlite:/// URL"
        ) from None
    except ArgumentError as exc:
        raise MonitorError(f"store.url is not usable: {exc} ({URL_EXAMPLES})") from None
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per connection: enforce foreign keys; wait a little, not long, for a lock."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _use_wal(engine: Engine) -> None:
    """WAL lets readers (review, CLI) work while the writer writes; the mode stays in the file."""
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode=WAL").scalar()
    if str(mode).lower() != "wal":
        log.warning("SQLite refused WAL mode (journal mode %s): readers may block the writer", mode)
