"""Store and forward: copy a bedside database to the ward's central store (PostgreSQL).

Idempotent and resumable without any bookkeeping that could disagree with the data:
- sessions are matched by `uid`, episodes by (session, number); both are upserted, since a live
  session's heartbeat, end and episodes keep changing;
- the append-only tables (samples, traces, alarm events, annotations, session audit entries) are
  copied in id order, each copy keeping its bedside id in `origin_id`. Where to resume is the
  highest `origin_id` already in the central store for that session, and each batch commits in
  one transaction, so a forward cut off anywhere (network, server restart, Ctrl-C) and run again
  copies exactly the rest; a unique index on (session, origin_id) refuses any duplicate.

Store-wide audit entries (purges, forwards) stay in the database where they happened.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy import Connection, Engine, Table, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from monitor.config import ReviewSettings
from monitor.errors import MonitorError, RuntimeFault
from monitor.review import data
from monitor.review.collect import Progress, no_progress
from monitor.store.database import describe_url, explain
from monitor.store.queries import Record
from monitor.store.schema import TRACE

log = logging.getLogger(__name__)

SESSION, EPISODE, ANNOTATION = data.SESSION, data.EPISODE, data.ANNOTATION
# Copied in this order: each after what it refers to.
APPEND_ONLY: tuple[Table, ...] = (data.SAMPLE, TRACE, data.EVENT, ANNOTATION, data.AUDIT)
SESSION_COPIED = [c.name for c in SESSION.columns if c.name not in ("id", "purged_at")]
EPISODE_COPIED = [c.name for c in EPISODE.columns if c.name not in ("id", "session_id")]
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
VERIFIED = ("verify-ca", "verify-full")
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class ForwardReport:
    sessions: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def central_url(url: str, settings: ReviewSettings,
                environ: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """The URL to connect with (password added from the keyring when needed) and warnings.

    TLS settings come from the URL (sslmode, sslrootcert, sslcert, sslkey: libpq's own names).
    The password never comes from the URL (shell history, process lists): PGPASSWORD or a
    PGPASSFILE in the environment, or the keyring under `review.keyring_service`.
    """
    environ = os.environ if environ is None else environ
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise MonitorError("--to is not a valid database URL (e.g. "
                           "postgresql+psycopg://painmon@central.ward/painmon?sslmode=verify-full)"
                           ) from None
    if parsed.password is not None:
        raise MonitorError("do not put the password in the URL: set PGPASSWORD or store it with "
                           f"`keyring set {settings.keyring_service} USER@HOST`")
    warnings: list[str] = []
    if parsed.get_backend_name() != "postgresql":
        return url, warnings
    sslmode = parsed.query.get("sslmode")
    if sslmode is not None and sslmode not in SSL_MODES:
        raise MonitorError(f"sslmode={sslmode} is not one of {', '.join(SSL_MODES)}")
    if parsed.host not in LOOPBACK and sslmode not in VERIFIED:
        warnings.append(f"the connection to {parsed.host} is not verified TLS: add "
                        "sslmode=verify-full&sslrootcert=/path/to/ward-ca.pem to the URL")
    if not (environ.get("PGPASSWORD") or environ.get("PGPASSFILE")):
        password = _keyring_password(settings.keyring_service, f"{parsed.username}@{parsed.host}")
        if password is not None:
            parsed = parsed.set(password=password)
    return parsed.render_as_string(hide_password=False), warnings


def _keyring_password(service: str, account: str) -> str | None:
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(service, account)
    except KeyringError as exc:  # no usable keyring on this machine: libpq may still find one
        log.info("no keyring password for %s (%s)", account, exc)
        return None


def forward(source: Engine, target: Engine, settings: ReviewSettings, user: str,
            progress: Progress = no_progress) -> ForwardReport:
    """Copy everything not yet in `target`; a RuntimeFault (with what was done) if cut off: the
    server or the network failed, not the input, and another run copies the rest."""
    report = ForwardReport(rows={table.name: 0 for table in APPEND_ONLY})
    try:
        _forward(source, target, settings, report, progress)
    except SQLAlchemyError as exc:
        raise RuntimeFault(
            f"forwarding to {describe_url(str(target.url))} stopped: {explain(exc)}; "
            f"{report.total} rows were copied; run it again to copy the rest") from None
    with source.begin() as conn:
        data.record_audit(conn, user, "forwarded", None, {
            "to": describe_url(str(target.url)), "sessions": report.sessions, "rows": report.rows,
        })
    return report


def _forward(source: Engine, target: Engine, settings: ReviewSettings, report: ForwardReport,
             progress: Progress) -> None:
    with source.connect() as conn:
        sessions = [Record(r._mapping) for r in conn.execute(
            select(SESSION).where(SESSION.c.purged_at.is_(None)).order_by(SESSION.c.id))]
    plans = []
    with target.begin() as central:
        for session in sessions:
            central_id = _upsert_session(central, session)
            if central_id is not None:
                plans.append((session, central_id, _watermarks(central, central_id)))
    with source.connect() as conn:
        pending = {(s.id, t.name): _count_after(conn, t, s.id, marks[t.name])
                   for s, _, marks in plans for t in APPEND_ONLY}
    total, done = sum(pending.values()), 0
    progress(0, total, f"{total} rows to forward from {len(plans)} sessions")
    for session, central_id, marks in plans:
        episodes = _EpisodeMap(source, target, session.id, central_id)
        for table in APPEND_ONLY:
            mark = marks[table.name]
            while pending[(session.id, table.name)] > 0:
                with source.connect() as conn:
                    rows = _rows_after(conn, table, session.id, mark, settings.forward_batch_rows)
                if not rows:
                    break
                with target.begin() as central:
                    copies = [_copy(table, row, central_id, episodes, central) for row in rows]
                    central.execute(insert(table), copies)
                mark = rows[-1].id
                pending[(session.id, table.name)] -= len(rows)
                report.rows[table.name] += len(rows)
                done += len(rows)
                progress(done, total, f"{table.name} of session {session.uid}")
        with target.begin() as central:  # the session may have moved on meanwhile
            _upsert_session(central, _reread(source, session.id))
            episodes.sync_all(central)
        report.sessions += 1


def _reread(source: Engine, session_id: int) -> Record:
    with source.connect() as conn:
        return Record(conn.execute(select(SESSION).where(SESSION.c.id == session_id)).one()._mapping)


def _upsert_session(central: Connection, session: Record) -> int | None:
    """The central id of the session (inserted or brought up to date); None if purged there."""
    values = {name: session[name] for name in SESSION_COPIED}
    row = central.execute(select(SESSION).where(SESSION.c.uid == session.uid)).first()
    if row is None:
        return central.execute(insert(SESSION).values(**values)).inserted_primary_key[0]
    if row.purged_at is not None:
        return None
    if any(getattr(row, name) != value for name, value in values.items()):
        central.execute(update(SESSION).where(SESSION.c.id == row.id).values(**values))
    return row.id


def _scope(table: Table, session_id: int) -> Any:
    """Rows of `table` that belong to the session (annotations through their episode)."""
    if table is ANNOTATION:
        return ANNOTATION.c.episode_id.in_(
            select(EPISODE.c.id).where(EPISODE.c.session_id == session_id))
    return table.c.session_id == session_id


def _watermarks(central: Connection, central_id: int) -> dict[str, int]:
    return {table.name: central.execute(select(func.max(table.c.origin_id))
                                        .where(_scope(table, central_id))).scalar() or 0
            for table in APPEND_ONLY}


def _count_after(conn: Connection, table: Table, session_id: int, mark: int) -> int:
    return conn.execute(select(func.count()).select_from(table)
                        .where(_scope(table, session_id), table.c.id > mark)).scalar_one()


def _rows_after(conn: Connection, table: Table, session_id: int, mark: int,
                limit: int) -> list[Record]:
    query = (select(table).where(_scope(table, session_id), table.c.id > mark)
             .order_by(table.c.id).limit(limit))
    return [Record(r._mapping) for r in conn.execute(query)]


def _copy(table: Table, row: Record, central_id: int, episodes: _EpisodeMap,
          central: Connection) -> dict[str, Any]:
    copy = {k: v for k, v in row.items() if k != "id"} | {"origin_id": row.id}
    if "session_id" in copy:
        copy["session_id"] = central_id
    if copy.get("episode_id") is not None:
        copy["episode_id"] = episodes.central_id(central, copy["episode_id"])
    return copy


class _EpisodeMap:
    """Bedside episode id -> central episode id, upserting an episode the first time it is met
    (a live session may have begun one after this forward started)."""

    def __init__(self, source: Engine, target: Engine, session_id: int, central_id: int) -> None:
        self._source, self._session_id, self._central_session = source, session_id, central_id
        self._ids: dict[int, int] = {}
        with target.begin() as central:
            self.sync_all(central)

    def sync_all(self, central: Connection) -> None:
        with self._source.connect() as conn:
            rows = [Record(r._mapping) for r in conn.execute(
                select(EPISODE).where(EPISODE.c.session_id == self._session_id))]
        for row in rows:
            self._ids[row.id] = self._upsert(central, row)

    def central_id(self, central: Connection, local_id: int) -> int:
        if local_id not in self._ids:
            with self._source.connect() as conn:
                row = Record(conn.execute(select(EPISODE).where(EPISODE.c.id == local_id))
                             .one()._mapping)
            self._ids[local_id] = self._upsert(central, row)
        return self._ids[local_id]

    def _upsert(self, central: Connection, episode: Record) -> int:
        values = {name: episode[name] for name in EPISODE_COPIED}
        where = ((EPISODE.c.session_id == self._central_session)
                 & (EPISODE.c.number == episode.number))
        row = central.execute(select(EPISODE).where(where)).first()
        if row is None:
            return central.execute(insert(EPISODE).values(
                session_id=self._central_session, **values)).inserted_primary_key[0]
        if any(getattr(row, name) != value for name, value in values.items()):
            central.execute(update(EPISODE).where(EPISODE.c.id == row.id).values(**values))
        return row.id

