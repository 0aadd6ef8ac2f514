"""`painmon export`: one selection of the record, written as CSV, a PDF report or a FHIR bundle,
and an audit entry for every session that left the store that way (none in a read-only archive
copy, which cannot take one: the command says so)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy import Engine

from monitor.config import ReviewSettings
from monitor.review import data
from monitor.review.collect import Progress, SessionData, collect, no_progress
from monitor.review.export_csv import FILES as CSV_FILES
from monitor.review.export_csv import write_csv
from monitor.review.export_fhir import write_fhir
from monitor.review.report_pdf import write_pdf
from monitor.store.database import is_read_only
from monitor.store.files import refuse_all_but_a_regular_file
from monitor.text import plain_text

Writer = Callable[..., list[Path]]
FORMATS: dict[str, Writer] = {"csv": write_csv, "pdf": write_pdf, "fhir": write_fhir}


def export(engine: Engine, settings: ReviewSettings, fmt: str, out: Path, user: str,
           bed: str | None = None, session_key: str | None = None,
           start: datetime | None = None, end: datetime | None = None,
           progress: Progress = no_progress) -> tuple[list[SessionData], list[Path]]:
    """Write the export; returns the sessions it holds and the files written."""
    plain_text(user, "the user name")  # checked before any file is written; audited below
    for path in [out / name for name in CSV_FILES] if fmt == "csv" else [out]:
        refuse_all_but_a_regular_file(path)  # before the record is read (open_private again)
    sessions = collect(engine, settings, bed, session_key, start, end, progress)
    paths = FORMATS[fmt](sessions, out, data.display_zone(settings), progress)
    if is_read_only(engine):
        return sessions, paths
    with engine.begin() as conn:
        for d in sessions:
            data.record_audit(conn, user, "exported", d.session, {
                "format": fmt, "to": str(out), "episodes": len(d.episodes),
                "from": start.isoformat() if start else None,
                "until": end.isoformat() if end else None,
            })
    return sessions, paths
