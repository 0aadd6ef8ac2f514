"""Rows a stopping writer could not write (a full disk, a database gone), kept for the next start.

At the end of a session the writer has a few seconds to write what it holds. What the database
still refuses then is written to a private file in this user's state folder (`unwritten/`,
usually not on the disk a full record fills), and the next start that opens the same database
writes it there first, before recovery looks for crashed sessions, so a kept clean end is not
taken for a crash. Where even that file cannot be written the rows are lost, and the run says so.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor import paths
from monitor.store.database import explain
from monitor.store.writer import Unwritten, write_unwritten

log = logging.getLogger(__name__)

SUFFIX = ".rows.json"


def kept_dir() -> Path:
    return paths.state_dir() / "unwritten"


def keep(database: str, unwritten: Unwritten, folder: Path | None = None) -> Path:
    """Write `unwritten` for `database` (a URL) to a new private file; OSError if it cannot."""
    folder = folder or kept_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{uuid.uuid4().hex}{SUFFIX}"
    text = json.dumps({"database": database, "rows": unwritten.rows,
                       "closes": {str(k): v for k, v in unwritten.closes.items()}},
                      default=_encode)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
    except OSError:
        path.unlink(missing_ok=True)
        raise
    return path


def write_kept(engine: Engine, folder: Path | None = None) -> int:
    """Write every kept file for this database into it and delete it; the rows written. A file
    the database still refuses stays for the next start."""
    written = 0
    for path in sorted((folder or kept_dir()).glob(f"*{SUFFIX}")):
        try:
            kept = json.loads(path.read_text(), object_hook=_decode)
        except (OSError, ValueError) as exc:
            log.warning("kept rows %s cannot be read (%s): left in place", path, exc)
            continue
        if kept.get("database") != str(engine.url):
            continue
        unwritten = Unwritten([tuple(row) for row in kept["rows"]],
                              {int(k): v for k, v in kept["closes"].items()})
        try:
            write_unwritten(engine, unwritten)
        except SQLAlchemyError as exc:
            log.warning("kept rows %s not written yet (%s): kept for the next start", path,
                        explain(exc))
            continue
        path.unlink(missing_ok=True)
        written += len(unwritten.rows)
        log.info("%d rows kept from an earlier run are now written (%s)", len(unwritten.rows),
                 path.name)
    return written


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"cannot keep a {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if obj.keys() == {"$datetime"}:
        return datetime.fromisoformat(obj["$datetime"])
    if obj.keys() == {"$bytes"}:
        return base64.b64decode(obj["$bytes"])
    return obj
