"""`painmon purge --older-than DAYS`: remove the record of sessions last seen more than DAYS ago.

Samples, traces, episodes, alarm events and annotations go; the session row stays, marked
`purged_at`, because the audit log (which is never deleted) refers to it. The deletion and its
audit entry are one transaction. On SQLite, secure_delete overwrites the freed pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, delete, select, update

from monitor.errors import MonitorError
from monitor.review import data
from monitor.store.schema import TRACE

PURGED = (data.ANNOTATION, data.EVENT, data.EPISODE, data.SAMPLE, TRACE)


@dataclass(frozen=True)
class PurgeReport:
    sessions: list[str]  # uids
    rows: dict[str, int]


def purge(engine: Engine, older_than_days: int, user: str, dry_run: bool = False,
          now: datetime | None = None) -> PurgeReport:
    """Purge sessions whose last sign of life (end, else heartbeat) is older than the cutoff."""
    if older_than_days < 1:
        raise MonitorError("--older-than must be at least 1 day")
    now = now or datetime.now(timezone.utc)
    try:
        cutoff = now - timedelta(days=older_than_days)
    except OverflowError:
        raise MonitorError(f"--older-than {older_than_days} days reaches before the year 1: "
                           f"give at most {(now - datetime.min.replace(tzinfo=now.tzinfo)).days}") from None
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
        sessions = conn.execute(select(data.SESSION.c.id, data.SESSION.c.uid).where(
            data.SESSION.c.purged_at.is_(None), data.LAST_SEEN < cutoff)).all()
        ids = [row.id for row in sessions]
        episodes = select(data.EPISODE.c.id).where(data.EPISODE.c.session_id.in_(ids))
        rows: dict[str, int] = {}
        for table in PURGED:
            scope = (table.c.episode_id.in_(episodes) if table is data.ANNOTATION
                     else table.c.session_id.in_(ids))
            if dry_run:
                rows[table.name] = len(conn.execute(select(table.c.id).where(scope)).all())
            else:
                rows[table.name] = conn.execute(delete(table).where(scope)).rowcount
        report = PurgeReport([row.uid for row in sessions], rows)
        if dry_run:
            return report
        conn.execute(update(data.SESSION).where(data.SESSION.c.id.in_(ids)).values(purged_at=now))
        data.record_audit(conn, user, "purged", None, {
            "older_than_days": older_than_days, "cutoff": cutoff.isoformat(),
            "sessions": report.sessions, "rows": rows,
        }, at=now)
    return report
