"""Schema versions with Alembic, run from code: no alembic.ini, works from an installed package.

New revisions: `command.revision(alembic_config(conn), message=..., autogenerate=True)` with a
connection to a database at head.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from monitor.errors import MonitorError
from monitor.store.files import create_private_file

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic settings built in code; env.py runs on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}: the package is incomplete")
    return head


def check_current(engine: Engine) -> None:
    """For a database that must not be written: its schema must be this version's."""
    head = head_revision()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    if current is None:
        raise MonitorError("it holds no painmon schema version: it belongs to another program")
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current not in known:
        raise MonitorError(f"it was written by a newer painmon (schema revision {current}); "
                           "upgrade painmon")
    raise MonitorError(f"it was written by an older painmon (schema revision {current}) and "
                       "cannot be upgraded where it lies: copy it to a writable folder first")


def upgrade(engine: Engine, sqlite_path: Path | None) -> None:
    """Bring the database to head; back up a SQLite file first when it holds an older schema."""
    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        tables = inspect(conn).get_table_names()
    if current == head:
        return
    if current is None and tables:
        raise MonitorError(
            "the database holds tables but no painmon schema version: it belongs to another "
            "program; choose another database (store.url)"
        )
    if current is not None:
        if current not in {rev.revision for rev in script.walk_revisions()}:
            raise MonitorError(
                f"the database was written by a newer painmon (schema revision {current}); "
                "upgrade painmon or choose another database (store.url)"
            )
        if sqlite_path is not None:
            backup_sqlite(sqlite_path, f"before-{head}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    log.info("database schema upgraded from %s to %s", current or "empty", head)


def backup_sqlite(path: Path, tag: str) -> Path:
    """Consistent copy (SQLite backup API, safe with WAL) beside the file; returns its path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{tag}.{stamp}.bak")
    create_private_file(target, exclusive=True)
    source = sqlite3.connect(path)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    log.info("backed up %s to %s before migrating", path, target)
    return target
